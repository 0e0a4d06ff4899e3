"""The register of breaches (漏えい等, APPI 法26): record and work an incident.

An incident holds when it was discovered and when the operator became aware of it (the
deadlines count from the local day of awareness), the items involved, the number of people
(estimated, then confirmed), whether the data was under strong encryption and whether its key
leaked too, the triggers staff set, the staff member responsible, and seven free texts of the
report draft (summary, cause, secondary harm, response to the people, publication, prevention
measures, other), sealed with the ``incidents`` system key. :func:`decide` says whether it
must be reported and by when (:mod:`mamori.incidents.rules`).

The people affected are chosen from the vault (:mod:`mamori.incidents.people`); reports sent,
corrective actions and closing are recorded here. An incident closes only once its prevention
measures are written (:class:`IncidentNotClosable` otherwise). Every change is one transaction
with its audit entry (``incident.*``: ids, counts and codes only, never a text).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from mamori.errors import Conflict, IncidentNotClosable, IncidentNotFound, NotFound
from mamori.incidents import entry, rules, storage
from mamori.incidents.context import IncidentContext, directory
from mamori.incidents.rules import Decision, Facts, Trigger
from mamori.incidents.storage import TEXTS, ActionRow, IncidentRow, PersonRow, ReportRow
from mamori.staff.accounts import StaffAccount
from mamori.store import db
from mamori.vault import crypto

__all__ = [
    "KINDS",
    "TEXTS",
    "Action",
    "Incident",
    "IncidentContext",
    "add_action",
    "close",
    "complete_action",
    "directory",
    "get",
    "listing",
    "mark_report",
    "people_on_file",
    "record",
    "staff_members",
    "update",
]

KINDS: Final = ("preliminary", "final")
"""The reports to the PPC: 速報 and 確報."""
KEY: Final = "incidents"
"""The system key that seals the texts."""

_ID = re.compile(r"inc_[0-9a-f]{24}")


@dataclass(frozen=True)
class Action:
    """A corrective action, its text opened."""

    row: ActionRow
    text: str

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def done(self) -> bool:
        return self.row.done_at is not None


@dataclass(frozen=True)
class Incident:
    """An incident with its texts opened, its decision and what the register holds of it."""

    row: IncidentRow
    texts: Mapping[str, str]
    decision: Decision
    today: dt.date
    people_on_file: int = 0
    noticed: int = 0
    reports: Mapping[str, ReportRow] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def people(self) -> int:
        """The number of people: confirmed when known, else the estimate."""
        row = self.row
        return row.people_confirmed if row.people_confirmed is not None else row.people_estimated

    @property
    def closed(self) -> bool:
        return self.row.status == "closed"

    def due(self, kind: str) -> dt.date | None:
        d = self.decision
        return d.preliminary_due if kind == "preliminary" else d.final_due

    def days_left(self, kind: str) -> int | None:
        """Days until report ``kind`` is due (0: today; negative: overdue); None when it is not
        due (not reportable, or sent)."""
        due = self.due(kind)
        if due is None or kind in self.reports:
            return None
        return (due - self.today).days

    @property
    def next_deadline(self) -> tuple[str, dt.date, int] | None:
        """(kind, day, days left) of the nearest report still to send, if any."""
        if self.closed:
            return None
        for kind in KINDS:
            left = self.days_left(kind)
            due = self.due(kind)
            if left is not None and due is not None:
                return kind, due, left
        return None


# -- sealing ---------------------------------------------------------------------------------


def _seal(ctx: IncidentContext, incident_id: str, name: str, text: str | None) -> bytes | None:
    if not text:
        return None
    key = ctx.vault.system_keys.get(KEY)
    return crypto.encrypt(
        key, text.encode("utf-8"), subject_id=f"incident:{incident_id}", item_id=name
    )


def _open(ctx: IncidentContext, incident_id: str, name: str, sealed: bytes | None) -> str:
    if sealed is None:
        return ""
    key = ctx.vault.system_keys.get(KEY)
    plain = crypto.decrypt(key, sealed, subject_id=f"incident:{incident_id}", item_id=name)
    return plain.decode("utf-8")


# -- reading ---------------------------------------------------------------------------------


def _decision(ctx: IncidentContext, row: IncidentRow) -> Decision:
    people = row.people_confirmed if row.people_confirmed is not None else row.people_estimated
    facts = Facts(
        aware_on=row.aware_on,
        people=people,
        items=row.items,
        flagged=frozenset(Trigger(t) for t in row.triggers),
        encrypted=row.encrypted,
        key_leaked=row.key_leaked,
    )
    items = ctx.vault.rules().items
    return rules.decide(facts, dict(items), preliminary_days=ctx.settings.incident_preliminary_days)


def _incident(ctx: IncidentContext, row: IncidentRow, *, full: bool = True) -> Incident:
    texts = {name: _open(ctx, row.id, name, row.sealed.get(name)) for name in TEXTS}
    today = ctx.vault.today()
    if not full:
        with db.read(ctx.engine) as conn:
            reports = storage.reports_of(conn, row.id)
        return Incident(row, texts, _decision(ctx, row), today, reports=reports)
    with db.read(ctx.engine) as conn:
        people, noticed = storage.count_people(conn, row.id)
        reports = storage.reports_of(conn, row.id)
        actions = storage.actions_of(conn, row.id)
    opened = tuple(Action(a, _open(ctx, row.id, f"action:{a.id}", a.text_ct)) for a in actions)
    return Incident(row, texts, _decision(ctx, row), today, people, noticed, reports, opened)


def _row(conn: db.Connection, incident_id: str) -> IncidentRow:
    row = storage.incident(conn, incident_id) if _ID.fullmatch(incident_id) else None
    if row is None:
        shown = f"'{incident_id}'" if _ID.fullmatch(incident_id) else "(not an id)"
        raise IncidentNotFound(f"no incident {shown} in the register of breaches")
    return row


def get(ctx: IncidentContext, incident_id: str) -> Incident:
    """One incident; :class:`IncidentNotFound` otherwise."""
    with db.read(ctx.engine) as conn:
        row = _row(conn, incident_id)
    return _incident(ctx, row)


def people_on_file(ctx: IncidentContext, incident_id: str, *, limit: int = 200) -> list[PersonRow]:
    """The first ``limit`` people on the incident (by subject id), with their notices."""
    with db.read(ctx.engine) as conn:
        return storage.people_of(conn, _row(conn, incident_id).id)[:limit]


def listing(ctx: IncidentContext, *, open_only: bool = False) -> list[Incident]:
    """Every incident (``open_only``: not closed), the latest aware first."""
    with db.read(ctx.engine) as conn:
        rows = storage.all_incidents(conn, open_only=open_only)
    return [_incident(ctx, row, full=False) for row in rows]


# -- changes ---------------------------------------------------------------------------------


def record(
    ctx: IncidentContext,
    *,
    actor: str,
    discovered_at: str | dt.datetime | None,
    aware_at: str | dt.datetime | None,
    items: Iterable[str] = (),
    people_estimated: str | int | None = None,
    people_confirmed: str | int | None = None,
    encrypted: bool = False,
    key_leaked: bool = False,
    triggers: Iterable[str] = (),
    responsible: str | None = None,
    texts: Mapping[str, str | None] | None = None,
) -> Incident:
    """Put an incident on file; audited as ``incident.record``. :class:`IncidentEntryInvalid`
    (naming the field and the problem) for a time missing, not a time or in the future,
    awareness before discovery, no item or an unknown one, a count not a whole number, an
    unknown trigger or staff account, a text too long or with control characters."""
    checked = entry.check(
        ctx,
        discovered_at=discovered_at,
        aware_at=aware_at,
        items=items,
        people_estimated=people_estimated,
        people_confirmed=people_confirmed,
        encrypted=encrypted,
        key_leaked=key_leaked,
        triggers=triggers,
        responsible=responsible,
        texts=texts or {},
    )
    incident_id = f"inc_{secrets.token_hex(12)}"
    now = ctx.clock.now()
    ctx.vault.system_keys.get(KEY)  # created outside the write transaction below
    row = IncidentRow(
        id=incident_id,
        status="open",
        discovered_at=checked.discovered_at,
        aware_at=checked.aware_at,
        aware_on=checked.aware_on,
        items=checked.items,
        people_estimated=checked.people_estimated,
        people_confirmed=checked.people_confirmed,
        encrypted=checked.encrypted,
        key_leaked=checked.key_leaked,
        triggers=checked.triggers,
        responsible=checked.responsible,
        sealed={n: _seal(ctx, incident_id, n, checked.texts[n]) for n in TEXTS},
        actor=actor,
        created_at=now,
        updated_at=now,
    )
    decision = _decision(ctx, row)
    with db.write(ctx.engine) as conn:
        storage.insert_incident(conn, row)
        ctx.audit.append(
            conn,
            actor=actor,
            action="incident.record",
            targets=[f"incident:{incident_id}"],
            details=entry.details(checked, decision),
        )
    return _incident(ctx, row)


def update(
    ctx: IncidentContext,
    incident_id: str,
    *,
    actor: str,
    discovered_at: str | dt.datetime | None,
    aware_at: str | dt.datetime | None,
    items: Iterable[str] = (),
    people_estimated: str | int | None = None,
    people_confirmed: str | int | None = None,
    encrypted: bool = False,
    key_leaked: bool = False,
    triggers: Iterable[str] = (),
    responsible: str | None = None,
    texts: Mapping[str, str | None] | None = None,
) -> Incident:
    """Change an open incident's facts and texts (every field given again, as the form
    sends them); audited as ``incident.update``. :class:`Conflict` once closed."""
    checked = entry.check(
        ctx,
        discovered_at=discovered_at,
        aware_at=aware_at,
        items=items,
        people_estimated=people_estimated,
        people_confirmed=people_confirmed,
        encrypted=encrypted,
        key_leaked=key_leaked,
        triggers=triggers,
        responsible=responsible,
        texts=texts or {},
    )
    ctx.vault.system_keys.get(KEY)
    with db.write(ctx.engine) as conn:
        current = _row(conn, incident_id)
        changed = storage.update_incident(
            conn,
            current.id,
            discovered_at=checked.discovered_at,
            aware_at=checked.aware_at,
            aware_on=checked.aware_on,
            items=checked.items,
            people_estimated=checked.people_estimated,
            people_confirmed=checked.people_confirmed,
            encrypted=checked.encrypted,
            key_leaked=checked.key_leaked,
            triggers=checked.triggers,
            responsible=checked.responsible,
            sealed={n: _seal(ctx, current.id, n, checked.texts[n]) for n in TEXTS},
            updated_at=ctx.clock.now(),
        )
        if changed is None:
            raise Conflict(f"incident '{current.id}' is closed: it can no longer be changed")
        ctx.audit.append(
            conn,
            actor=actor,
            action="incident.update",
            targets=[f"incident:{current.id}"],
            details=entry.details(checked, _decision(ctx, changed)),
        )
    return _incident(ctx, changed)


def mark_report(
    ctx: IncidentContext, incident_id: str, *, actor: str, kind: str, sent_on: str | dt.date | None
) -> Incident:
    """Record that report ``kind`` (``preliminary`` or ``final``) was sent to the PPC on
    ``sent_on``; the incident becomes ``reported``. Audited as ``incident.report``.
    :class:`Conflict` when that report is on file already or the incident is closed."""
    if kind not in KINDS:
        raise entry.bad("kind", "unknown", "choose preliminary or final")
    day = entry.parse_day("sent_on", sent_on)
    today = ctx.vault.today()
    if day > today:
        raise entry.bad("sent_on", "future", "the day is in the future")
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        current = _row(conn, incident_id)
        if day < current.aware_on:
            raise entry.bad("sent_on", "before_awareness", "the day is before the day of awareness")
        if current.status == "closed":
            raise Conflict(f"incident '{current.id}' is closed: it can no longer be changed")
        if not storage.insert_report(conn, current.id, ReportRow(kind, day, actor, now)):
            raise Conflict(f"the {kind} report of '{current.id}' is on file already")
        changed = storage.update_incident(conn, current.id, status="reported", updated_at=now)
        assert changed is not None
        ctx.audit.append(
            conn,
            actor=actor,
            action="incident.report",
            targets=[f"incident:{current.id}"],
            details={"kind": kind, "sent_on": day.isoformat()},
        )
    return _incident(ctx, changed)


def add_action(
    ctx: IncidentContext,
    incident_id: str,
    *,
    actor: str,
    text: str | None,
    owner: str | None,
    due_on: str | dt.date | None,
) -> Action:
    """Add a corrective action with its owner (a staff id) and due day; audited as
    ``incident.action_add``."""
    body = entry.text("action", text)
    if not body:
        raise entry.bad("action", "missing", "write the corrective action")
    owner_id = entry.account_id(ctx, owner, "owner")
    if owner_id is None:
        raise entry.bad("owner", "missing", "choose the staff member who owns the action")
    due = entry.parse_day("due_on", due_on)
    ctx.vault.system_keys.get(KEY)
    action_id = f"ica_{secrets.token_hex(12)}"
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        current = _row(conn, incident_id)
        if current.status == "closed":
            raise Conflict(f"incident '{current.id}' is closed: it can no longer be changed")
        sealed = _seal(ctx, current.id, f"action:{action_id}", body)
        assert sealed is not None
        row = ActionRow(action_id, current.id, sealed, owner_id, due, actor, now)
        storage.insert_action(conn, row)
        ctx.audit.append(
            conn,
            actor=actor,
            action="incident.action_add",
            targets=[f"incident:{current.id}", f"incident_action:{action_id}"],
            details={"owner": owner_id, "due_on": due.isoformat()},
        )
    return Action(row, body)


def complete_action(ctx: IncidentContext, incident_id: str, action_id: str, *, actor: str) -> None:
    """Mark a corrective action done; audited as ``incident.action_done``. :class:`Conflict`
    when it was done before."""
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        current = _row(conn, incident_id)
        done = storage.complete_action(conn, current.id, action_id, at=now, by=actor)
        if done is None:
            if any(a.id == action_id for a in storage.actions_of(conn, current.id)):
                raise Conflict("the corrective action was completed before: nothing more to do")
            raise NotFound("no such corrective action of this incident")
        ctx.audit.append(
            conn,
            actor=actor,
            action="incident.action_done",
            targets=[f"incident:{current.id}", f"incident_action:{action_id}"],
        )


def close(ctx: IncidentContext, incident_id: str, *, actor: str) -> Incident:
    """Close an incident; audited as ``incident.close``. :class:`IncidentNotClosable` unless
    its prevention measures are written; :class:`Conflict` when it was closed before."""
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        current = _row(conn, incident_id)
        if current.status == "closed":
            raise Conflict(f"incident '{current.id}' was closed before: nothing more to do")
        if not _open(ctx, current.id, "prevention", current.sealed.get("prevention")).strip():
            raise IncidentNotClosable(
                f"incident '{current.id}' cannot be closed yet: record its prevention measures"
                " (再発防止策) first"
            )
        closed = storage.close(conn, current.id, at=now, by=actor)
        assert closed is not None
        open_actions = sum(1 for a in storage.actions_of(conn, current.id) if a.done_at is None)
        ctx.audit.append(
            conn,
            actor=actor,
            action="incident.close",
            targets=[f"incident:{current.id}"],
            details={"open_actions": open_actions},
        )
    return _incident(ctx, closed)


def staff_members(ctx: IncidentContext) -> list[StaffAccount]:
    """The active staff accounts (who may be responsible or own an action)."""
    return [a for a in directory(ctx).list() if a.active]
