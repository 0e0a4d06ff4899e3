"""The consent package's queries: receipts (``consent_receipts``), the banner texts shown
(``consent_texts``), and the audit log's ``consent.record`` anchors, as the verifier reads them.

Every function runs on the caller's connection, inside its transaction (:func:`mamori.store.db.
write` or :func:`~mamori.store.db.read`), and returns plain values or frozen rows. The chain of
receipts is computed by :mod:`mamori.consent.receipts`: here receipts are stored and read as
they are, their categories and services as canonical JSON text. Audit entries are not written
here: the caller appends them through :class:`mamori.audit.log.AuditLog`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.audit.queries import insert_ignoring_duplicates
from mamori.store import bulk, tables

__all__ = [
    "BannerText",
    "ReceiptRow",
    "anchor_details",
    "count",
    "for_subject",
    "head",
    "insert_link",
    "insert_receipts",
    "insert_texts",
    "latest",
    "latest_choices",
    "newest_of_person",
    "page",
    "people_of",
    "people_of_receipts",
    "text",
    "texts",
]

receipts_t = tables.consent_receipts
texts_t = tables.consent_texts
links_t = tables.consent_links
_audit_t = tables.audit_entries

_HEAD = (
    sa.select(receipts_t.c.seq, receipts_t.c.receipt_hash)
    .order_by(receipts_t.c.seq.desc())
    .limit(1)
)
_INSERT = sa.insert(receipts_t)


@dataclass(frozen=True)
class ReceiptRow:
    """A ``consent_receipts`` row as stored (``categories`` and ``services`` canonical JSON)."""

    seq: int
    consent_id: str
    subject_id: str | None
    policy_version: int
    section_hash: str
    language: str
    text_hash: str
    gpc: bool
    method: str
    source: str
    categories: str
    services: str
    created_at: dt.datetime
    expires_at: dt.datetime
    prev_hash: bytes
    receipt_hash: bytes


@dataclass(frozen=True)
class BannerText:
    """The exact text of a banner (canonical JSON) to keep, by its SHA-256 (hex)."""

    text_hash: str
    policy_version: int
    language: str
    gpc: bool
    text: str


def _row(row: sa.Row[tuple[object, ...]]) -> ReceiptRow:
    return ReceiptRow(**row._mapping)


# -- writing -------------------------------------------------------------------------------------


def head(conn: Connection) -> tuple[int, bytes] | None:
    """(seq, receipt hash) of the newest receipt, if any. Read it under the audit log's
    writers' lock (``db.lock(conn, "audit")``) to append after it."""
    row = conn.execute(_HEAD).first()
    return (row[0], bytes(row[1])) if row is not None else None


def insert_texts(conn: Connection, texts: Iterable[BannerText], now: dt.datetime) -> None:
    """Keep the banner texts of ``texts`` (one kept already is left as it is)."""
    insert = insert_ignoring_duplicates(conn)(texts_t)
    conn.execute(
        insert,
        [
            {
                "text_hash": t.text_hash,
                "policy_version": t.policy_version,
                "language": t.language,
                "gpc": t.gpc,
                "text": t.text,
                "created_at": now,
            }
            for t in texts
        ],
    )


def insert_receipts(conn: Connection, rows: Sequence[ReceiptRow]) -> None:
    """Store the receipts of ``rows`` (one statement)."""
    conn.execute(_INSERT, [vars(row) for row in rows])


# -- reading -------------------------------------------------------------------------------------


def latest(conn: Connection, consent_id: str) -> ReceiptRow | None:
    """The newest receipt of a consent ID."""
    row = conn.execute(
        sa.select(receipts_t)
        .where(receipts_t.c.consent_id == consent_id)
        .order_by(receipts_t.c.seq.desc())
        .limit(1)
    ).first()
    return _row(row) if row is not None else None


def count(conn: Connection) -> int:
    """How many receipts are stored."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(receipts_t)).scalar_one())


def page(conn: Connection, *, after: int, limit: int) -> list[ReceiptRow]:
    """Up to ``limit`` receipts with a sequence number above ``after``, oldest first."""
    query = sa.select(receipts_t).where(receipts_t.c.seq > after).order_by(receipts_t.c.seq)
    return [_row(row) for row in conn.execute(query.limit(limit))]


def for_subject(conn: Connection, subject_id: str) -> Iterator[ReceiptRow]:
    """The receipts of choices ``subject_id`` made signed in, oldest first."""
    query = (
        sa.select(receipts_t)
        .where(receipts_t.c.subject_id == subject_id)
        .order_by(receipts_t.c.seq)
    )
    for row in conn.execute(query):
        yield _row(row)


def people_of(conn: Connection, consent_id: str) -> list[str]:
    """The people (at most two: one is enough to know, two too many) who made choices under
    ``consent_id``: tied to it by the host (:func:`insert_link`), or signed in to the center."""
    linked = sa.select(links_t.c.subject_id).where(links_t.c.consent_id == consent_id)
    signed_in = (
        sa.select(receipts_t.c.subject_id)
        .where(receipts_t.c.consent_id == consent_id, receipts_t.c.subject_id.is_not(None))
        .distinct()
    )
    query = sa.union(linked, signed_in).limit(2)
    return [str(row[0]) for row in conn.execute(query)]


def newest_of_person(
    conn: Connection, subject_id: str, section_hash: str, now: dt.datetime
) -> ReceiptRow | None:
    """The newest unexpired receipt of a choice ``subject_id`` made on the cookie section
    ``section_hash``: signed in to the privacy center, or under a consent ID tied to them."""
    live = (receipts_t.c.section_hash == section_hash, receipts_t.c.expires_at > now)
    signed_in = (
        sa.select(receipts_t)
        .where(receipts_t.c.subject_id == subject_id, *live)
        .order_by(receipts_t.c.seq.desc())
        .limit(1)
    )
    linked = (
        sa.select(receipts_t)
        .join(links_t, links_t.c.consent_id == receipts_t.c.consent_id)
        .where(links_t.c.subject_id == subject_id, *live)
        .order_by(receipts_t.c.seq.desc())
        .limit(1)
    )
    rows = [row for row in (conn.execute(q).first() for q in (signed_in, linked)) if row]
    return _row(max(rows, key=lambda row: int(row.seq))) if rows else None


def people_of_receipts(conn: Connection, first: int, last: int) -> list[tuple[int, str, str]]:
    """(receipt seq, subject id, categories as canonical JSON) of the receipts ``first`` to
    ``last`` that a known person made: signed in to the privacy center, or under a consent ID
    linked to them before the choice (one per person linked)."""
    rows = conn.execute(
        sa.select(
            receipts_t.c.seq,
            receipts_t.c.subject_id,
            links_t.c.subject_id,
            receipts_t.c.categories,
        )
        .outerjoin(
            links_t,
            sa.and_(
                links_t.c.consent_id == receipts_t.c.consent_id,
                links_t.c.linked_at <= receipts_t.c.created_at,
            ),
        )
        .where(receipts_t.c.seq >= first, receipts_t.c.seq <= last)
        .order_by(receipts_t.c.seq)
    )
    found: dict[tuple[int, str], str] = {}
    for seq, signed_in, linked, categories in rows:
        for subject in (signed_in, linked):
            if subject:
                found[(int(seq), str(subject))] = str(categories)
    return [(seq, subject, categories) for (seq, subject), categories in found.items()]


def insert_link(
    conn: Connection, consent_id: str, subject_id: str, at: dt.datetime, actor: str
) -> bool:
    """Note that ``subject_id`` made the choices of ``consent_id``; False when already noted."""
    insert = insert_ignoring_duplicates(conn)(links_t)
    done = conn.execute(
        insert.values(
            consent_id=consent_id, subject_id=subject_id, linked_at=at, actor=actor
        ).returning(links_t.c.consent_id)
    ).first()
    return done is not None


def latest_choices(
    conn: Connection, subject_ids: Sequence[str], now: dt.datetime, services: Sequence[str]
) -> dict[str, tuple[int, str, bool]]:
    """subject id -> (sequence number, consent ID, whether it allows every one of
    ``services``) of the newest unexpired receipt of a choice the person made: signed in to the
    privacy center, or under a consent ID tied to them (:func:`insert_link`). Two narrow
    statements for any number of people (a streamed provision asks this per page); whether the
    services are allowed is read from the receipt's canonical JSON by the database."""
    # Canonical JSON (sorted keys, no spaces) writes an allowed service as "id":true.
    allowed = " AND ".join(["services LIKE {p} ESCAPE '!'"] * len(services)) or "1 = 1"
    patterns = [
        "%"
        + orjson.dumps(service).decode().replace("!", "!!").replace("%", "!%").replace("_", "!_")
        + ":true%"
        for service in services
    ]
    found: dict[str, tuple[int, str, bool]] = {}
    for template in (_SIGNED_IN, _LINKED):
        sql = template.replace("{allowed}", allowed)
        for person, seq, consent_id, ok in bulk.select_ids(conn, sql, subject_ids, *patterns, now):
            held = found.get(person)
            if held is None or seq > held[0]:
                found[person] = (seq, consent_id, bool(ok))
    return found


_SIGNED_IN = (
    "SELECT subject_id, seq, consent_id, CASE WHEN {allowed} THEN 1 ELSE 0 END"
    " FROM consent_receipts WHERE subject_id {ids} AND expires_at > {p}"
)
_LINKED = (
    "SELECT l.subject_id, r.seq, r.consent_id, CASE WHEN {allowed} THEN 1 ELSE 0 END"
    " FROM consent_links l JOIN consent_receipts r ON r.consent_id = l.consent_id"
    " WHERE l.subject_id {ids} AND r.expires_at > {p}"
)


def text(conn: Connection, text_hash: str) -> str | None:
    """The kept banner text with this hash."""
    found: str | None = conn.execute(
        sa.select(texts_t.c.text).where(texts_t.c.text_hash == text_hash)
    ).scalar_one_or_none()
    return found


def texts(conn: Connection) -> Iterator[tuple[str, str]]:
    """(text hash, text) of every kept banner text."""
    rows = conn.execute(sa.select(texts_t.c.text_hash, texts_t.c.text))
    return ((row.text_hash, row.text) for row in rows)


def anchor_details(conn: Connection) -> Iterator[str]:
    """The details (canonical JSON) of every ``consent.record`` entry of the audit log."""
    for (details,) in conn.execute(
        sa.select(_audit_t.c.details).where(_audit_t.c.action == "consent.record")
    ):
        yield details
