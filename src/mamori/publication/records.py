"""What each published version changed from the one before, stored beside the version.

A record is written in the transaction that publishes the version (see
:func:`mamori.publication.publish.publish_policy`), so a version never exists without its
classification. Records hold texts and ids only, never personal data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from mamori.policy.diff import Change, Level, PolicyDiff
from mamori.policy.rules import ConsentChange
from mamori.store import db, tables

__all__ = ["ChangeRecord", "consent_changes", "get", "insert", "records"]

changes_t = tables.policy_changes


@dataclass(frozen=True)
class ChangeRecord:
    version: int
    previous_version: int
    level: Level
    changes: tuple[Change, ...]
    consent_uses: frozenset[tuple[str, str]]
    consent_recipients: tuple[str, ...]
    published_at: dt.datetime
    notices_queued: int
    notices_done_at: dt.datetime | None

    @property
    def needs_consent(self) -> bool:
        return self.level is Level.consent_required

    @property
    def needs_notice(self) -> bool:
        return self.level is not Level.cosmetic

    def explain(self, lang: str) -> list[str]:
        return PolicyDiff(self.changes).explain(lang)


def insert(
    conn: Connection,
    *,
    version: int,
    previous_version: int,
    diff: PolicyDiff,
    published_at: dt.datetime,
) -> None:
    data = diff.to_json()
    conn.execute(
        changes_t.insert().values(
            version=version,
            previous_version=previous_version,
            level=diff.level.value,
            changes=orjson.dumps(data["changes"]).decode(),
            consent_uses=orjson.dumps(data["consent_uses"]).decode(),
            consent_recipients=orjson.dumps(data["consent_recipients"]).decode(),
            published_at=published_at,
            notices_after="",
            notices_queued=0,
            # Nothing to send for wording only.
            notices_done_at=published_at if diff.level is Level.cosmetic else None,
        )
    )


def _record(row: sa.Row[Any]) -> ChangeRecord:
    return ChangeRecord(
        version=row.version,
        previous_version=row.previous_version,
        level=Level(row.level),
        changes=tuple(
            Change(c["kind"], Level(c["level"]), c["ja"], c["en"])
            for c in orjson.loads(row.changes)
        ),
        consent_uses=frozenset((i, p) for i, p in orjson.loads(row.consent_uses)),
        consent_recipients=tuple(orjson.loads(row.consent_recipients)),
        published_at=row.published_at,
        notices_queued=row.notices_queued,
        notices_done_at=row.notices_done_at,
    )


def records(engine: Engine) -> list[ChangeRecord]:
    """Every change record, oldest first."""
    with db.read(engine) as conn:
        rows = conn.execute(sa.select(changes_t).order_by(changes_t.c.version)).all()
    return [_record(r) for r in rows]


def get(engine: Engine, version: int) -> ChangeRecord | None:
    with db.read(engine) as conn:
        row = conn.execute(sa.select(changes_t).where(changes_t.c.version == version)).first()
    return _record(row) if row is not None else None


def consent_changes(conn: Connection) -> list[ConsentChange]:
    """The changes whose new uses wait for each person's consent (input of the read rules)."""
    rows = conn.execute(
        sa.select(changes_t.c.version, changes_t.c.published_at, changes_t.c.consent_uses).where(
            changes_t.c.level == Level.consent_required.value
        )
    ).all()
    return [
        ConsentChange(
            r.version, r.published_at, frozenset((i, p) for i, p in orjson.loads(r.consent_uses))
        )
        for r in rows
    ]
