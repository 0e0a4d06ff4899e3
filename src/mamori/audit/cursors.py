"""Positions in the audit log kept by the jobs that follow it (alerts, webhooks).

A follower reads entries after its position, acts on them, and moves the position, all in one
write transaction under :func:`lock`, so that two processes never act on an entry twice. Each
follower keeps its position in a table of its own (``name`` -> ``last_seq``), named here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import db

__all__ = ["lock", "position", "set_position"]

_NAME = "audit"


def lock(conn: Connection, table: sa.Table, lock_name: str) -> int:
    """Serialise the followers of ``lock_name`` until the transaction ends; their position.

    PostgreSQL: an advisory lock, then the position read afresh (READ COMMITTED sees every
    earlier holder's commit). SQLite: ``BEGIN IMMEDIATE`` already holds the write lock.
    """
    db.lock_keys(conn, lock_name, [b"cursor"])
    return position(conn, table)


def position(conn: Connection, table: sa.Table) -> int:
    """The last audit entry the follower keeping ``table`` acted on (0: none yet)."""
    found = conn.execute(
        sa.select(table.c.last_seq).where(table.c.name == _NAME)
    ).scalar_one_or_none()
    return int(found) if found is not None else 0


def set_position(conn: Connection, table: sa.Table, last_seq: int) -> None:
    done = conn.execute(table.update().where(table.c.name == _NAME).values(last_seq=last_seq))
    if done.rowcount == 0:
        conn.execute(table.insert().values(name=_NAME, last_seq=last_seq))
