"""The rules of access anomalies, over a page of audit entries. Pure: no I/O.

Each rule reads entries (:class:`Entry`: the stored fields of an audit entry) and returns
:class:`Tally` values: what one actor did in one window (its start, MAMORI_ANOMALY_WINDOW_MINUTES
long) that the rule counts, with the entry numbers as evidence. The evaluation
(:mod:`mamori.anomalies.evaluate`) adds the tallies of successive pages to the stored counts and
asks :func:`exceeds` whether the total raises an alert. The rules:

- ``volume``: people read (``subject.read``, ``subject.lookup``) by one key or staff member in a
  window, above ``max(VOLUME_MIN, VOLUME_FACTOR x median)`` of its previous BASELINE_WINDOWS
  windows (a window without reads counts 0). Each person counts once per window, across
  pages: the evaluation keeps the people of the current windows.
- ``hours``: reads by staff members (``staff:``) outside the usual hours in the operator's time
  zone (across midnight when the end hour is before the start hour). Service keys are left
  out: a host service reads whenever its users are about.
- ``refusals``: refused reads (``purpose_not_allowed``, ``key_not_granted``), REFUSAL_BURST or
  more in a window.
- ``exports``: bulk exports (disclosure packages, ledger and receipt CSVs, bulk reads), more
  than EXPORT_MAX in a window.
- ``new_client``: a staff sign-in from a client (a keyed fingerprint) the member never signed in
  from before; a member's first sign-in only makes its first client known.

Only readers are watched: actors that are neither the system (``system:``) nor a person acting
on their own data (``subject:``).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "EVIDENCE_MAX",
    "EXPORT_ACTIONS",
    "READ_ACTIONS",
    "REFUSALS",
    "Entry",
    "Rule",
    "Tally",
    "Thresholds",
    "exceeds",
    "exports",
    "hours",
    "new_clients",
    "refusals",
    "tally_all",
    "unusual_hour",
    "volume",
    "window_of",
]

EVIDENCE_MAX: Final = 100
"""Entry numbers an alert lists (its first and last are always kept)."""
READ_ACTIONS: Final = frozenset({"subject.read", "subject.lookup"})
EXPORT_ACTIONS: Final = frozenset(
    {"subject.disclose", "subject.bulk_read", "provision.ledger_export", "consent.export"}
)
REFUSALS: Final = frozenset({"purpose_not_allowed", "key_not_granted"})
_EPOCH: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class Rule(StrEnum):
    """A rule's code, stored on its alerts and shown explained in words."""

    volume = "volume"
    hours = "hours"
    refusals = "refusals"
    exports = "exports"
    new_client = "new_client"


class Entry(NamedTuple):
    """The fields of an audit entry the rules read."""

    seq: int
    ts: dt.datetime
    actor: str
    action: str
    targets: tuple[str, ...]
    details: Mapping[str, object]


@dataclass(frozen=True)
class Thresholds:
    """The settings MAMORI_ANOMALY_* the rules apply."""

    window_minutes: int = 60
    volume_min: int = 50
    volume_factor: int = 3
    baseline_windows: int = 24
    hours_start: int = 7
    hours_end: int = 21
    refusal_burst: int = 10
    export_max: int = 5
    time_zone: str = "Asia/Tokyo"

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.window_minutes)


@dataclass
class Tally:
    """What one rule counted of one actor in one window."""

    rule: Rule
    actor: str
    window: dt.datetime
    count: int = 0
    seqs: list[int] = field(default_factory=list)
    people: set[str] = field(default_factory=set)
    """The people read (volume only): ``count`` is how many."""

    def add(self, seq: int, count: int = 1) -> None:
        self.count += count
        self.seqs.append(seq)


def window_of(ts: dt.datetime, minutes: int) -> dt.datetime:
    """The start of the window ``ts`` falls in (windows counted from 2000-01-01 UTC)."""
    size = minutes * 60
    seconds = int((ts - _EPOCH).total_seconds()) // size * size
    return _EPOCH + dt.timedelta(seconds=seconds)


def _reader(actor: str) -> bool:
    return not actor.startswith(("system:", "subject:")) and actor != "unknown"


def _tally(
    found: dict[tuple[str, dt.datetime], Tally], rule: Rule, entry: Entry, th: Thresholds
) -> Tally:
    key = (entry.actor, window_of(entry.ts, th.window_minutes))
    tally = found.get(key)
    if tally is None:
        tally = found[key] = Tally(rule, key[0], key[1])
    return tally


def volume(entries: Iterable[Entry], th: Thresholds) -> list[Tally]:
    """Distinct people read per reader and window (within these entries; the evaluation
    leaves out those read in the same window by an earlier page)."""
    found: dict[tuple[str, dt.datetime], Tally] = {}
    for entry in entries:
        if entry.action not in READ_ACTIONS or not _reader(entry.actor):
            continue
        subjects = {t for t in entry.targets if t.startswith("subject:")}
        if not subjects:
            continue
        tally = _tally(found, Rule.volume, entry, th)
        tally.add(entry.seq, 0)
        tally.people |= subjects
    for tally in found.values():
        tally.count = len(tally.people)
    return list(found.values())


def unusual_hour(ts: dt.datetime, th: Thresholds) -> bool:
    """Whether ``ts`` is outside the usual hours, in the operator's time zone."""
    start, end = th.hours_start, th.hours_end
    if start == end:
        return False
    hour = ts.astimezone(ZoneInfo(th.time_zone)).hour
    usual = start <= hour < end if start < end else hour >= start or hour < end
    return not usual


def hours(entries: Iterable[Entry], th: Thresholds) -> list[Tally]:
    """Staff members' reads outside the usual hours, per member and window."""
    found: dict[tuple[str, dt.datetime], Tally] = {}
    for entry in entries:
        if (
            entry.action in READ_ACTIONS | {"subject.bulk_read"}
            and entry.actor.startswith("staff:")
            and unusual_hour(entry.ts, th)
        ):
            _tally(found, Rule.hours, entry, th).add(entry.seq)
    return list(found.values())


def refusals(entries: Iterable[Entry], th: Thresholds) -> list[Tally]:
    """Reads refused for a purpose or a key's grant, per reader and window."""
    found: dict[tuple[str, dt.datetime], Tally] = {}
    for entry in entries:
        if entry.action not in READ_ACTIONS or not _reader(entry.actor):
            continue
        refused = sum(1 for v in entry.details.values() if isinstance(v, str) and v in REFUSALS)
        if refused:
            _tally(found, Rule.refusals, entry, th).add(entry.seq, refused)
    return list(found.values())


def exports(entries: Iterable[Entry], th: Thresholds) -> list[Tally]:
    """Bulk exports per actor and window."""
    found: dict[tuple[str, dt.datetime], Tally] = {}
    for entry in entries:
        if entry.action in EXPORT_ACTIONS and _reader(entry.actor):
            _tally(found, Rule.exports, entry, th).add(entry.seq)
    return list(found.values())


def new_clients(
    entries: Iterable[Entry], known: Mapping[str, Collection[str]], th: Thresholds
) -> tuple[list[Tally], list[tuple[str, str, int]]]:
    """Successful staff sign-ins from a client not known for that member.

    ``known`` maps a staff actor to the clients it signed in from before. Returns the tallies
    (one per member and window) and the (actor, client, seq) pairs seen for the first time.
    """
    seen = {actor: set(clients) for actor, clients in known.items()}
    found: dict[tuple[str, dt.datetime], Tally] = {}
    first: list[tuple[str, str, int]] = []
    for entry in entries:
        client = entry.details.get("client")
        if entry.action != "staff.sign_in" or entry.details.get("result") != "ok":
            continue
        if not isinstance(client, str):
            continue
        clients = seen.setdefault(entry.actor, set())
        if client in clients:
            continue
        if clients:  # the first client of a member is its baseline, not an anomaly
            _tally(found, Rule.new_client, entry, th).add(entry.seq)
        clients.add(client)
        first.append((entry.actor, client, entry.seq))
    return list(found.values()), first


def tally_all(entries: Sequence[Entry], th: Thresholds) -> list[Tally]:
    """The tallies of the rules that need no history: volume, hours, refusals, exports."""
    return [
        *volume(entries, th),
        *hours(entries, th),
        *refusals(entries, th),
        *exports(entries, th),
    ]


def exceeds(rule: Rule, count: int, history: Sequence[int], th: Thresholds) -> int | None:
    """The threshold ``count`` goes beyond (an alert), or None.

    ``history``: the reader's counts in its previous BASELINE_WINDOWS windows (volume only).
    """
    if rule is Rule.volume:
        median = statistics.median(history) if history else 0
        limit = max(th.volume_min, int(th.volume_factor * median))
        return limit if count > limit else None
    if rule is Rule.refusals:
        return th.refusal_burst if count >= th.refusal_burst else None
    if rule is Rule.exports:
        return th.export_max if count > th.export_max else None
    return 0 if count > 0 else None  # hours, new_client: every occurrence
