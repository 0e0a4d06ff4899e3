"""The queries of webhooks: endpoints (``webhook_endpoints``), deliveries
(``webhook_deliveries``), their attempts (``webhook_attempts``) and the dispatcher's cursor
(``webhook_cursor``).

Every function runs on the caller's connection, inside its transaction. The dispatcher holds a
lock on the cursor (:func:`lock_cursor`) for its whole transaction, so one process at a time
turns audit entries into deliveries; the unique key (endpoint, entry, event type) is the
backstop. A delivery is claimed by one conditional ``UPDATE`` (:func:`claim`), so two workers
never send the same attempt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.audit import cursors
from mamori.store import tables

__all__ = [
    "AttemptRow",
    "DeliveryRow",
    "EndpointRow",
    "add_attempt",
    "attempts_of",
    "claim",
    "count_pending",
    "cursor",
    "deliveries",
    "delivery",
    "due",
    "endpoint",
    "endpoints",
    "finish",
    "insert_deliveries",
    "insert_endpoint",
    "lock_cursor",
    "replay",
    "set_cursor",
    "update_endpoint",
]

endpoints_t = tables.webhook_endpoints
deliveries_t = tables.webhook_deliveries
attempts_t = tables.webhook_attempts
cursor_t = tables.webhook_cursor


@dataclass(frozen=True)
class EndpointRow:
    id: str
    service: str
    url: str
    events: tuple[str, ...]
    secret: bytes
    enabled: bool
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    removed_at: dt.datetime | None


@dataclass(frozen=True)
class DeliveryRow:
    id: str
    endpoint_id: str
    event_type: str
    seq: int
    subject_id: str | None
    request_id: str | None
    payload: str
    values_sealed: bytes | None
    status: str
    attempts: int
    next_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


@dataclass(frozen=True)
class AttemptRow:
    delivery_id: str
    attempt: int
    at: dt.datetime
    status: int | None
    error: str | None
    millis: int


def _endpoint(row: sa.Row[tuple[object, ...]]) -> EndpointRow:
    values = dict(row._mapping)
    values["events"] = tuple(orjson.loads(str(values["events"])))
    values["secret"] = bytes(values["secret"])
    values["enabled"] = bool(values["enabled"])
    return EndpointRow(**values)


def _delivery(row: sa.Row[tuple[object, ...]]) -> DeliveryRow:
    values = dict(row._mapping)
    if values["values_sealed"] is not None:
        values["values_sealed"] = bytes(values["values_sealed"])
    return DeliveryRow(**values)


# -- endpoints -------------------------------------------------------------------------------


def insert_endpoint(conn: Connection, row: EndpointRow) -> None:
    values = dict(row.__dict__)
    values["events"] = orjson.dumps(list(row.events)).decode()
    conn.execute(endpoints_t.insert().values(**values))


def update_endpoint(conn: Connection, endpoint_id: str, **values: object) -> bool:
    if "events" in values:
        values["events"] = orjson.dumps(list(values["events"])).decode()  # type: ignore[call-overload]
    done = conn.execute(
        endpoints_t.update()
        .where(endpoints_t.c.id == endpoint_id, endpoints_t.c.removed_at.is_(None))
        .values(**values)
    )
    return done.rowcount == 1


def endpoint(conn: Connection, endpoint_id: str) -> EndpointRow | None:
    row = conn.execute(sa.select(endpoints_t).where(endpoints_t.c.id == endpoint_id)).first()
    return _endpoint(row) if row is not None else None


def endpoints(conn: Connection, *, live_only: bool = True) -> list[EndpointRow]:
    query = sa.select(endpoints_t).order_by(endpoints_t.c.created_at, endpoints_t.c.id)
    if live_only:
        query = query.where(endpoints_t.c.removed_at.is_(None))
    return [_endpoint(r) for r in conn.execute(query)]


# -- the dispatcher's cursor -----------------------------------------------------------------


def lock_cursor(conn: Connection) -> int:
    """Serialise the webhooks job's runs until the transaction ends; its position in the audit
    log (:func:`mamori.audit.cursors.lock`)."""
    return cursors.lock(conn, cursor_t, "webhooks")


def cursor(conn: Connection) -> int:
    return cursors.position(conn, cursor_t)


def set_cursor(conn: Connection, last_seq: int) -> None:
    cursors.set_position(conn, cursor_t, last_seq)


# -- deliveries ------------------------------------------------------------------------------


def insert_deliveries(conn: Connection, rows: Sequence[DeliveryRow]) -> None:
    if rows:
        conn.execute(deliveries_t.insert(), [dict(r.__dict__) for r in rows])


def delivery(conn: Connection, delivery_id: str) -> DeliveryRow | None:
    row = conn.execute(sa.select(deliveries_t).where(deliveries_t.c.id == delivery_id)).first()
    return _delivery(row) if row is not None else None


def deliveries(
    conn: Connection,
    *,
    status: str | None = None,
    endpoint_id: str | None = None,
    limit: int = 100,
) -> list[DeliveryRow]:
    """The newest deliveries first (at most ``limit``)."""
    query = sa.select(deliveries_t).order_by(
        deliveries_t.c.created_at.desc(), deliveries_t.c.seq.desc(), deliveries_t.c.id
    )
    if status is not None:
        query = query.where(deliveries_t.c.status == status)
    if endpoint_id is not None:
        query = query.where(deliveries_t.c.endpoint_id == endpoint_id)
    return [_delivery(r) for r in conn.execute(query.limit(limit))]


def count_pending(conn: Connection) -> int:
    """Deliveries not finished yet (pending, or being delivered)."""
    query = sa.select(sa.func.count()).where(deliveries_t.c.status.in_(("pending", "delivering")))
    return int(conn.execute(query).scalar_one())


def due(conn: Connection, now: dt.datetime, limit: int) -> list[tuple[str, dt.datetime, int]]:
    """(id, next_at, attempts) of deliveries due at ``now``: pending ones, and claimed ones whose
    lease ran out (a worker that died mid-send)."""
    rows = conn.execute(
        sa.select(deliveries_t.c.id, deliveries_t.c.next_at, deliveries_t.c.attempts)
        .where(
            deliveries_t.c.status.in_(("pending", "delivering")),
            deliveries_t.c.next_at <= now,
        )
        .order_by(deliveries_t.c.next_at, deliveries_t.c.id)
        .limit(limit)
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


def claim(
    conn: Connection, delivery_id: str, seen_at: dt.datetime, attempts: int, lease: dt.datetime
) -> bool:
    """Take the delivery for one attempt, if nobody did since it was seen due."""
    done = conn.execute(
        deliveries_t.update()
        .where(
            deliveries_t.c.id == delivery_id,
            deliveries_t.c.status.in_(("pending", "delivering")),
            deliveries_t.c.next_at == seen_at,
            deliveries_t.c.attempts == attempts,
        )
        .values(status="delivering", next_at=lease)
    )
    return done.rowcount == 1


def finish(
    conn: Connection,
    delivery_id: str,
    *,
    attempts: int,
    status: str,
    next_at: dt.datetime | None,
    last_status: int | None,
    last_error: str | None,
    delivered_at: dt.datetime | None,
) -> bool:
    """Record the outcome of attempt ``attempts`` (only if the row is still this claim's).
    Once delivered, a correction's sealed values are dropped: nothing can send them again."""
    values: dict[str, object] = {"values_sealed": None} if status == "delivered" else {}
    done = conn.execute(
        deliveries_t.update()
        .where(
            deliveries_t.c.id == delivery_id,
            deliveries_t.c.status == "delivering",
            deliveries_t.c.attempts == attempts - 1,
        )
        .values(
            attempts=attempts,
            status=status,
            next_at=next_at,
            last_status=last_status,
            last_error=last_error,
            delivered_at=delivered_at,
            **values,
        )
    )
    return done.rowcount == 1


def replay(conn: Connection, delivery_id: str, now: dt.datetime) -> bool:
    """Queue a failed delivery again (same id, attempts kept); False unless it had failed."""
    done = conn.execute(
        deliveries_t.update()
        .where(deliveries_t.c.id == delivery_id, deliveries_t.c.status == "failed")
        .values(status="pending", next_at=now)
    )
    return done.rowcount == 1


def add_attempt(conn: Connection, row: AttemptRow) -> None:
    conn.execute(attempts_t.insert().values(**row.__dict__))


def attempts_of(conn: Connection, delivery_id: str) -> list[AttemptRow]:
    rows = conn.execute(
        sa.select(attempts_t)
        .where(attempts_t.c.delivery_id == delivery_id)
        .order_by(attempts_t.c.attempt)
    )
    return [AttemptRow(**dict(r._mapping)) for r in rows]
