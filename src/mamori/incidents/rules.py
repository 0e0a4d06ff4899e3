"""Whether an incident must be reported to the PPC, and by when (APPI 法26, 規則7-8). Pure.

**Triggers** (規則7): (1) ``sensitive``: 要配慮個人情報 is involved; (2) ``financial_loss``: data
whose misuse may cause financial loss (card numbers, banking logins); (3) ``improper_purpose``:
the leak may have been done for an improper purpose (intrusion, insider theft and, since
2024-04, data being collected, e.g. web skimming); (4) ``over_1000``: more than 1,000 people
(1,000 is not reportable by this trigger alone). (1)-(3) apply even for one person. An item the
policy marks ``sensitive`` or ``financial_risk`` sets (1) or (2) by itself; staff may set any
trigger by hand (a suspected case counts like an actual one).

**Exemption**: data under strong encryption (高度な暗号化) is exempt, unless the key leaked
too (``key_leaked``), in which case the encryption protects nothing.

**Deadlines** in calendar days in the operator's time zone, counted from the day the operator
became aware (``aware_on``, the local day of ``aware_at``), weekends and holidays included:

- preliminary (速報, "promptly", about 3-5 days): ``aware_on + N`` days, ``N`` being
  MAMORI_INCIDENT_PRELIMINARY_DAYS (3 to 5, default 3): aware on 1 May, due 4 May.
- final (確報): within 30 days (60 for an improper purpose) **with the day of awareness as day
  1** (規則8(2): 知った日から起算して30日以内): the 30th day is ``aware_on + 29`` days. Aware on
  1 May, the final report is due on 30 May (60 days: 29 June). This reading gives the earlier
  of the two possible days (the other would not count the first day), so a report made by it is
  in time under either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

__all__ = [
    "FINAL_DAYS",
    "FINAL_DAYS_IMPROPER",
    "PRELIMINARY_DAYS",
    "THRESHOLD",
    "Decision",
    "Facts",
    "ItemFlags",
    "Trigger",
    "decide",
    "final_due",
    "parse_triggers",
    "preliminary_due",
]

THRESHOLD: Final = 1000
"""More than this many people is a trigger by itself (規則7(4))."""
FINAL_DAYS: Final = 30
FINAL_DAYS_IMPROPER: Final = 60
PRELIMINARY_DAYS: Final = range(3, 6)
"""The days after awareness the preliminary report may be set to (3, 4 or 5)."""


class Trigger(StrEnum):
    """What makes an incident reportable (規則7(1)-(4)). The codes are stored and shown."""

    sensitive = "sensitive"
    financial_loss = "financial_loss"
    improper_purpose = "improper_purpose"
    over_1000 = "over_1000"


class ItemFlags(Protocol):
    """What the policy says of an item (:class:`mamori.policy.model.DataItem` satisfies it)."""

    @property
    def sensitive(self) -> bool: ...

    @property
    def financial_risk(self) -> bool: ...


@dataclass(frozen=True)
class Facts:
    """What is known of an incident, as far as the decision needs it."""

    aware_on: dt.date
    people: int
    """The number of people: confirmed when known, else the estimate."""
    items: tuple[str, ...] = ()
    flagged: frozenset[Trigger] = frozenset()
    """Triggers set by staff (the count trigger is computed, never set by hand)."""
    encrypted: bool = False
    key_leaked: bool = False


@dataclass(frozen=True)
class Decision:
    """Whether an incident is reportable, why, and its two deadlines (None when not)."""

    reportable: bool
    triggers: tuple[Trigger, ...]
    """Every trigger that applies, in the order of 規則7 (also when exempt)."""
    exempt: bool
    """Strongly encrypted and the key did not leak: not reportable whatever the triggers."""
    preliminary_due: dt.date | None
    final_due: dt.date | None
    final_days: int


def preliminary_due(aware_on: dt.date, days: int = 3) -> dt.date:
    """The day the preliminary report (速報) is due: ``days`` (3-5) after the day of awareness."""
    if days not in PRELIMINARY_DAYS:
        raise ValueError("the preliminary report is due 3 to 5 days after awareness")
    return aware_on + dt.timedelta(days=days)


def final_due(aware_on: dt.date, *, improper_purpose: bool) -> dt.date:
    """The last day of the final report (確報): the 30th (60th) day, the day of awareness being
    the first."""
    days = FINAL_DAYS_IMPROPER if improper_purpose else FINAL_DAYS
    return aware_on + dt.timedelta(days=days - 1)


def _triggers(facts: Facts, flags: Mapping[str, ItemFlags]) -> tuple[Trigger, ...]:
    found = set(facts.flagged) - {Trigger.over_1000}
    for item_id in facts.items:
        item = flags.get(item_id)
        if item is None:
            continue
        if item.sensitive:
            found.add(Trigger.sensitive)
        if item.financial_risk:
            found.add(Trigger.financial_loss)
    if facts.people > THRESHOLD:
        found.add(Trigger.over_1000)
    return tuple(t for t in Trigger if t in found)


def decide(
    facts: Facts, flags: Mapping[str, ItemFlags] | None = None, *, preliminary_days: int = 3
) -> Decision:
    """The decision on ``facts``; ``flags`` are the policy's items (item id -> its flags)."""
    triggers = _triggers(facts, flags or {})
    exempt = facts.encrypted and not facts.key_leaked
    reportable = bool(triggers) and not exempt
    improper = Trigger.improper_purpose in triggers
    days = FINAL_DAYS_IMPROPER if improper else FINAL_DAYS
    if not reportable:
        return Decision(False, triggers, exempt, None, None, days)
    return Decision(
        True,
        triggers,
        exempt,
        preliminary_due(facts.aware_on, preliminary_days),
        final_due(facts.aware_on, improper_purpose=improper),
        days,
    )


def parse_triggers(codes: Iterable[str]) -> frozenset[Trigger]:
    """The triggers named by ``codes``; ``ValueError`` naming the first unknown one."""
    found: set[Trigger] = set()
    for code in codes:
        try:
            found.add(Trigger(code))
        except ValueError:
            raise ValueError(code) from None
    return frozenset(found)
