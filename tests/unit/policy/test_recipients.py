"""Recipients in the declaration (APPI 27-31): what each relationship needs, checked with precise
messages; what the policy page must show; how a change to them is classified."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from mamori.errors import PolicyError
from mamori.policy.diff import Level, diff_policies
from mamori.policy.loader import canonical_json, parse_policy
from mamori.policy.model import Relationship
from mamori.policy.render import render_policy
from tests.helpers.edits import edited, edited_text

Edit = Callable[[dict[str, Any]], None]


def _recipient(data: dict[str, Any], recipient_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in data["recipients"] if r["id"] == recipient_id)
    return found


def _problems(edit: Edit) -> dict[str, str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(edited_text(edit), "policy.yaml")
    return {p.path: p.message for p in caught.value.problems}


def test_the_example_declares_the_recipients_its_text_implies() -> None:
    policy = edited()
    by = {r.id: r for r in policy.recipients}
    assert {r.relationship for r in policy.recipients} == {
        Relationship.joint_user,
        Relationship.third_party,
        Relationship.contractor,
    }
    assert by["payment_processor"].joint_use == "service_partners"
    assert by["google"].country == "US" and by["google"].foreign is not None
    assert by["google"].person_related and by["a8net"].person_related
    assert set(by["google"].cookie_services) == {"google_analytics", "google_ads", "youtube"}
    assert by["hosting"].illustrative and by["hosting"].task is not None
    assert [r.id for r in policy.contractors] == ["hosting"]


def _no_foreign(data: dict[str, Any]) -> None:
    del _recipient(data, "google")["foreign"]


def _half_foreign(data: dict[str, Any]) -> None:
    del _recipient(data, "google")["foreign"]["measures"]


def _both_foreign(data: dict[str, Any]) -> None:
    _recipient(data, "google")["foreign"]["unknown_reason"] = {"ja": "不明", "en": "Unknown"}


def _outside_joint_use(data: dict[str, Any]) -> None:
    _recipient(data, "sales_agency")["items"].append("content")


def _joint_user_without_joint_use(data: dict[str, Any]) -> None:
    del _recipient(data, "sales_agency")["joint_use"]


def _unknown_joint_use(data: dict[str, Any]) -> None:
    _recipient(data, "sales_agency")["joint_use"] = "service_partner"


def _third_party_joint_use(data: dict[str, Any]) -> None:
    _recipient(data, "a8net")["joint_use"] = "service_partners"


def _third_party_without_address(data: dict[str, Any]) -> None:
    del _recipient(data, "a8net")["address"]


def _contractor_without_task(data: dict[str, Any]) -> None:
    del _recipient(data, "hosting")["task"]


def _unknown_ids(data: dict[str, Any]) -> None:
    hosting = _recipient(data, "hosting")
    hosting["items"].append("emial")
    hosting["purposes"].append("shiping")
    _recipient(data, "google")["cookie_services"].append("google_adz")


def _domestic_with_foreign(data: dict[str, Any]) -> None:
    _recipient(data, "a8net")["foreign"] = {"unknown_reason": {"ja": "不明", "en": "Unknown"}}


def _bad_relationship(data: dict[str, Any]) -> None:
    _recipient(data, "hosting")["relationship"] = "partner"


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (_no_foreign, "recipients[3].foreign", "is in US: give its APPI 28 information"),
        (_half_foreign, "recipients[3].foreign.measures", "is in US: give its APPI 28"),
        (_both_foreign, "recipients[3].foreign.unknown_reason", "not both"),
        (_outside_joint_use, "recipients[1].items[3]", "which joint use 'service_partners'"),
        (_joint_user_without_joint_use, "recipients[1].joint_use", "names no joint use"),
        (
            _unknown_joint_use,
            "recipients[1].joint_use",
            "unknown joint use 'service_partner' (did you mean 'service_partners'?)",
        ),
        (_third_party_joint_use, "recipients[2].joint_use", "only a joint user"),
        (_third_party_without_address, "recipients[2].address", "APPI 29, rule 20"),
        (_contractor_without_task, "recipients[4].task", "has no task"),
        (_unknown_ids, "recipients[4].items[5]", "unknown data item 'emial' (did you mean"),
        (_unknown_ids, "recipients[4].purposes[2]", "unknown purpose 'shiping'"),
        (_unknown_ids, "recipients[3].cookie_services[3]", "unknown cookie service"),
        (_domestic_with_foreign, "recipients[2].foreign", "the operator's country"),
        (_bad_relationship, "recipients[4].relationship", "third_party"),
    ],
    ids=lambda v: getattr(v, "__name__", None) or "",
)
def test_each_recipient_mistake_has_a_precise_message(edit: Edit, path: str, message: str) -> None:
    problems = _problems(edit)
    assert path in problems, problems
    assert message in problems[path]


def test_the_page_names_joint_users_foreign_recipients_and_person_related_ones() -> None:
    ja = render_policy(edited(), lang="ja", fmt="md")
    assert "このうち、現在共同して利用する者は次のとおりです。" in ja
    assert "- クレジットカード決済代行事業者(例)" in ja
    assert "### (3) 外国にある第三者への提供" in ja
    assert "| Google LLC | アメリカ合衆国 | 米国には連邦レベルで" in ja
    assert "### (4) 個人関連情報の提供" in ja and "- Google LLC(アメリカ合衆国)" in ja
    en = render_policy(edited(), lang="en", fmt="md")
    assert "| Google LLC | United States |" in en
    assert "- Google LLC (United States)" in en


def test_foreign_information_is_shown_only_where_the_operator_publishes_it() -> None:
    def unpublished(data: dict[str, Any]) -> None:
        _recipient(data, "google")["foreign"]["publish"] = False

    def unknown(data: dict[str, Any]) -> None:
        foreign = _recipient(data, "google")["foreign"]
        foreign.clear()
        foreign["unknown_reason"] = {"ja": "移転先の国を特定できないため", "en": "Country unknown"}

    assert "外国にある第三者への提供" not in render_policy(edited(unpublished), lang="ja", fmt="md")
    shown = render_policy(edited(unknown), lang="ja", fmt="md")
    assert shown.count("移転先の国を特定できないため") == 2  # in the system and measures columns


def test_a_recipient_abroad_needs_consent_and_others_a_notice() -> None:
    base = edited()

    def new_abroad(data: dict[str, Any]) -> None:
        google = copy.deepcopy(_recipient(data, "google")) | {"id": "google_ireland"}
        data["recipients"].append(google)

    change = diff_policies(base, edited(new_abroad))
    assert change.level is Level.consent_required
    assert change.consent_recipients == ("third_party:google_ireland",)
    assert "外国(US)にある第三者「Google LLC」に個人データを提供します" in change.explain("ja")[0]

    def more_items(data: dict[str, Any]) -> None:
        _recipient(data, "google")["items"].append("ip_address")
        for p in data["purposes"]:
            if p["id"] == "advertising":
                p["items"].append("ip_address")

    assert "third_party:google" in diff_policies(base, edited(more_items)).consent_recipients

    def domestic(data: dict[str, Any]) -> None:
        data["recipients"] = [r for r in data["recipients"] if r["id"] != "hosting"]

    removed = diff_policies(base, edited(domestic))
    assert removed.level is Level.notify
    assert [c.kind for c in removed.changes] == ["recipient_removed"]
    assert (
        "委託先「クラウドサービス事業者(例)」への個人データの提供をやめます"
        in (removed.explain("ja")[0])
    )


def test_contractors_of_earlier_declarations_are_read_as_recipients() -> None:
    def legacy(data: dict[str, Any]) -> None:
        data.pop("recipients")
        data["contractors"] = [
            {
                "id": "mailer",
                "name": {"ja": "配信会社", "en": "Mailer"},
                "task": {"ja": "メール配信", "en": "Sending mail"},
                "items": ["email"],
                "country": "JP",
            }
        ]

    policy = edited(legacy)
    (mailer,) = policy.recipients
    assert mailer.relationship is Relationship.contractor
    assert "service_operation" in mailer.purposes and "recipients" in canonical_json(policy)


def test_a_policy_without_recipients_keeps_its_content_hash() -> None:
    """Recipients are new: a declaration without them must hash as it did before they were,
    or every deployment would publish a new version of an unchanged policy on upgrade."""
    policy = edited(lambda d: d.pop("recipients"))
    assert policy.recipients == [] and '"recipients"' not in canonical_json(policy)
