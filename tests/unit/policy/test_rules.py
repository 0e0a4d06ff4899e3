"""The compiled rules every vault read passes (pure)."""

from __future__ import annotations

import pytest

from mamori.errors import UnknownItem, UnknownPurpose, UserInputError
from mamori.policy.loader import load_policy
from mamori.policy.rules import Refusal, Rules, compile_rules
from tests.helpers.paths import EXAMPLE


@pytest.fixture(scope="module")
def rules() -> Rules:
    return compile_rules(load_policy(EXAMPLE), 1)


def decide(rules: Rules, item: str, purpose: str, **kw: object) -> Refusal | None:
    args: dict[str, object] = {
        "subject_type": "customer",
        "granted": None,
        "stopped_items": frozenset(),
        "stopped_purposes": frozenset(),
        "withdrawn": False,
    }
    args.update(kw)
    return rules.decide(purpose_id=purpose, item_id=item, **args)  # type: ignore[arg-type]


def test_allowed(rules: Rules) -> None:
    assert decide(rules, "email", "service_operation") is None


@pytest.mark.parametrize(
    ("item", "purpose", "kw", "reason"),
    [
        ("email", "service_operation", {"withdrawn": True}, Refusal.withdrawn),
        ("contact_email", "business_communication", {}, Refusal.not_for_subject_type),
        ("identity_document", "promotion", {}, Refusal.purpose_not_allowed),
        ("email", "promotion", {"granted": frozenset({"shipping"})}, Refusal.key_not_granted),
        ("device_model", "statistics", {}, Refusal.statistics_only),
        ("phone", "shipping", {"stopped_items": frozenset({"phone"})}, Refusal.stopped_by_person),
        (
            "email",
            "promotion",
            {"stopped_purposes": frozenset({"promotion"})},
            Refusal.stopped_by_person,
        ),
    ],
)
def test_each_refusal(
    rules: Rules, item: str, purpose: str, kw: dict[str, object], reason: Refusal
) -> None:
    assert decide(rules, item, purpose, **kw) is reason


def test_withdrawal_outranks_everything(rules: Rules) -> None:
    got = decide(
        rules,
        "identity_document",
        "promotion",
        withdrawn=True,
        granted=frozenset(),
        stopped_items=frozenset({"identity_document"}),
    )
    assert got is Refusal.withdrawn


def test_what_a_person_may_stop(rules: Rules) -> None:
    assert not rules.item_stoppable("email")  # essential: stops only on withdrawal
    assert rules.item_stoppable("phone")
    assert not rules.purpose_stoppable("service_operation")
    assert rules.purpose_stoppable("promotion") and rules.purpose_stoppable("advertising")


def test_unknown_names_get_the_nearest(rules: Rules) -> None:
    with pytest.raises(UnknownItem, match=r"'emial' \(did you mean 'email'\?\)"):
        rules.wanted("service_operation", ["emial"])
    with pytest.raises(UnknownPurpose, match=r"did you mean 'promotion'"):
        rules.wanted("promoton", ["email"])
    with pytest.raises(UserInputError, match="at least one item"):
        rules.wanted("promotion", [])
    assert rules.wanted("promotion", ["email", "email", "name"]) == ["email", "name"]
