"""The API models name what the domain knows: the request types and grounds are the domain's
(the models import only pydantic, so they restate them and this test keeps them equal)."""

from __future__ import annotations

import typing

from mamori.requests.model import Ground, RequestType
from mamori.web.api.schemas import GroundName, RequestIn, RequestTypeName


def test_request_types_and_grounds_are_the_domains() -> None:
    assert list(typing.get_args(RequestTypeName)) == [t.value for t in RequestType]
    assert list(typing.get_args(GroundName)) == [g.value for g in Ground]


def test_request_bodies_mark_their_policy_ids() -> None:
    schema = RequestIn.model_json_schema()
    assert schema["properties"]["items"]["items"]["x-policy"] == "items"
    assert schema["properties"]["type"]["enum"][0] == "disclosure"
