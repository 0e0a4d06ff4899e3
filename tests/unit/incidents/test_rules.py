"""Reportability and deadlines of a breach (APPI 規則7-8): the four triggers, the strong
encryption exemption (lifted when the key leaked), and the preliminary and final deadlines in
calendar days, the day of awareness being day 1 of the final report's 30 (60) days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from mamori.incidents import rules
from mamori.incidents.rules import Facts, Trigger, decide

MAY_1 = dt.date(2026, 5, 1)


@dataclass(frozen=True)
class Flags:
    sensitive: bool = False
    financial_risk: bool = False


ITEMS = {
    "name": Flags(),
    "medical_history": Flags(sensitive=True),
    "card_number": Flags(financial_risk=True),
}


def test_more_than_1000_people_is_reportable_with_both_deadlines() -> None:
    found = decide(Facts(aware_on=MAY_1, people=1001, items=("name",)), ITEMS)
    assert found.reportable and found.triggers == (Trigger.over_1000,)
    assert found.preliminary_due == dt.date(2026, 5, 4)
    assert found.final_due == dt.date(2026, 5, 30)  # 1 May is day 1 of 30
    assert found.final_days == 30


def test_1000_people_alone_is_not_reportable() -> None:
    found = decide(Facts(aware_on=MAY_1, people=1000, items=("name",)), ITEMS)
    assert not found.reportable and found.triggers == ()
    assert found.preliminary_due is None and found.final_due is None


def test_one_sensitive_record_is_reportable() -> None:
    found = decide(Facts(aware_on=MAY_1, people=1, items=("name", "medical_history")), ITEMS)
    assert found.reportable and found.triggers == (Trigger.sensitive,)
    assert found.final_due == dt.date(2026, 5, 30)


def test_a_financial_risk_item_and_triggers_set_by_hand() -> None:
    found = decide(Facts(aware_on=MAY_1, people=1, items=("card_number",)), ITEMS)
    assert found.triggers == (Trigger.financial_loss,)
    by_hand = decide(
        Facts(
            aware_on=MAY_1,
            people=5,
            items=("name",),
            flagged=frozenset({Trigger.sensitive, Trigger.over_1000}),
        ),
        ITEMS,
    )
    # The count trigger is never taken from staff: 5 people are not more than 1,000.
    assert by_hand.triggers == (Trigger.sensitive,) and by_hand.reportable


def test_encrypted_data_only_is_not_reportable() -> None:
    found = decide(
        Facts(aware_on=MAY_1, people=5000, items=("medical_history",), encrypted=True), ITEMS
    )
    assert not found.reportable and found.exempt
    assert found.triggers == (Trigger.sensitive, Trigger.over_1000)  # still shown
    assert found.preliminary_due is None and found.final_due is None


def test_encrypted_but_the_key_leaked_is_reportable() -> None:
    found = decide(
        Facts(
            aware_on=MAY_1, people=1, items=("medical_history",), encrypted=True, key_leaked=True
        ),
        ITEMS,
    )
    assert found.reportable and not found.exempt


def test_an_improper_purpose_gives_60_days() -> None:
    found = decide(
        Facts(aware_on=MAY_1, people=1, flagged=frozenset({Trigger.improper_purpose})), ITEMS
    )
    assert found.reportable and found.final_days == 60
    assert found.final_due == dt.date(2026, 6, 29)  # 1 May is day 1 of 60


@pytest.mark.parametrize(
    ("aware", "days", "preliminary", "final", "final_60"),
    [
        # Across month ends, a leap day and the year end (calendar days, holidays included).
        (dt.date(2026, 1, 30), 3, dt.date(2026, 2, 2), dt.date(2026, 2, 28), dt.date(2026, 3, 30)),
        (dt.date(2028, 1, 31), 5, dt.date(2028, 2, 5), dt.date(2028, 2, 29), dt.date(2028, 3, 30)),
        (dt.date(2026, 12, 29), 4, dt.date(2027, 1, 2), dt.date(2027, 1, 27), dt.date(2027, 2, 26)),
        (dt.date(2026, 4, 30), 3, dt.date(2026, 5, 3), dt.date(2026, 5, 29), dt.date(2026, 6, 28)),
    ],
)
def test_deadlines_across_month_ends(
    aware: dt.date, days: int, preliminary: dt.date, final: dt.date, final_60: dt.date
) -> None:
    assert rules.preliminary_due(aware, days) == preliminary
    assert rules.final_due(aware, improper_purpose=False) == final
    assert rules.final_due(aware, improper_purpose=True) == final_60
    assert (final - aware).days + 1 == 30  # counted with the day of awareness as day 1


def test_the_preliminary_days_are_3_to_5() -> None:
    with pytest.raises(ValueError, match="3 to 5"):
        rules.preliminary_due(MAY_1, 6)
    with pytest.raises(ValueError, match="3 to 5"):
        rules.preliminary_due(MAY_1, 2)


def test_unknown_trigger_codes_are_refused() -> None:
    assert rules.parse_triggers(["sensitive"]) == {Trigger.sensitive}
    with pytest.raises(ValueError, match="skimming"):
        rules.parse_triggers(["skimming"])
