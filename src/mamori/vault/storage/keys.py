"""The vault's queries on keys: system keys, the master-key version that wraps each key, and
service accounts' API keys (stored as hashes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from mamori.store import tables

__all__ = [
    "ServiceKeyRow",
    "all_service_keys",
    "count_wrapped",
    "delete_system_key",
    "insert_service_key",
    "insert_system_key",
    "revoke_service_key",
    "rewrap_subject_key",
    "rewrap_system_key",
    "service_key",
    "subjects_to_rewrap",
    "system_key",
    "system_keys_to_rewrap",
]

ServiceKeyRow = sa.Row[Any]
"""A row of ``service_keys``: id, name, secret_hash, purposes, operations, created_at,
revoked_at, contractor_id (the vault turns it into a ``ServiceAccount``)."""

_system = tables.system_keys
_subjects = tables.subjects
_service = tables.service_keys
_BY_ID = sa.select(_service).where(_service.c.id == sa.bindparam("key_id"))
_ALL = sa.select(_service).order_by(_service.c.created_at, _service.c.id)


# -- system keys ---------------------------------------------------------------------------------


def system_key(conn: Connection, name: str) -> bytes | None:
    """The system key ``name`` as stored (wrapped), if it exists."""
    found: bytes | None = conn.execute(
        sa.select(_system.c.wrapped).where(_system.c.name == name)
    ).scalar_one_or_none()
    return found


def insert_system_key(
    conn: Connection, *, name: str, wrapped: bytes, master_version: int, now: dt.datetime
) -> bool:
    """Store a new system key; ``False`` when another process stored one of that name first."""
    insert = (
        postgresql.insert(_system) if conn.dialect.name == "postgresql" else sqlite.insert(_system)
    )
    added = conn.execute(
        insert.values(name=name, wrapped=wrapped, master_version=master_version, created_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(_system.c.name)  # what was inserted: rowcount is not reliable here
    ).first()
    return added is not None


def system_keys_to_rewrap(conn: Connection, current: int) -> list[tuple[str, bytes]]:
    """(name, wrapped) of every system key wrapped by a master version before ``current``."""
    rows = conn.execute(
        sa.select(_system.c.name, _system.c.wrapped)
        .where(_system.c.master_version < current)
        .order_by(_system.c.name)
    ).all()
    return [(row.name, row.wrapped) for row in rows]


def delete_system_key(conn: Connection, name: str) -> bool:
    """Delete the system key ``name`` (its wrapped copy: the key is gone); whether it was there."""
    return bool(conn.execute(sa.delete(_system).where(_system.c.name == name)).rowcount)


def rewrap_system_key(
    conn: Connection, name: str, old: bytes, new: bytes, master_version: int
) -> bool:
    """Replace the key's wrapping unless someone changed it meanwhile; whether it was replaced."""
    return bool(
        conn.execute(
            sa.update(_system)
            .where(_system.c.name == name, _system.c.wrapped == old)
            .values(wrapped=new, master_version=master_version)
        ).rowcount
    )


# -- subjects' data keys --------------------------------------------------------------------------


def count_wrapped(conn: Connection, version: int, *, older: bool) -> tuple[int, int]:
    """(subject keys, system keys) wrapped by master ``version`` (``older``: by any before it)."""

    def by(column: sa.ColumnElement[int | None]) -> sa.ColumnElement[bool]:
        return column < version if older else column == version

    subjects = conn.execute(
        sa.select(sa.func.count())
        .select_from(_subjects)
        .where(_subjects.c.wrapped_key.is_not(None), by(_subjects.c.master_version))
    ).scalar_one()
    system = conn.execute(
        sa.select(sa.func.count()).select_from(_system).where(by(_system.c.master_version))
    ).scalar_one()
    return int(subjects), int(system)


def subjects_to_rewrap(
    conn: Connection, target: int, *, after: str, limit: int
) -> list[tuple[str, bytes]]:
    """(id, wrapped key) of the next ``limit`` subjects after ``after`` whose data key a master
    version before ``target`` wraps."""
    rows = conn.execute(
        sa.select(_subjects.c.id, _subjects.c.wrapped_key)
        .where(
            _subjects.c.wrapped_key.is_not(None),
            _subjects.c.master_version < target,
            _subjects.c.id > after,
        )
        .order_by(_subjects.c.id)
        .limit(limit)
    ).all()
    return [(row.id, row.wrapped_key) for row in rows]


def rewrap_subject_key(
    conn: Connection, subject_id: str, old: bytes, new: bytes, master_version: int
) -> bool:
    """Replace the data key's wrapping unless it changed meanwhile (a withdrawal, another
    rotation); whether it was replaced."""
    return bool(
        conn.execute(
            sa.update(_subjects)
            .where(_subjects.c.id == subject_id, _subjects.c.wrapped_key == old)
            .values(wrapped_key=new, master_version=master_version)
        ).rowcount
    )


# -- service accounts' API keys ------------------------------------------------------------------


def service_key(conn: Connection, key_id: str) -> ServiceKeyRow | None:
    return conn.execute(_BY_ID, {"key_id": key_id}).first()


def all_service_keys(conn: Connection) -> list[ServiceKeyRow]:
    """Every key, revoked ones included, oldest first."""
    return list(conn.execute(_ALL).all())


def insert_service_key(conn: Connection, **values: object) -> None:
    """Store a key: id, name, secret_hash, purposes and operations (JSON), created_at and
    contractor_id (None unless a contractor's)."""
    conn.execute(sa.insert(_service).values(revoked_at=None, **values))


def revoke_service_key(conn: Connection, key_id: str, now: dt.datetime) -> bool:
    """Revoke the key unless it is revoked already; whether this call revoked it."""
    return bool(
        conn.execute(
            sa.update(_service)
            .where(_service.c.id == key_id, _service.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount
    )
