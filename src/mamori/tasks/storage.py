"""The lease of a periodic job's period (``job_runs``): every server process schedules every job,
and the first to claim a period runs it; the others skip it until the next.

A claim is one conditional update in a write transaction: on SQLite the write lock orders two
claims, on PostgreSQL the row lock does (the second update re-reads the row once the first
commits, and no longer matches). A period counts as taken for nine tenths of its length, so
that schedulers whose clocks tick a little apart do not skip a period between them.
"""

from __future__ import annotations

import datetime as dt

from mamori.audit.queries import insert_ignoring_duplicates
from mamori.store import db, tables
from mamori.store.db import Engine

__all__ = ["claim", "last_start"]

runs_t = tables.job_runs
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def claim(engine: Engine, name: str, holder: str, now: dt.datetime, period: float) -> bool:
    """Whether ``holder`` takes the period of job ``name`` that starts ``now`` (no one started
    it in the last 0.9 x ``period`` seconds)."""
    taken_since = now - dt.timedelta(seconds=0.9 * period)
    with db.write(engine) as conn:
        conn.execute(
            insert_ignoring_duplicates(conn)(runs_t).values(
                name=name, started_at=_EPOCH, holder=holder
            )
        )
        done = conn.execute(
            runs_t.update()
            .where(runs_t.c.name == name, runs_t.c.started_at <= taken_since)
            .values(started_at=now, holder=holder)
        )
    return done.rowcount == 1


def last_start(engine: Engine, name: str) -> tuple[dt.datetime, str] | None:
    """(when, by whom) job ``name`` last started, if it ever did."""
    with db.read(engine) as conn:
        row = conn.execute(
            runs_t.select().where(runs_t.c.name == name, runs_t.c.started_at > _EPOCH)
        ).first()
    return None if row is None else (row.started_at, row.holder)
