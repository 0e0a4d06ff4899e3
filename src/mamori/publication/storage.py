"""The publication's queries: published policy versions (``policy_versions``) and what each
version changed (``policy_changes``), with the change notices' cursor.

Every function runs on the caller's connection, inside its transaction (:func:`mamori.store.db.
write` or :func:`~mamori.store.db.read`), and returns plain values or frozen rows. Columns
arrive and leave as stored: the change record's JSON texts are encoded and decoded by
:mod:`mamori.publication.records`. Nothing here holds personal data: texts and ids only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.policy.diff import Level
from mamori.store import tables

__all__ = [
    "ChangeRow",
    "NoticesCursor",
    "PolicyVersion",
    "advance_notices",
    "all_changes",
    "all_versions",
    "consent_change_rows",
    "find_change",
    "find_version",
    "finish_notices",
    "insert_change",
    "insert_version",
    "latest_version",
    "latest_version_number",
    "notices_cursor",
]

versions_t = tables.policy_versions
changes_t = tables.policy_changes

_LATEST = sa.select(versions_t).order_by(versions_t.c.version.desc()).limit(1)


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One published version of the policy."""

    version: int
    policy_id: str
    content_hash: str
    """SHA-256 (hex) of ``canonical_json``."""
    effective_date: dt.date
    published_at: dt.datetime
    source_yaml: str
    canonical_json: str


@dataclass(frozen=True)
class ChangeRow:
    """A change record as stored: ``changes``, ``consent_uses`` and ``consent_recipients`` are
    the JSON texts of the columns (see :class:`mamori.publication.records.ChangeRecord`)."""

    version: int
    previous_version: int
    level: str
    changes: str
    consent_uses: str
    consent_recipients: str
    published_at: dt.datetime
    notices_queued: int
    notices_done_at: dt.datetime | None


@dataclass(frozen=True)
class NoticesCursor:
    """How far the change notices of a version went: every subject id up to ``after`` was
    handled; ``done_at`` is set once everyone was."""

    after: str
    done_at: dt.datetime | None


# -- published versions --------------------------------------------------------------------------


def _version(row: sa.Row[Any]) -> PolicyVersion:
    return PolicyVersion(
        version=row.version,
        policy_id=row.policy_id,
        content_hash=row.content_hash,
        effective_date=row.effective_date,
        published_at=row.published_at,
        source_yaml=row.source_yaml,
        canonical_json=row.canonical_json,
    )


def latest_version(conn: Connection) -> PolicyVersion | None:
    """The current (highest) version, or ``None`` before the first publication."""
    row = conn.execute(_LATEST).first()
    return _version(row) if row is not None else None


def latest_version_number(conn: Connection) -> int | None:
    """The number of the current version alone (``None`` before the first publication)."""
    latest = conn.execute(sa.select(sa.func.max(versions_t.c.version))).scalar()
    return int(latest) if latest is not None else None


def find_version(conn: Connection, version: int) -> PolicyVersion | None:
    row = conn.execute(sa.select(versions_t).where(versions_t.c.version == version)).first()
    return _version(row) if row is not None else None


def all_versions(conn: Connection) -> list[PolicyVersion]:
    """Every published version, oldest first."""
    rows = conn.execute(sa.select(versions_t).order_by(versions_t.c.version)).all()
    return [_version(row) for row in rows]


def insert_version(
    conn: Connection,
    *,
    version: int,
    policy_id: str,
    content_hash: str,
    effective_date: dt.date,
    published_at: dt.datetime,
    source_yaml: str,
    canonical_json: str,
) -> None:
    conn.execute(
        sa.insert(versions_t).values(
            version=version,
            policy_id=policy_id,
            content_hash=content_hash,
            effective_date=effective_date,
            published_at=published_at,
            source_yaml=source_yaml,
            canonical_json=canonical_json,
        )
    )


# -- change records ------------------------------------------------------------------------------


def _change(row: sa.Row[Any]) -> ChangeRow:
    return ChangeRow(
        version=row.version,
        previous_version=row.previous_version,
        level=row.level,
        changes=row.changes,
        consent_uses=row.consent_uses,
        consent_recipients=row.consent_recipients,
        published_at=row.published_at,
        notices_queued=row.notices_queued,
        notices_done_at=row.notices_done_at,
    )


def insert_change(
    conn: Connection,
    *,
    version: int,
    previous_version: int,
    level: str,
    changes: str,
    consent_uses: str,
    consent_recipients: str,
    published_at: dt.datetime,
    notices_done_at: dt.datetime | None,
) -> None:
    """Store the change record of ``version``; its notices start from the first subject id."""
    conn.execute(
        changes_t.insert().values(
            version=version,
            previous_version=previous_version,
            level=level,
            changes=changes,
            consent_uses=consent_uses,
            consent_recipients=consent_recipients,
            published_at=published_at,
            notices_after="",
            notices_queued=0,
            notices_done_at=notices_done_at,
        )
    )


def all_changes(conn: Connection) -> list[ChangeRow]:
    """Every change record, oldest first."""
    rows = conn.execute(sa.select(changes_t).order_by(changes_t.c.version)).all()
    return [_change(r) for r in rows]


def find_change(conn: Connection, version: int) -> ChangeRow | None:
    row = conn.execute(sa.select(changes_t).where(changes_t.c.version == version)).first()
    return _change(row) if row is not None else None


def consent_change_rows(conn: Connection) -> list[tuple[int, dt.datetime, str]]:
    """(version, published at, consent uses as JSON) of every change that needs consent."""
    rows = conn.execute(
        sa.select(changes_t.c.version, changes_t.c.published_at, changes_t.c.consent_uses).where(
            changes_t.c.level == Level.consent_required.value
        )
    ).all()
    return [(r.version, r.published_at, r.consent_uses) for r in rows]


# -- the change notices' cursor ------------------------------------------------------------------


def notices_cursor(conn: Connection, version: int) -> NoticesCursor:
    """Where the notices of the change of ``version`` stand (the record must exist)."""
    row = conn.execute(
        sa.select(changes_t.c.notices_after, changes_t.c.notices_done_at).where(
            changes_t.c.version == version
        )
    ).one()
    return NoticesCursor(row.notices_after, row.notices_done_at)


def finish_notices(conn: Connection, version: int, now: dt.datetime) -> None:
    """Every notice of the change of ``version`` went out."""
    conn.execute(
        changes_t.update().where(changes_t.c.version == version).values(notices_done_at=now)
    )


def advance_notices(conn: Connection, version: int, *, after: str, queued: int) -> None:
    """Move the cursor past subject id ``after`` and count ``queued`` more notices (added in
    the statement, so concurrent counts are not lost)."""
    conn.execute(
        changes_t.update()
        .where(changes_t.c.version == version)
        .values(notices_after=after, notices_queued=changes_t.c.notices_queued + queued)
    )
