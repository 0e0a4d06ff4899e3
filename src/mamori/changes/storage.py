"""The queries of policy changes as they concern people: their consents to a change
(``policy_consents``) and the change notices they have read (``change_notice_reads``).

Every function runs on the caller's connection, inside its transaction (:func:`mamori.store.db.
write` or :func:`~mamori.store.db.read`), and returns plain values or frozen rows; ids and
dates only. The people themselves are the vault's (:mod:`mamori.vault.storage.subjects`), the
change records and their notices' cursor the publication's (:mod:`mamori.publication.storage`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = [
    "GivenConsent",
    "consent_of",
    "consents_of",
    "insert_consent",
    "mark_read",
    "read_versions",
]

consents_t = tables.policy_consents
reads_t = tables.change_notice_reads


@dataclass(frozen=True)
class GivenConsent:
    version: int
    consented_at: dt.datetime
    channel: str


# -- consents ------------------------------------------------------------------------------------


def consents_of(conn: Connection, subject_id: str) -> list[GivenConsent]:
    """Every consent the person gave, by version."""
    rows = conn.execute(
        sa.select(consents_t)
        .where(consents_t.c.subject_id == subject_id)
        .order_by(consents_t.c.version)
    ).all()
    return [GivenConsent(r.version, r.consented_at, r.channel) for r in rows]


def consent_of(conn: Connection, subject_id: str, version: int) -> GivenConsent | None:
    """The person's consent to the change of ``version``, if given."""
    row = conn.execute(
        sa.select(consents_t).where(
            consents_t.c.subject_id == subject_id, consents_t.c.version == version
        )
    ).first()
    return GivenConsent(row.version, row.consented_at, row.channel) if row is not None else None


def insert_consent(
    conn: Connection, *, subject_id: str, version: int, now: dt.datetime, channel: str
) -> None:
    conn.execute(
        consents_t.insert().values(
            subject_id=subject_id, version=version, consented_at=now, channel=channel
        )
    )


# -- notices read --------------------------------------------------------------------------------


def read_versions(conn: Connection, subject_id: str) -> set[int]:
    """The versions whose change notice the person has read."""
    return {
        r.version
        for r in conn.execute(
            sa.select(reads_t.c.version).where(reads_t.c.subject_id == subject_id)
        )
    }


def mark_read(conn: Connection, subject_id: str, version: int, now: dt.datetime) -> bool:
    """The person has read the notice of ``version``: whether this is the first time."""
    seen = conn.execute(
        sa.select(reads_t.c.version).where(
            reads_t.c.subject_id == subject_id, reads_t.c.version == version
        )
    ).first()
    if seen is None:
        conn.execute(reads_t.insert().values(subject_id=subject_id, version=version, read_at=now))
    return seen is None
