"""The people affected by an incident, chosen from the vault, and the counts filled from them.

Two ways to choose: a list of subject ids (each must be one the vault holds: an unknown id is
refused and nothing is added), or **from the audit log**: every person whose given items a
given service key read in a time window. The vault's ``subject.read`` entries say per person
and item what was released (``item.<id>`` for one person; ``s<n>.<id>`` for the n-th of the
sorted targets of a read of many), so only people whose chosen items were actually released
are taken. A bulk read (``subject.bulk_read``, every holder of one item) names no people: it
is counted and shown, for staff to choose those people by list.

Adding people sets the confirmed count to the number of people on file (and raises the
estimate to it when lower); audited as ``incident.people`` (counts only).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from mamori.audit.entry import format_ts
from mamori.errors import Conflict
from mamori.incidents import entry, storage
from mamori.incidents.context import IncidentContext
from mamori.incidents.register import get
from mamori.store import db
from mamori.vault import service_keys

__all__ = ["MAX_PEOPLE", "Chosen", "choose", "from_audit", "read_by_key"]

MAX_PEOPLE: Final = 100_000
"""People added in one go, at most."""
_SUBJECT = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"(?:key:)?([A-Za-z0-9_-]{1,64})")
_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class Chosen:
    """What a choice added: ``added`` new people, ``total`` now on file, and (from the audit
    log) ``bulk_reads`` of the items by the key in the window, which name no one."""

    added: int
    total: int
    bulk_reads: int = 0


def _add(ctx: IncidentContext, incident_id: str, actor: str, ids: list[str], how: str) -> Chosen:
    now = ctx.clock.now()
    current = get(ctx, incident_id)
    if current.closed:
        raise Conflict(f"incident '{current.id}' is closed: it can no longer be changed")
    with db.write(ctx.engine) as conn:
        added = storage.add_people(conn, current.id, ids, at=now, by=actor)
        total, _ = storage.count_people(conn, current.id)
        row = current.row
        changed = storage.update_incident(
            conn,
            current.id,
            people_confirmed=total,
            people_estimated=max(row.people_estimated, total),
            updated_at=now,
        )
        if changed is None:
            raise Conflict(f"incident '{current.id}' is closed: it can no longer be changed")
        ctx.audit.append(
            conn,
            actor=actor,
            action="incident.people",
            targets=[f"incident:{current.id}"],
            details={"how": how, "added": added, "total": total},
        )
    return Chosen(added, total)


def choose(
    ctx: IncidentContext, incident_id: str, *, actor: str, subject_ids: Iterable[str] | str
) -> Chosen:
    """Add the people ``subject_ids`` (a list, or text of ids separated by spaces, commas or
    line breaks). :class:`IncidentEntryInvalid` for none given, more than :data:`MAX_PEOPLE`,
    a text that is not a subject id, or an id the vault does not hold (nothing added)."""
    given = _SPLIT.split(subject_ids) if isinstance(subject_ids, str) else list(subject_ids)
    ids = list(dict.fromkeys(s.strip().lower() for s in given if s.strip()))
    if not ids:
        raise entry.bad("subjects", "missing", "give at least one subject id")
    if len(ids) > MAX_PEOPLE:
        raise entry.bad("subjects", "too_many", f"at most {MAX_PEOPLE} people at once")
    malformed = sum(1 for s in ids if not _SUBJECT.fullmatch(s))
    if malformed:
        raise entry.bad("subjects", "not_an_id", f"{malformed} of them are not subject ids")
    with db.read(ctx.engine) as conn:
        held = storage.existing_subjects(conn, ids)
    unknown = [s for s in ids if s not in held]
    if unknown:
        raise entry.bad(
            "subjects", "unknown", f"{len(unknown)} are not in the vault (first: {unknown[0]})"
        )
    return _add(ctx, incident_id, actor, ids, "list")


def _released(
    action: str, targets: list[str], details: dict[str, Any], items: set[str]
) -> set[str]:
    people = [t.removeprefix("subject:") for t in targets if t.startswith("subject:")]
    found: set[str] = set()
    if action != "subject.read":
        return found
    for key, code in details.items():
        if code != "released":
            continue
        if key.startswith("item.") and key[5:] in items and len(people) == 1:
            found.add(people[0])
        elif key.startswith("s") and "." in key:
            index, _, item = key[1:].partition(".")
            if item in items and index.isdigit() and int(index) < len(people):
                found.add(people[int(index)])
    return found


def read_by_key(
    ctx: IncidentContext, *, key: str, items: Iterable[str], since: dt.datetime, until: dt.datetime
) -> tuple[list[str], int]:
    """(the people whose ``items`` the service key ``key`` read in ``[since, until)``, sorted;
    the number of bulk reads of those items in the window)."""
    wanted = set(items)
    people: set[str] = set()
    bulk = 0
    with db.read(ctx.engine) as conn:
        for action, targets, details in storage.reads_by(
            conn, f"key:{key}", format_ts(since), format_ts(until)
        ):
            if action == "subject.bulk_read":
                bulk += details.get("item") in wanted
                continue
            people |= _released(action, targets, details, wanted)
    return sorted(people), bulk


def from_audit(
    ctx: IncidentContext,
    incident_id: str,
    *,
    actor: str,
    key: str | None,
    items: Iterable[str],
    since: str | dt.datetime | None,
    until: str | dt.datetime | None,
) -> Chosen:
    """Add every person whose ``items`` the service key ``key`` read from ``since`` to
    ``until`` (times in the operator's time zone). :class:`IncidentEntryInvalid` for an
    unknown key, no item, a window that ends before it starts, or nobody found."""
    match = _KEY.fullmatch((key or "").strip())
    known = {k.id for k in service_keys.list_keys(ctx.engine)}
    if match is None or match[1] not in known:
        raise entry.bad("key", "unknown", "no such service key (see mamori keys list)")
    declared = ctx.vault.rules().items
    chosen = [i for i in dict.fromkeys(items) if i]
    if not chosen:
        raise entry.bad("items", "missing", "choose at least one item")
    if any(i not in declared for i in chosen):
        raise entry.bad("items", "unknown", "an item the published policy does not declare")
    zone = ctx.settings.time_zone
    start = entry.parse_time("since", since, zone)
    end = entry.parse_time("until", until, zone)
    if end <= start:
        raise entry.bad("until", "before_start", "the window ends before it starts")
    people, bulk = read_by_key(ctx, key=match[1], items=chosen, since=start, until=end)
    if not people:
        if bulk:
            return Chosen(0, get(ctx, incident_id).people_on_file, bulk)
        raise entry.bad("key", "none_found", "the key read none of these items in the window")
    if len(people) > MAX_PEOPLE:
        raise entry.bad("subjects", "too_many", f"at most {MAX_PEOPLE} people at once")
    found = _add(ctx, incident_id, actor, people, "audit")
    return Chosen(found.added, found.total, bulk)
