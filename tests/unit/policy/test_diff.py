"""Policy diff: each kind of change explained in words and classified (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from mamori.errors import PolicyError
from mamori.policy.diff import Level, Timing, diff_policies
from mamori.policy.loader import load_policy
from mamori.policy.model import Policy
from tests.helpers import edits
from tests.helpers.edits import edited, item, purpose
from tests.helpers.paths import EXAMPLE


@pytest.fixture(scope="module")
def example() -> Policy:
    return load_policy(EXAMPLE)


def test_the_same_policy_has_no_changes(example: Policy) -> None:
    result = diff_policies(example, example)
    assert result.unchanged
    assert result.level is Level.cosmetic
    assert result.explain("ja") == []


def test_wording_only_is_cosmetic(example: Policy) -> None:
    def reword(data: dict[str, Any]) -> None:
        data["preamble"][0]["en"] = "Kokochie Co., Ltd. sets out this privacy policy."
        item(data, "email")["label"]["en"] = "E-mail address"

    result = diff_policies(example, edited(reword, edits.revision))
    assert result.level is Level.cosmetic
    assert {c.kind for c in result.changes} == {"wording", "item_wording", "revision_added"}
    assert any("前文" in line for line in result.explain("ja"))
    assert any("the preamble" in line for line in result.explain("en"))
    assert not result.consent_uses


def test_a_related_new_purpose_needs_a_notice_only(example: Policy) -> None:
    result = diff_policies(example, edited(edits.related_purpose))
    assert result.level is Level.notify
    assert result.consent_uses == frozenset()
    text = "\n".join(result.explain("ja"))
    assert "ご利用の記念日をお知らせするため" in text
    assert "関連性を有する範囲内" in text


def test_an_unrelated_new_purpose_for_items_held_needs_consent(example: Policy) -> None:
    result = diff_policies(example, edited(edits.unrelated_purpose))
    assert result.level is Level.consent_required
    assert result.consent_uses == {("email", "partner_offers"), ("address", "partner_offers")}
    assert any(
        "will be used for “To tell you about partners' offers”" in line and "unrelated" in line
        for line in result.explain("en")
    )


def test_related_to_counts_only_purposes_that_used_the_item(example: Policy) -> None:
    # promotion used email but never the identity document: that use is not related.
    def widen(data: dict[str, Any]) -> None:
        edits.related_purpose(data)
        purpose(data, "anniversary_mail")["items"].append("identity_document")

    result = diff_policies(example, edited(widen))
    assert result.level is Level.consent_required
    assert result.consent_uses == {("identity_document", "anniversary_mail")}


def test_an_existing_purpose_gaining_an_item_is_judged_by_related_to(example: Policy) -> None:
    def gain(data: dict[str, Any]) -> None:
        purpose(data, "promotion")["items"].append("phone")

    def gain_related(data: dict[str, Any]) -> None:
        gain(data)
        purpose(data, "promotion")["related_to"] = ["inquiries"]  # inquiries used phone

    unrelated = diff_policies(example, edited(gain))
    assert unrelated.level is Level.consent_required
    assert unrelated.consent_uses == {("phone", "promotion")}
    related = diff_policies(example, edited(gain_related))
    assert related.level is Level.notify
    assert related.consent_uses == frozenset()


def test_statistics_that_identify_nobody_need_a_notice_only(example: Policy) -> None:
    def gain(data: dict[str, Any]) -> None:
        purpose(data, "statistics")["items"].append("address")

    result = diff_policies(example, edited(gain))
    assert result.level is Level.notify
    assert "統計としてのみ" in "\n".join(result.explain("ja"))


def test_a_new_sensitive_item_needs_consent(example: Policy) -> None:
    result = diff_policies(example, edited(edits.sensitive_item))
    assert result.level is Level.consent_required
    assert result.consent_uses == {("allergies", "service_operation")}
    assert any("要配慮個人情報の項目「食物アレルギー」" in line for line in result.explain("ja"))


def test_an_item_becoming_sensitive_needs_consent(example: Policy) -> None:
    def sensitive(data: dict[str, Any]) -> None:
        item(data, "content")["sensitive"] = True

    result = diff_policies(example, edited(sensitive))
    assert result.level is Level.consent_required
    assert ("content", "service_operation") in result.consent_uses
    assert ("content", "campaigns") in result.consent_uses


def test_a_new_ordinary_item_needs_a_notice(example: Policy) -> None:
    def birthday(data: dict[str, Any]) -> None:
        data["items"].append(
            {
                "id": "birthday",
                "label": {"ja": "生年月日", "en": "Date of birth"},
                "category": "profile",
                "kind": "date",
                "source": "provided",
                "subjects": ["customer"],
            }
        )
        purpose(data, "campaigns")["items"].append("birthday")

    result = diff_policies(example, edited(birthday))
    assert result.level is Level.notify
    assert result.consent_uses == frozenset()
    assert "New data item “Date of birth” will be collected" in "\n".join(result.explain("en"))


def test_a_new_joint_user_needs_consent(example: Policy) -> None:
    result = diff_policies(example, edited(edits.joint_user))
    assert result.level is Level.consent_required
    assert result.consent_recipients == ("joint_use:service_partners:提携する式場",)
    assert result.consent_uses == frozenset()
    assert "Partner wedding venues" in "\n".join(result.explain("en"))


def test_joint_use_purposes_and_its_responsible_party_are_told_in_advance(
    example: Policy,
) -> None:
    for edit, kind in (
        (edits.joint_use_purposes, "joint_use_purposes"),
        (edits.joint_use_responsible_replaced, "joint_use_responsible"),
        (edits.joint_user_shipping, "joint_user_purposes"),
    ):
        result = diff_policies(example, edited(edit))
        assert result.level is Level.notify, kind
        [change] = [c for c in result.changes if c.kind == kind]
        assert change.timing is Timing.in_advance
        assert result.in_advance == (change,)
        assert change.to_json()["timing"] == "in_advance"
        [line] = [x for x in result.explain("ja") if "27条6項" in x]
        assert "あらかじめ" in line
        assert "before it applies" in "\n".join(result.explain("en"))
    text = "\n".join(diff_policies(example, edited(edits.joint_use_purposes)).explain("ja"))
    assert "共同利用者による新商品の案内のため" in text


def test_a_new_address_of_the_responsible_party_is_told_without_delay(example: Policy) -> None:
    result = diff_policies(example, edited(edits.joint_use_responsible_moved))
    [change] = result.changes
    assert (change.kind, change.level, change.timing) == (
        "joint_use_responsible_details",
        Level.notify,
        Timing.without_delay,
    )
    assert result.in_advance == ()
    assert "遅滞なく" in result.explain("ja")[0]
    assert "without delay" in result.explain("en")[0]


def test_other_changes_carry_no_timing(example: Policy) -> None:
    result = diff_policies(example, edited(edits.joint_user, edits.related_purpose))
    assert all(c.timing is None for c in result.changes)
    assert all("timing" not in c.to_json() for c in result.changes)


def test_a_foreign_transfer_needs_consent_and_a_domestic_contractor_a_notice(
    example: Policy,
) -> None:
    foreign = diff_policies(example, edited(edits.foreign_contractor))
    assert foreign.level is Level.consent_required
    assert foreign.consent_recipients == ("contractor:mailer",)
    assert "外国(US)にある委託先" in "\n".join(foreign.explain("ja"))

    def domestic(data: dict[str, Any]) -> None:
        edits.foreign_contractor(data)
        mailer = data["recipients"][-1]
        mailer["country"] = "JP"
        del mailer["foreign"]

    assert diff_policies(example, edited(domestic)).level is Level.notify


def test_removals_and_purpose_rewording_need_a_notice(example: Policy) -> None:
    def remove(data: dict[str, Any]) -> None:
        data["purposes"] = [p for p in data["purposes"] if p["id"] != "advertising"]
        data["items"] = [i for i in data["items"] if i["id"] != "advertising_id"]
        data["recipients"] = [r for r in data["recipients"] if "advertising" not in r["purposes"]]
        entry = data["collection"]["groups"][2]["entries"][1]
        entry["items"].remove("advertising_id")
        purpose(data, "shipping")["label"]["ja"] = "商品等を発送するため"

    result = diff_policies(example, edited(remove))
    assert result.level is Level.notify
    assert {"purpose_removed", "item_removed", "purpose_changed"} <= {
        c.kind for c in result.changes
    }
    assert "利用目的「商品等や景品等を手配または発送するため」を「商品等を発送するため」に変更" in (
        "\n".join(result.explain("ja"))
    )


def test_cookies_and_operator_changes_are_explained(example: Policy) -> None:
    def cookies(data: dict[str, Any]) -> None:
        data["cookies"]["services"] = [s for s in data["cookies"]["services"] if s["id"] != "a8net"]
        data["recipients"] = [r for r in data["recipients"] if r["id"] != "a8net"]
        data["operator"]["address"]["ja"] = "東京都渋谷区1-1-1"

    result = diff_policies(example, edited(cookies))
    assert result.level is Level.notify
    text = "\n".join(result.explain("en"))
    assert "Cookie service removed: “A8.net”" in text
    assert "the operator's name, address or representative" in text


def test_level_marks_and_order(example: Policy) -> None:
    result = diff_policies(example, edited(edits.joint_user, edits.revision))
    lines = result.explain("ja")
    assert lines[0].startswith("[同意が必要]")
    assert lines[-1].startswith("[文言の修正のみ]")
    assert result.to_json()["level"] == "consent_required"


def test_related_to_must_name_a_declared_purpose() -> None:
    def typo(data: dict[str, Any]) -> None:
        edits.related_purpose(data)
        purpose(data, "anniversary_mail")["related_to"] = ["promotoin"]

    with pytest.raises(PolicyError) as caught:
        edited(typo)
    assert "unknown purpose 'promotoin' (did you mean 'promotion'?)" in str(caught.value.problems)
