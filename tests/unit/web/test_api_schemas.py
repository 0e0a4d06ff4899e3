"""The API models name what the domain knows: the request types and grounds are the domain's
(the models import only pydantic, so they restate them and this test keeps them equal)."""

from __future__ import annotations

import typing

import pydantic
import pytest

from mamori.requests.model import Ground, RequestType
from mamori.web.api.schemas import (
    GroundName,
    RequestIn,
    RequestTypeName,
    SubjectIn,
    valid_unicode,
)


def test_request_types_and_grounds_are_the_domains() -> None:
    assert list(typing.get_args(RequestTypeName)) == [t.value for t in RequestType]
    assert list(typing.get_args(GroundName)) == [g.value for g in Ground]


def test_request_bodies_mark_their_policy_ids() -> None:
    schema = RequestIn.model_json_schema()
    assert schema["properties"]["items"]["items"]["x-policy"] == "items"
    assert schema["properties"]["type"]["enum"][0] == "disclosure"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "\ud800", "items": {}},
        {"type": "customer", "items": {"name": "\udfff"}},
        {"type": "customer", "items": {"\ud83d": "x"}},
        {"type": "customer", "items": {"address": ["東京都", {"line": "a\ud800"}]}},
    ],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError, match="valid Unicode"):
        SubjectIn.model_validate(body)


def test_valid_unicode_passes_every_character() -> None:
    body = {"type": "customer", "items": {"name": "𠮷野家 \U0001f600 \u202e\x00"}}
    assert SubjectIn.model_validate(body).items == body["items"]
    assert valid_unicode(["a", {"b": 1}]) == ["a", {"b": 1}]
