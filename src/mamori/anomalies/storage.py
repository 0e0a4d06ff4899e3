"""The queries of access anomalies: alerts (``anomaly_alerts``), the rules' counts
(``anomaly_counts``), the clients staff signed in from (``anomaly_clients``) and the
evaluation's cursor (``anomaly_cursor``).

Every function runs on the caller's connection, inside its transaction. The evaluation holds a
lock on the cursor (:func:`lock_cursor`) for its whole transaction, so counts and alerts are
written by one process at a time; the unique key of an alert is the backstop. Dismissing and
linking are one conditional ``UPDATE ... RETURNING`` each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.audit import cursors
from mamori.store import tables

__all__ = [
    "AlertRow",
    "CountRow",
    "add_clients",
    "alert",
    "alert_by_key",
    "alerts",
    "count_open",
    "counts",
    "cursor",
    "dismiss",
    "history",
    "known_clients",
    "link_incident",
    "lock_cursor",
    "new_people",
    "purge_counts",
    "set_cursor",
    "upsert_alert",
    "upsert_count",
]

alerts_t = tables.anomaly_alerts
counts_t = tables.anomaly_counts
clients_t = tables.anomaly_clients
people_t = tables.anomaly_people
cursor_t = tables.anomaly_cursor


@dataclass(frozen=True)
class AlertRow:
    id: str
    key: str
    rule: str
    actor: str
    window_start: dt.datetime
    window_end: dt.datetime
    count: int
    threshold: int
    first_seq: int
    last_seq: int
    evidence: tuple[int, ...]
    status: str
    reason: str | None
    note: bytes | None
    dismissed_by: str | None
    dismissed_at: dt.datetime | None
    incident_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class CountRow:
    rule: str
    actor: str
    window_start: dt.datetime
    count: int
    first_seq: int
    last_seq: int
    evidence: tuple[int, ...]


def _alert(row: sa.Row[tuple[object, ...]]) -> AlertRow:
    values = dict(row._mapping)
    values["evidence"] = tuple(orjson.loads(str(values["evidence"])))
    if values["note"] is not None:
        values["note"] = bytes(values["note"])
    return AlertRow(**values)


def lock_cursor(conn: Connection) -> int:
    """Serialise the anomalies job's runs until the transaction ends; its position in the audit
    log (:func:`mamori.audit.cursors.lock`)."""
    return cursors.lock(conn, cursor_t, "anomalies")


def cursor(conn: Connection) -> int:
    return cursors.position(conn, cursor_t)


def set_cursor(conn: Connection, last_seq: int) -> None:
    cursors.set_position(conn, cursor_t, last_seq)


def counts(
    conn: Connection, keys: Collection[tuple[str, str, dt.datetime]]
) -> dict[tuple[str, str, dt.datetime], CountRow]:
    found: dict[tuple[str, str, dt.datetime], CountRow] = {}
    for rule, actor, window in keys:
        row = conn.execute(
            sa.select(counts_t).where(
                counts_t.c.rule == rule,
                counts_t.c.actor == actor,
                counts_t.c.window_start == window,
            )
        ).first()
        if row is not None:
            values = dict(row._mapping)
            values["evidence"] = tuple(orjson.loads(str(values["evidence"])))
            found[(rule, actor, window)] = CountRow(**values)
    return found


def upsert_count(conn: Connection, row: CountRow, *, new: bool) -> None:
    values = {
        "count": row.count,
        "first_seq": row.first_seq,
        "last_seq": row.last_seq,
        "evidence": orjson.dumps(list(row.evidence)).decode(),
    }
    if new:
        conn.execute(
            counts_t.insert().values(
                rule=row.rule, actor=row.actor, window_start=row.window_start, **values
            )
        )
    else:
        conn.execute(
            counts_t.update()
            .where(
                counts_t.c.rule == row.rule,
                counts_t.c.actor == row.actor,
                counts_t.c.window_start == row.window_start,
            )
            .values(**values)
        )


def history(
    conn: Connection, rule: str, actor: str, since: dt.datetime, before: dt.datetime
) -> dict[dt.datetime, int]:
    """An actor's counts of ``rule`` in the windows starting in ``[since, before)``."""
    rows = conn.execute(
        sa.select(counts_t.c.window_start, counts_t.c.count).where(
            counts_t.c.rule == rule,
            counts_t.c.actor == actor,
            counts_t.c.window_start >= since,
            counts_t.c.window_start < before,
        )
    )
    return {r[0]: int(r[1]) for r in rows}


def purge_counts(conn: Connection, before: dt.datetime, people_before: dt.datetime) -> None:
    conn.execute(counts_t.delete().where(counts_t.c.window_start < before))
    conn.execute(people_t.delete().where(people_t.c.window_start < people_before))


def new_people(conn: Connection, actor: str, window: dt.datetime, people: Collection[str]) -> int:
    """Record the people ``actor`` read in ``window``; how many were not recorded before."""
    wanted = sorted(people)
    held: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        held |= set(
            conn.execute(
                sa.select(people_t.c.subject).where(
                    people_t.c.actor == actor,
                    people_t.c.window_start == window,
                    people_t.c.subject.in_(chunk),
                )
            ).scalars()
        )
    fresh = [p for p in wanted if p not in held]
    if fresh:
        conn.execute(
            people_t.insert(),
            [{"actor": actor, "window_start": window, "subject": p} for p in fresh],
        )
    return len(fresh)


def known_clients(conn: Connection, actors: Collection[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {a: set() for a in actors}
    if actors:
        rows = conn.execute(
            sa.select(clients_t.c.actor, clients_t.c.client).where(
                clients_t.c.actor.in_(sorted(actors))
            )
        )
        for row in rows:
            found[row.actor].add(row.client)
    return found


def add_clients(conn: Connection, seen: Sequence[tuple[str, str, int]]) -> None:
    if seen:
        conn.execute(
            clients_t.insert(), [{"actor": a, "client": c, "first_seq": s} for a, c, s in seen]
        )


def alert_by_key(conn: Connection, key: str) -> AlertRow | None:
    row = conn.execute(sa.select(alerts_t).where(alerts_t.c.key == key)).first()
    return _alert(row) if row is not None else None


def upsert_alert(conn: Connection, row: AlertRow) -> bool:
    """Insert ``row``, or bring the open alert of its key up to date; True if inserted."""
    held = alert_by_key(conn, row.key)
    evidence = orjson.dumps(list(row.evidence)).decode()
    if held is None:
        values = {k: getattr(row, k) for k in AlertRow.__dataclass_fields__}
        values["evidence"] = evidence
        conn.execute(alerts_t.insert().values(**values))
        return True
    conn.execute(
        alerts_t.update()
        .where(alerts_t.c.id == held.id, alerts_t.c.status == "open")
        .values(
            count=row.count,
            last_seq=row.last_seq,
            evidence=evidence,
            updated_at=row.updated_at,
        )
    )
    return False


def alert(conn: Connection, alert_id: str) -> AlertRow | None:
    row = conn.execute(sa.select(alerts_t).where(alerts_t.c.id == alert_id)).first()
    return _alert(row) if row is not None else None


def alerts(conn: Connection, status: str | None, *, limit: int = 200) -> list[AlertRow]:
    query = sa.select(alerts_t).order_by(alerts_t.c.created_at.desc(), alerts_t.c.id).limit(limit)
    if status is not None:
        query = query.where(alerts_t.c.status == status)
    return [_alert(r) for r in conn.execute(query)]


def count_open(conn: Connection) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(alerts_t).where(alerts_t.c.status == "open")
        ).scalar_one()
    )


def dismiss(
    conn: Connection,
    alert_id: str,
    *,
    reason: str,
    note: bytes | None,
    by: str,
    at: dt.datetime,
) -> AlertRow | None:
    """Dismiss an open alert; None when there is no open alert of that id."""
    row = conn.execute(
        alerts_t.update()
        .where(alerts_t.c.id == alert_id, alerts_t.c.status == "open")
        .values(
            status="dismissed",
            reason=reason,
            note=note,
            dismissed_by=by,
            dismissed_at=at,
            updated_at=at,
        )
        .returning(*alerts_t.c)
    ).first()
    return _alert(row) if row is not None else None


def link_incident(
    conn: Connection, alert_id: str, incident_id: str, at: dt.datetime
) -> AlertRow | None:
    """Turn an alert that is not dismissed into an incident; None otherwise."""
    row = conn.execute(
        alerts_t.update()
        .where(alerts_t.c.id == alert_id, alerts_t.c.status != "dismissed")
        .values(status="incident", incident_id=incident_id, updated_at=at)
        .returning(*alerts_t.c)
    ).first()
    return _alert(row) if row is not None else None
