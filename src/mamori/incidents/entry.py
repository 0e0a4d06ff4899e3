"""The input of the register of breaches, checked: times in the operator's time zone, days,
counts, items of the policy, triggers, staff accounts and the free texts. Every refusal is an
:class:`~mamori.errors.IncidentEntryInvalid` naming the field and the problem (a code a page
says in the reader's language); the input is never echoed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from mamori.clock import local_date
from mamori.errors import IncidentEntryInvalid, StaffNotFound
from mamori.incidents import rules
from mamori.incidents.context import IncidentContext, directory
from mamori.incidents.rules import Decision, Trigger
from mamori.incidents.storage import TEXTS

__all__ = [
    "PEOPLE_MAX",
    "TEXT_MAX",
    "Checked",
    "account_id",
    "bad",
    "check",
    "details",
    "parse_day",
    "parse_time",
    "text",
]

TEXT_MAX: Final = 4000
"""The longest text of the report draft, in characters."""
PEOPLE_MAX: Final = 1_000_000_000

_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TEXT_BAD = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
"""Control characters (line breaks and tabs allowed) and bidirectional overrides."""


# -- input -----------------------------------------------------------------------------------


def bad(field_name: str, problem: str, message: str) -> IncidentEntryInvalid:
    return IncidentEntryInvalid(f"{field_name}: {message}", field=field_name, problem=problem)


def parse_time(field_name: str, value: str | dt.datetime | None, zone: str) -> dt.datetime:
    """A moment typed as ``YYYY-MM-DDTHH:MM`` in the operator's time zone (or an aware
    datetime), in UTC; :class:`IncidentEntryInvalid` naming ``field_name`` otherwise."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise bad(field_name, "not_a_time", "give the time with its time zone")
        return value.astimezone(dt.UTC)
    text = (value or "").strip()
    if not text:
        raise bad(field_name, "missing", "give the day and time (YYYY-MM-DDTHH:MM)")
    if not _TIME.fullmatch(text):
        raise bad(field_name, "not_a_time", "not a time: give it as YYYY-MM-DDTHH:MM")
    try:
        local = dt.datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise bad(field_name, "not_a_time", "no such day or time: give YYYY-MM-DDTHH:MM") from None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def parse_day(field_name: str, value: str | dt.date | None) -> dt.date:
    """A calendar day typed as ``YYYY-MM-DD``; :class:`IncidentEntryInvalid` otherwise."""
    if isinstance(value, dt.date):
        return value
    text = (value or "").strip()
    if not text:
        raise bad(field_name, "missing", "give a date (YYYY-MM-DD)")
    if not _DATE.fullmatch(text):
        raise bad(field_name, "not_a_date", "not a date: give it as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise bad(field_name, "not_a_date", "no such day: give it as YYYY-MM-DD") from None


def _count(field_name: str, value: str | int | None, *, required: bool) -> int | None:
    if isinstance(value, int):
        number = value
    else:
        text = (value or "").strip().replace(",", "")
        if not text:
            if required:
                raise bad(field_name, "missing", "give the number of people")
            return None
        if not text.isascii() or not text.isdigit():
            raise bad(field_name, "not_a_number", "give a whole number of people (0 or more)")
        number = int(text)
    if not 0 <= number <= PEOPLE_MAX:
        raise bad(field_name, "not_a_number", "give a whole number of people (0 or more)")
    return number


def text(name: str, value: str | None) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) > TEXT_MAX:
        raise bad(name, "too_long", f"longer than {TEXT_MAX} characters")
    if _TEXT_BAD.search(text):
        raise bad(name, "not_plain", "control characters or direction overrides: write plain text")
    return text


def _items(ctx: IncidentContext, items: Iterable[str]) -> tuple[str, ...]:
    declared = ctx.vault.rules().items
    wanted = list(dict.fromkeys(i.strip() for i in items if i.strip()))
    if not wanted:
        raise bad("items", "missing", "choose at least one item involved")
    for item in wanted:
        if item not in declared:
            raise bad("items", "unknown", "an item the published policy does not declare")
    return tuple(i for i in declared if i in wanted)  # in the policy's order


def _triggers(codes: Iterable[str]) -> tuple[str, ...]:
    try:
        found = rules.parse_triggers(c for c in codes if c)
    except ValueError:
        raise bad("triggers", "unknown", "choose among the listed triggers") from None
    found -= {Trigger.over_1000}  # computed from the count, never set by hand
    return tuple(t.value for t in Trigger if t in found)


def account_id(
    ctx: IncidentContext, staff_id: str | None, field_name: str = "responsible"
) -> str | None:
    """The id of the active staff account ``staff_id`` (None when blank)."""
    text = (staff_id or "").strip()
    if not text:
        return None
    try:
        account = directory(ctx).get(text)
    except StaffNotFound:
        raise bad(field_name, "unknown", "no such staff account") from None
    if not account.active:
        raise bad(field_name, "disabled", "the staff account is disabled")
    return account.id


@dataclass(frozen=True)
class Checked:
    discovered_at: dt.datetime
    aware_at: dt.datetime
    aware_on: dt.date
    items: tuple[str, ...]
    people_estimated: int
    people_confirmed: int | None
    encrypted: bool
    key_leaked: bool
    triggers: tuple[str, ...]
    responsible: str | None
    texts: dict[str, str]


def check(
    ctx: IncidentContext,
    *,
    discovered_at: str | dt.datetime | None,
    aware_at: str | dt.datetime | None,
    items: Iterable[str],
    people_estimated: str | int | None,
    people_confirmed: str | int | None,
    encrypted: bool,
    key_leaked: bool,
    triggers: Iterable[str],
    responsible: str | None,
    texts: Mapping[str, str | None],
) -> Checked:
    zone = ctx.settings.time_zone
    discovered = parse_time("discovered_at", discovered_at, zone)
    aware = parse_time("aware_at", aware_at, zone)
    now = ctx.clock.now()
    for name, moment in (("discovered_at", discovered), ("aware_at", aware)):
        if moment > now + dt.timedelta(minutes=5):
            raise bad(name, "future", "the time is in the future")
    if aware < discovered:
        raise bad("aware_at", "before_discovery", "the operator became aware before discovery")
    unknown = set(texts) - set(TEXTS)
    if unknown:
        raise bad("texts", "unknown", "unknown text field")
    estimated = _count("people_estimated", people_estimated, required=True)
    assert estimated is not None
    return Checked(
        discovered_at=discovered,
        aware_at=aware,
        aware_on=local_date(aware, zone),
        items=_items(ctx, items),
        people_estimated=estimated,
        people_confirmed=_count("people_confirmed", people_confirmed, required=False),
        encrypted=bool(encrypted),
        key_leaked=bool(key_leaked) and bool(encrypted),
        triggers=_triggers(triggers),
        responsible=account_id(ctx, responsible),
        texts={name: text(name, texts.get(name)) for name in TEXTS},
    )


def details(checked: Checked, decision: Decision) -> dict[str, str | int | bool | None]:
    return {
        "aware_on": checked.aware_on.isoformat(),
        "items": len(checked.items),
        "people_estimated": checked.people_estimated,
        "people_confirmed": checked.people_confirmed,
        "encrypted": checked.encrypted,
        "key_leaked": checked.key_leaked,
        "triggers": "/".join(t.value for t in decision.triggers) or None,
        "reportable": decision.reportable,
        "responsible": checked.responsible,
    }
