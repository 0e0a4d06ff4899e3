"""The privacy center's queries: single-use links and sessions (``center_links``,
``center_sessions``). Only hashes of tokens are stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = [
    "LinkRow",
    "SessionRow",
    "claim_link",
    "delete_links_of",
    "delete_session",
    "delete_sessions_of",
    "find_link",
    "find_session",
    "insert_link",
    "open_session",
    "prune_links",
    "slide_session",
]

links_t = tables.center_links
sessions_t = tables.center_sessions


@dataclass(frozen=True)
class LinkRow:
    subject_id: str
    expires_at: dt.datetime
    used_at: dt.datetime | None
    operations: str


@dataclass(frozen=True)
class SessionRow:
    subject_id: str
    csrf_token: str
    expires_at: dt.datetime
    operations: str


def prune_links(conn: Connection, now: dt.datetime) -> None:
    """Forget links that expired (their hashes would only grow the table)."""
    conn.execute(links_t.delete().where(links_t.c.expires_at <= now))


def insert_link(
    conn: Connection,
    *,
    nonce_hash: bytes,
    subject_id: str,
    expires_at: dt.datetime,
    operations: str,
) -> None:
    conn.execute(
        links_t.insert().values(
            nonce_hash=nonce_hash,
            subject_id=subject_id,
            expires_at=expires_at,
            used_at=None,
            operations=operations,
        )
    )


def find_link(conn: Connection, nonce_hash: bytes) -> LinkRow | None:
    row = conn.execute(
        sa.select(
            links_t.c.subject_id, links_t.c.expires_at, links_t.c.used_at, links_t.c.operations
        ).where(links_t.c.nonce_hash == nonce_hash)
    ).one_or_none()
    if row is None:
        return None
    return LinkRow(row.subject_id, row.expires_at, row.used_at, row.operations)


def claim_link(conn: Connection, nonce_hash: bytes, now: dt.datetime) -> bool:
    """Mark the link used unless it is already: whether this call spent it (one statement, so
    two requests racing with one link spend it once)."""
    return bool(
        conn.execute(
            links_t.update()
            .where(links_t.c.nonce_hash == nonce_hash, links_t.c.used_at.is_(None))
            .values(used_at=now)
        ).rowcount
    )


def open_session(
    conn: Connection,
    *,
    token_hash: bytes,
    subject_id: str,
    csrf_token: str,
    now: dt.datetime,
    expires_at: dt.datetime,
    replacing: bytes | None,
    operations: str,
) -> None:
    """A new session; expired sessions, and the one ``replacing`` names, are deleted."""
    stale = sessions_t.c.expires_at <= now
    if replacing is not None:
        stale = sa.or_(stale, sessions_t.c.token_hash == replacing)
    conn.execute(sessions_t.delete().where(stale))
    conn.execute(
        sessions_t.insert().values(
            token_hash=token_hash,
            subject_id=subject_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
            operations=operations,
        )
    )


def find_session(conn: Connection, token_hash: bytes) -> SessionRow | None:
    row = conn.execute(
        sa.select(
            sessions_t.c.subject_id,
            sessions_t.c.csrf_token,
            sessions_t.c.expires_at,
            sessions_t.c.operations,
        ).where(sessions_t.c.token_hash == token_hash)
    ).one_or_none()
    if row is None:
        return None
    return SessionRow(row.subject_id, row.csrf_token, row.expires_at, row.operations)


def slide_session(conn: Connection, token_hash: bytes, expires_at: dt.datetime) -> None:
    conn.execute(
        sessions_t.update()
        .where(sessions_t.c.token_hash == token_hash)
        .values(expires_at=expires_at)
    )


def delete_session(conn: Connection, token_hash: bytes) -> None:
    conn.execute(sessions_t.delete().where(sessions_t.c.token_hash == token_hash))


def delete_links_of(conn: Connection, subject_id: str) -> int:
    """Withdrawal: every link of the person (counted)."""
    return int(conn.execute(links_t.delete().where(links_t.c.subject_id == subject_id)).rowcount)


def delete_sessions_of(conn: Connection, subject_id: str) -> int:
    """Withdrawal: every session of the person (counted)."""
    return int(
        conn.execute(sessions_t.delete().where(sessions_t.c.subject_id == subject_id)).rowcount
    )
