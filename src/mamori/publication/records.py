"""What each published version changed from the one before, stored beside the version.

A record is written in the transaction that publishes the version (see
:func:`mamori.publication.publish.publish_policy`), so a version never exists without its
classification. Records hold texts and ids only, never personal data. The queries are in
:mod:`mamori.publication.storage`, with the cursor of the change notices that
:mod:`mamori.changes.notices` moves forward.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson

from mamori.policy.diff import Change, Level, PolicyDiff, Timing
from mamori.policy.rules import ConsentChange
from mamori.publication import storage
from mamori.store import db
from mamori.store.db import Connection, Engine

__all__ = ["ChangeRecord", "consent_changes", "get", "insert", "records"]


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
    storage.insert_change(
        conn,
        version=version,
        previous_version=previous_version,
        level=diff.level.value,
        changes=orjson.dumps(data["changes"]).decode(),
        consent_uses=orjson.dumps(data["consent_uses"]).decode(),
        consent_recipients=orjson.dumps(data["consent_recipients"]).decode(),
        published_at=published_at,
        # Nothing to send for wording only.
        notices_done_at=published_at if diff.level is Level.cosmetic else None,
    )


def _record(row: storage.ChangeRow) -> ChangeRecord:
    return ChangeRecord(
        version=row.version,
        previous_version=row.previous_version,
        level=Level(row.level),
        changes=tuple(
            Change(
                c["kind"],
                Level(c["level"]),
                c["ja"],
                c["en"],
                Timing(c["timing"]) if c.get("timing") else None,
            )
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
        rows = storage.all_changes(conn)
    return [_record(r) for r in rows]


def get(engine: Engine, version: int) -> ChangeRecord | None:
    with db.read(engine) as conn:
        row = storage.find_change(conn, version)
    return _record(row) if row is not None else None


def consent_changes(conn: Connection) -> list[ConsentChange]:
    """The changes whose new uses wait for each person's consent (input of the read rules)."""
    return [
        ConsentChange(version, published_at, frozenset((i, p) for i, p in orjson.loads(uses)))
        for version, published_at, uses in storage.consent_change_rows(conn)
    ]
