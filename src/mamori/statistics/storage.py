"""The queries of statistics: the query log (``statistics_queries``), the keys of pseudonyms
(``pseudonym_keys``) and the records of pseudonymised exports (``pseudonymised_exports``).

Every function runs on the caller's connection, inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = [
    "ExportRow",
    "LoggedQuery",
    "compared",
    "current_generation",
    "export_rows",
    "forget_people",
    "insert_export",
    "insert_key",
    "insert_query",
    "last_generation",
    "live_generations",
    "logged_queries",
    "logged_query",
    "mark_destroyed",
    "people_of",
]

queries_t = tables.statistics_queries
keys_t = tables.pseudonym_keys
exports_t = tables.pseudonymised_exports


@dataclass(frozen=True)
class LoggedQuery:
    id: str
    purpose_id: str
    actor: str
    shape: str
    population_key: str
    population: int
    signature: bytes
    created_at: dt.datetime
    people: bytes | None = None


@dataclass(frozen=True)
class ExportRow:
    id: str
    purpose_id: str
    actor: str
    format: str
    rows: int
    key_generation: int
    columns: str
    sha256: str
    created_at: dt.datetime


_WITHOUT_PEOPLE = [c for c in queries_t.c if c.name != "people"]


def _query(row: sa.Row[tuple[object, ...]]) -> LoggedQuery:
    return LoggedQuery(**row._asdict())


def insert_query(conn: Connection, query: LoggedQuery) -> None:
    conn.execute(queries_t.insert().values(**query.__dict__))


def compared(conn: Connection, purpose_id: str) -> list[LoggedQuery]:
    """The purpose's queries that still hold their people, newest first, without the people
    (:func:`people_of` reads them: a million people are 8 MB)."""
    rows = conn.execute(
        sa.select(*_WITHOUT_PEOPLE)
        .where(queries_t.c.purpose_id == purpose_id, queries_t.c.people.is_not(None))
        .order_by(queries_t.c.created_at.desc(), queries_t.c.id)
    ).all()
    return [_query(row) for row in rows]


def people_of(conn: Connection, query_id: str) -> bytes | None:
    """The people a logged query counted (sorted 8-byte tokens), if it still holds them."""
    people: bytes | None = conn.execute(
        sa.select(queries_t.c.people).where(queries_t.c.id == query_id)
    ).scalar_one_or_none()
    return people


def forget_people(conn: Connection, query_ids: Sequence[str]) -> None:
    """Drop the people of these queries (no longer compared): the shape and counts stay."""
    if query_ids:
        conn.execute(
            queries_t.update().where(queries_t.c.id.in_(list(query_ids))).values(people=None)
        )


def logged_queries(
    conn: Connection, purpose_id: str | None = None, *, limit: int = 200
) -> list[LoggedQuery]:
    """The query log, newest first (of one purpose, or of all), without the people."""
    query = sa.select(*_WITHOUT_PEOPLE).order_by(queries_t.c.created_at.desc(), queries_t.c.id)
    if purpose_id is not None:
        query = query.where(queries_t.c.purpose_id == purpose_id)
    return [_query(row) for row in conn.execute(query.limit(limit)).all()]


def logged_query(conn: Connection, query_id: str) -> LoggedQuery | None:
    row = conn.execute(sa.select(*_WITHOUT_PEOPLE).where(queries_t.c.id == query_id)).first()
    return _query(row) if row is not None else None


# -- keys of pseudonyms ---------------------------------------------------------------------------


def current_generation(conn: Connection, purpose_id: str) -> int | None:
    """The purpose's live generation (the newest not destroyed), if any."""
    found = conn.execute(
        sa.select(sa.func.max(keys_t.c.generation)).where(
            keys_t.c.purpose_id == purpose_id, keys_t.c.destroyed_at.is_(None)
        )
    ).scalar()
    return int(found) if found is not None else None


def live_generations(conn: Connection, purpose_id: str) -> list[int]:
    return list(
        conn.execute(
            sa.select(keys_t.c.generation).where(
                keys_t.c.purpose_id == purpose_id, keys_t.c.destroyed_at.is_(None)
            )
        ).scalars()
    )


def last_generation(conn: Connection, purpose_id: str) -> int:
    found = conn.execute(
        sa.select(sa.func.max(keys_t.c.generation)).where(keys_t.c.purpose_id == purpose_id)
    ).scalar()
    return int(found or 0)


def insert_key(
    conn: Connection, purpose_id: str, generation: int, actor: str, now: dt.datetime
) -> None:
    conn.execute(
        keys_t.insert().values(
            purpose_id=purpose_id, generation=generation, created_by=actor, created_at=now
        )
    )


def mark_destroyed(conn: Connection, purpose_id: str, actor: str, now: dt.datetime) -> int:
    """Mark every live generation of the purpose's key destroyed; how many."""
    done = conn.execute(
        keys_t.update()
        .where(keys_t.c.purpose_id == purpose_id, keys_t.c.destroyed_at.is_(None))
        .values(destroyed_by=actor, destroyed_at=now)
    )
    return int(done.rowcount or 0)


# -- records of exports ---------------------------------------------------------------------------


def insert_export(conn: Connection, row: ExportRow) -> None:
    conn.execute(exports_t.insert().values(**row.__dict__))


def export_rows(conn: Connection, *, limit: int = 200) -> list[ExportRow]:
    rows = conn.execute(
        sa.select(exports_t).order_by(exports_t.c.created_at.desc(), exports_t.c.id).limit(limit)
    ).all()
    return [ExportRow(**row._asdict()) for row in rows]
