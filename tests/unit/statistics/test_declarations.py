"""A purpose's statistics and pseudonymised declarations are checked with the path and the
reason: dimensions of the wrong kind or outside the purpose's items, kept identifiers, an
identifier code pseudonymised; the published policy says a purpose is pseudonymised."""

from __future__ import annotations

from typing import Any

import pytest

from mamori.errors import PolicyError
from mamori.policy.render import render_policy
from tests.helpers.edits import edited, purpose
from tests.helpers.statistics import statistics_policy


def _problems(*edits: Any) -> str:
    with pytest.raises(PolicyError) as caught:
        edited(statistics_policy, *edits)
    return str(caught.value)


def test_the_test_policy_is_valid_and_compiles() -> None:
    policy = edited(statistics_policy)
    research = next(p for p in policy.purposes if p.id == "research")
    assert research.pseudonymised is not None
    assert research.pseudonymised.keep == ["device_model", "os_version"]


def test_a_dimension_of_the_wrong_kind_or_item_is_refused() -> None:
    def wrong_kind(data: dict[str, Any]) -> None:
        purpose(data, "statistics")["statistics"]["dimensions"][0]["item"] = "device_model"

    def not_in_items(data: dict[str, Any]) -> None:
        purpose(data, "statistics")["statistics"]["dimensions"][2]["item"] = "email"

    assert "dimensions[0].item: a prefecture dimension derives from an item of kind address" in (
        _problems(wrong_kind)
    )
    assert "item 'email' is not among the purpose's items" in _problems(not_in_items)


def test_kept_identifiers_and_pseudonymised_identifier_codes_are_refused() -> None:
    def keep_name(data: dict[str, Any]) -> None:
        purpose(data, "research")["pseudonymised"]["keep"].append("name")

    def hash_document(data: dict[str, Any]) -> None:
        purpose(data, "research")["pseudonymised"]["pseudonymise"].append("identity_document")

    assert "item 'name' must be dropped or pseudonymised (direct_identifier)" in _problems(
        keep_name
    )
    assert "item 'identity_document' must be dropped (identifier_code" in _problems(hash_document)


def test_the_policy_page_says_the_purpose_is_pseudonymised() -> None:
    policy = edited(statistics_policy)
    assert "（仮名加工情報として利用します）" in render_policy(policy, lang="ja", fmt="md")
    assert "(used as pseudonymised information)" in render_policy(policy, lang="en", fmt="md")
