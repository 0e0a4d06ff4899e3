"""The queries of the register of breaches: incidents, the people affected, the reports sent,
the corrective actions, and the audit entries of vault reads the chooser of people searches.

Every function runs on the caller's connection, inside its transaction, and returns frozen rows
(texts still sealed). The changes that may race (a reminder, a notice, completing an action,
closing) are one conditional ``UPDATE ... RETURNING`` each: of two processes doing it at once
exactly one gets the row back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = [
    "TEXTS",
    "ActionRow",
    "IncidentRow",
    "PersonRow",
    "ReportRow",
    "actions_of",
    "add_people",
    "all_incidents",
    "claim_notice",
    "claim_reminder",
    "close",
    "complete_action",
    "count_people",
    "existing_subjects",
    "incident",
    "insert_action",
    "insert_incident",
    "insert_report",
    "languages",
    "people_of",
    "reads_by",
    "reports_of",
    "update_incident",
]

incidents_t = tables.incidents
people_t = tables.incident_people
reports_t = tables.incident_reports
actions_t = tables.incident_actions

TEXTS = ("summary", "cause", "harm", "response", "publication", "prevention", "other")


@dataclass(frozen=True)
class IncidentRow:
    id: str
    status: str
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
    sealed: Mapping[str, bytes | None]
    """Text name -> its ciphertext (None: not written yet)."""
    actor: str
    created_at: dt.datetime
    updated_at: dt.datetime
    preliminary_reminded_at: dt.datetime | None = None
    final_reminded_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    closed_by: str | None = None


@dataclass(frozen=True)
class PersonRow:
    subject_id: str
    added_at: dt.datetime
    added_by: str
    notice_mail_id: str | None
    noticed_at: dt.datetime | None


@dataclass(frozen=True)
class ReportRow:
    kind: str
    sent_on: dt.date
    actor: str
    recorded_at: dt.datetime


@dataclass(frozen=True)
class ActionRow:
    id: str
    incident_id: str
    text_ct: bytes
    owner: str
    due_on: dt.date
    actor: str
    created_at: dt.datetime
    done_at: dt.datetime | None = None
    done_by: str | None = None


def _incident(row: Any) -> IncidentRow:
    data = dict(row._mapping)
    sealed = {name: data.pop(f"{name}_ct") for name in TEXTS}
    data["items"] = tuple(orjson.loads(str(data["items"])))
    data["triggers"] = tuple(orjson.loads(str(data["triggers"])))
    return IncidentRow(**data, sealed=sealed)


def _values(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name in ("items", "triggers"):
        if name in out:
            out[name] = orjson.dumps(list(out[name])).decode()
    sealed = out.pop("sealed", None)
    if sealed is not None:
        for name, text in sealed.items():
            out[f"{name}_ct"] = text
    return out


# -- incidents -----------------------------------------------------------------------------------


def insert_incident(conn: Connection, row: IncidentRow) -> None:
    conn.execute(incidents_t.insert().values(**_values(row.__dict__)))


def update_incident(conn: Connection, incident_id: str, **values: Any) -> IncidentRow | None:
    """Change an incident not closed; the row as changed, None when closed or unknown."""
    row = conn.execute(
        incidents_t.update()
        .where(incidents_t.c.id == incident_id, incidents_t.c.status != "closed")
        .values(**_values(values))
        .returning(*incidents_t.c)
    ).first()
    return _incident(row) if row is not None else None


def incident(conn: Connection, incident_id: str) -> IncidentRow | None:
    row = conn.execute(sa.select(incidents_t).where(incidents_t.c.id == incident_id)).first()
    return _incident(row) if row is not None else None


def all_incidents(conn: Connection, *, open_only: bool = False) -> list[IncidentRow]:
    """Incidents, the latest aware first (``open_only``: those not closed)."""
    query = sa.select(incidents_t).order_by(
        incidents_t.c.aware_at.desc(), incidents_t.c.created_at.desc(), incidents_t.c.id
    )
    if open_only:
        query = query.where(incidents_t.c.status != "closed")
    return [_incident(row) for row in conn.execute(query)]


def close(conn: Connection, incident_id: str, *, at: dt.datetime, by: str) -> IncidentRow | None:
    row = conn.execute(
        incidents_t.update()
        .where(incidents_t.c.id == incident_id, incidents_t.c.status != "closed")
        .values(status="closed", closed_at=at, closed_by=by, updated_at=at)
        .returning(*incidents_t.c)
    ).first()
    return _incident(row) if row is not None else None


def claim_reminder(conn: Connection, incident_id: str, kind: str, at: dt.datetime) -> bool:
    """Mark the reminder of report ``kind`` as sent unless it was: whether this call did."""
    column = incidents_t.c[f"{kind}_reminded_at"]
    row = conn.execute(
        incidents_t.update()
        .where(incidents_t.c.id == incident_id, column.is_(None))
        .values({column: at})
        .returning(incidents_t.c.id)
    ).first()
    return row is not None


# -- people --------------------------------------------------------------------------------------


def existing_subjects(conn: Connection, subject_ids: Collection[str]) -> set[str]:
    """Which of ``subject_ids`` the vault holds (active or withdrawn)."""
    found: set[str] = set()
    ids = list(subject_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(sa.select(tables.subjects.c.id).where(tables.subjects.c.id.in_(chunk)))
        found.update(r[0] for r in rows)
    return found


def add_people(
    conn: Connection, incident_id: str, subject_ids: Sequence[str], *, at: dt.datetime, by: str
) -> int:
    """Add the people not on the incident yet; how many were added."""
    held = {p.subject_id for p in people_of(conn, incident_id)}
    new = [s for s in dict.fromkeys(subject_ids) if s not in held]
    for start in range(0, len(new), 500):
        conn.execute(
            people_t.insert(),
            [
                {"incident_id": incident_id, "subject_id": s, "added_at": at, "added_by": by}
                for s in new[start : start + 500]
            ],
        )
    return len(new)


def people_of(conn: Connection, incident_id: str) -> list[PersonRow]:
    rows = conn.execute(
        sa.select(
            people_t.c.subject_id,
            people_t.c.added_at,
            people_t.c.added_by,
            people_t.c.notice_mail_id,
            people_t.c.noticed_at,
        )
        .where(people_t.c.incident_id == incident_id)
        .order_by(people_t.c.subject_id)
    )
    return [PersonRow(*row) for row in rows]


def count_people(conn: Connection, incident_id: str) -> tuple[int, int]:
    """(people affected, of them noticed)."""
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.count(people_t.c.notice_mail_id)).where(
            people_t.c.incident_id == incident_id
        )
    ).one()
    return int(row[0]), int(row[1])


def claim_notice(
    conn: Connection, incident_id: str, subject_id: str, mail_id: str, at: dt.datetime
) -> bool:
    """Record the notice ``mail_id`` to the person unless one was: whether this call did."""
    row = conn.execute(
        people_t.update()
        .where(
            people_t.c.incident_id == incident_id,
            people_t.c.subject_id == subject_id,
            people_t.c.notice_mail_id.is_(None),
        )
        .values(notice_mail_id=mail_id, noticed_at=at)
        .returning(people_t.c.subject_id)
    ).first()
    return row is not None


def languages(conn: Connection, subject_ids: Sequence[str]) -> dict[str, str]:
    """subject id -> the language of the person's latest request to the operator (those who
    made none are left out): the language the person chose to be answered in."""
    requests_t = tables.data_requests
    found: dict[str, str] = {}
    for start in range(0, len(subject_ids), 500):
        rows = conn.execute(
            sa.select(requests_t.c.subject_id, requests_t.c.language)
            .where(requests_t.c.subject_id.in_(list(subject_ids[start : start + 500])))
            .order_by(requests_t.c.created_at)
        )
        for subject_id, language in rows:
            found[subject_id] = language  # the latest wins
    return found


def reads_by(
    conn: Connection, actor: str, since: str, until: str
) -> Iterator[tuple[str, list[str], dict[str, Any]]]:
    """(action, targets, details) of the vault reads by ``actor`` (``key:<id>``) whose audit
    time (RFC 3339 UTC text, as stored) is in ``[since, until)``, oldest first."""
    audit_t = tables.audit_entries
    rows = conn.execute(
        sa.select(audit_t.c.action, audit_t.c.targets, audit_t.c.details)
        .where(
            audit_t.c.actor == actor,
            audit_t.c.action.in_(["subject.read", "subject.bulk_read"]),
            audit_t.c.ts >= since,
            audit_t.c.ts < until,
        )
        .order_by(audit_t.c.seq)
    )
    for action, targets, details in rows:
        yield action, orjson.loads(targets), orjson.loads(details)


# -- reports and actions -------------------------------------------------------------------------


def insert_report(conn: Connection, incident_id: str, row: ReportRow) -> bool:
    """Record a report unless one of its kind is on file: whether this call did."""
    exists = conn.execute(
        sa.select(reports_t.c.kind).where(
            reports_t.c.incident_id == incident_id, reports_t.c.kind == row.kind
        )
    ).first()
    if exists is not None:
        return False
    conn.execute(reports_t.insert().values(incident_id=incident_id, **row.__dict__))
    return True


def reports_of(conn: Connection, incident_id: str) -> dict[str, ReportRow]:
    rows = conn.execute(
        sa.select(
            reports_t.c.kind, reports_t.c.sent_on, reports_t.c.actor, reports_t.c.recorded_at
        ).where(reports_t.c.incident_id == incident_id)
    )
    return {row.kind: ReportRow(*row) for row in rows}


def insert_action(conn: Connection, row: ActionRow) -> None:
    conn.execute(actions_t.insert().values(**row.__dict__))


def actions_of(conn: Connection, incident_id: str) -> list[ActionRow]:
    rows = conn.execute(
        sa.select(actions_t)
        .where(actions_t.c.incident_id == incident_id)
        .order_by(actions_t.c.due_on, actions_t.c.created_at, actions_t.c.id)
    )
    return [ActionRow(**row._mapping) for row in rows]


def complete_action(
    conn: Connection, incident_id: str, action_id: str, *, at: dt.datetime, by: str
) -> ActionRow | None:
    row = conn.execute(
        actions_t.update()
        .where(
            actions_t.c.id == action_id,
            actions_t.c.incident_id == incident_id,
            actions_t.c.done_at.is_(None),
        )
        .values(done_at=at, done_by=by)
        .returning(*actions_t.c)
    ).first()
    return ActionRow(**row._mapping) if row is not None else None
