"""The vault's queries on usage events (``usage_events``): appended in batches, read back by id
or by time for one person. Purging them past retention is :func:`.subjects.purge_expired`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = ["event_page", "events_by_time", "insert_events"]

events_t = tables.usage_events


def insert_events(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Each row: subject_id, occurred_at, expires_at, ciphertext."""
    if rows:
        conn.execute(events_t.insert(), list(rows))


def event_page(
    conn: Connection, subject_id: str, *, after: int, limit: int
) -> list[tuple[int, bytes, dt.datetime]]:
    """(id, ciphertext, occurred at) of the subject's next ``limit`` events after id ``after``."""
    rows = conn.execute(
        sa.select(events_t.c.id, events_t.c.ciphertext, events_t.c.occurred_at)
        .where(events_t.c.subject_id == subject_id, events_t.c.id > after)
        .order_by(events_t.c.id)
        .limit(limit)
    ).all()
    return [(row.id, row.ciphertext, row.occurred_at) for row in rows]


def events_by_time(
    conn: Connection,
    subject_id: str,
    *,
    after: tuple[dt.datetime, int] | None,
    limit: int,
) -> list[tuple[int, dt.datetime, bytes]]:
    """(id, occurred at, ciphertext) of the subject's next ``limit`` events in time order, after
    the event ``after`` ((occurred at, id)). Keyset pages in the order of the index (subject_id,
    occurred_at): each page is a range scan, so a million events cost a million rows, not a
    sort per page."""
    position = events_t.c.subject_id == subject_id
    if after is not None:
        position = sa.and_(
            position,
            sa.tuple_(events_t.c.occurred_at, events_t.c.id)
            > sa.tuple_(
                sa.literal(after[0], type_=events_t.c.occurred_at.type), sa.literal(after[1])
            ),
        )
    rows = conn.execute(
        sa.select(events_t.c.id, events_t.c.occurred_at, events_t.c.ciphertext)
        .where(position)
        .order_by(events_t.c.occurred_at, events_t.c.id)
        .limit(limit)
    ).all()
    return [(row.id, row.occurred_at, row.ciphertext) for row in rows]
