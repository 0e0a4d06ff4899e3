"""The vault's queries on people's data: subjects, items, blind indexes, usage stops, events.

Every function runs on the caller's connection, inside its transaction (:func:`mamori.store.db.
write` or :func:`~mamori.store.db.read`), and returns plain values or frozen rows; the two
hottest reads (by id, by an indexed value) are one statement through the driver. Values arrive
and leave encrypted: nothing here sees plaintext.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from mamori.store import db, tables

__all__ = [
    "ByRow",
    "ReadRow",
    "StoredItem",
    "SubjectRecord",
    "SubjectState",
    "bulk_page",
    "consented_versions",
    "count_active",
    "created_at",
    "delete_item",
    "delete_subject_data",
    "external_ref_owner",
    "index_candidates",
    "insert_subject",
    "items_of",
    "items_of_people",
    "lift_mail_optouts",
    "mark_withdrawn",
    "opted_out",
    "people_before",
    "purge_expired",
    "read_by_rows",
    "read_rows",
    "record",
    "replace_index",
    "set_stops",
    "state",
    "stops",
    "touch",
    "upsert_item",
    "wrapped_key",
]

subjects = tables.subjects
items_t = tables.subject_items
blind_t = tables.blind_indexes
groups_t = tables.item_groups
events_t = tables.usage_events
stops_t = tables.restrictions
consents_t = tables.policy_consents
optouts_t = tables.mail_optouts

_READ_BY_SQL = (
    "SELECT s.id, s.type, s.status, s.wrapped_key, i.item_id, i.ciphertext,"
    " (SELECT 1 FROM restrictions r WHERE r.subject_id = s.id AND r.scope = 'item'"
    "  AND r.target = i.item_id) AS item_stopped,"
    " (SELECT 1 FROM restrictions r WHERE r.subject_id = s.id AND r.scope = 'purpose'"
    "  AND r.target = {p}) AS purpose_stopped"
    " FROM blind_indexes b JOIN subjects s ON s.id = b.subject_id"
    " LEFT JOIN subject_items i ON i.subject_id = s.id AND i.item_id IN ({items})"
    " WHERE b.item_id = {p} AND b.digest = {p}"
)
_READ_SQL = (  # k 0: the subject; 1: a stop (scope, target); 2: an item (id, ciphertext)
    "SELECT 0 AS k, s.type AS a, s.status AS b, s.wrapped_key AS c FROM subjects s"
    " WHERE s.id = {p}"
    " UNION ALL SELECT 1, r.scope, r.target, NULL FROM restrictions r WHERE r.subject_id = {p}"
    " UNION ALL SELECT 2, i.item_id, NULL, i.ciphertext FROM subject_items i"
    " WHERE i.subject_id = {p} AND i.item_id IN ({items})"
    " ORDER BY 1"
)


class ReadRow(NamedTuple):
    """A row of :func:`read_rows`: ``k`` 0 the subject (type, status, wrapped key), 1 a stop
    (scope, target), 2 an item (id, ciphertext)."""

    k: int
    a: Any
    b: Any
    c: Any


class ByRow(NamedTuple):
    """A row of :func:`read_by_rows`: a candidate, one of its items and whether it is stopped."""

    id: str
    type: str
    status: str
    wrapped_key: bytes | None
    item_id: str | None
    ciphertext: bytes | None
    item_stopped: int | None
    purpose_stopped: int | None


@dataclass(frozen=True)
class SubjectState:
    """What a write needs to know of a subject: its type, status and wrapped data key."""

    type: str
    status: str
    wrapped_key: bytes | None


@dataclass(frozen=True)
class SubjectRecord:
    """A subject as lists and pages show it (no key)."""

    id: str
    type: str
    status: str
    created_at: dt.datetime
    withdrawn_at: dt.datetime | None


@dataclass(frozen=True)
class StoredItem:
    """One item as stored: its ciphertext and where and when it came from."""

    item_id: str
    ciphertext: bytes
    source: str
    collected_at: dt.datetime
    updated_at: dt.datetime


# -- subjects -----------------------------------------------------------------------------------


def state(conn: Connection, subject_id: str) -> SubjectState | None:
    row = conn.execute(
        sa.select(subjects.c.type, subjects.c.status, subjects.c.wrapped_key).where(
            subjects.c.id == subject_id
        )
    ).one_or_none()
    return SubjectState(row.type, row.status, row.wrapped_key) if row is not None else None


def record(conn: Connection, subject_id: str) -> SubjectRecord | None:
    row = conn.execute(
        sa.select(
            subjects.c.id,
            subjects.c.type,
            subjects.c.status,
            subjects.c.created_at,
            subjects.c.withdrawn_at,
        ).where(subjects.c.id == subject_id)
    ).one_or_none()
    if row is None:
        return None
    return SubjectRecord(row.id, row.type, row.status, row.created_at, row.withdrawn_at)


def wrapped_key(conn: Connection, subject_id: str) -> bytes | None:
    """The subject's wrapped data key (``None`` when withdrawn or unknown)."""
    found: bytes | None = conn.execute(
        sa.select(subjects.c.wrapped_key).where(subjects.c.id == subject_id)
    ).scalar_one_or_none()
    return found


def created_at(conn: Connection, subject_ids: Sequence[str]) -> dict[str, dt.datetime]:
    """subject id -> when the subject was created, for those that exist."""
    rows = conn.execute(
        sa.select(subjects.c.id, subjects.c.created_at).where(subjects.c.id.in_(subject_ids))
    ).all()
    return {row.id: row.created_at for row in rows}


def count_active(conn: Connection) -> int:
    """How many people the vault holds data of (not withdrawn)."""
    count: int = conn.execute(
        sa.select(sa.func.count()).select_from(subjects).where(subjects.c.status == "active")
    ).scalar_one()
    return count


def external_ref_owner(conn: Connection, type: str, ref: bytes) -> str | None:
    """The subject of ``type`` whose external reference (keyed hash) is ``ref``, if any."""
    found: str | None = conn.execute(
        sa.select(subjects.c.id).where(subjects.c.type == type, subjects.c.external_ref == ref)
    ).scalar()
    return found


def insert_subject(
    conn: Connection,
    *,
    subject_id: str,
    type: str,
    external_ref: bytes | None,
    wrapped_key: bytes,
    master_version: int,
    now: dt.datetime,
) -> None:
    conn.execute(
        subjects.insert().values(
            id=subject_id,
            type=type,
            external_ref=external_ref,
            status="active",
            wrapped_key=wrapped_key,
            master_version=master_version,
            created_at=now,
            updated_at=now,
        )
    )


def touch(conn: Connection, subject_id: str, now: dt.datetime) -> None:
    conn.execute(subjects.update().where(subjects.c.id == subject_id).values(updated_at=now))


def mark_withdrawn(conn: Connection, subject_id: str, now: dt.datetime) -> None:
    """The subject keeps only its id, type, status and dates: the data key is gone."""
    conn.execute(
        subjects.update()
        .where(subjects.c.id == subject_id)
        .values(
            status="withdrawn",
            wrapped_key=None,
            master_version=None,
            external_ref=None,
            updated_at=now,
            withdrawn_at=now,
        )
    )


def delete_subject_data(conn: Connection, subject_id: str) -> dict[str, int]:
    """Delete every item, index entry, event and stop of the subject; the counts by kind."""
    return {
        name: conn.execute(table.delete().where(table.c.subject_id == subject_id)).rowcount
        for name, table in (
            ("items", items_t),
            ("indexes", blind_t),
            ("groups", groups_t),
            ("events", events_t),
            ("stops", stops_t),
        )
    }


def people_before(
    conn: Connection, *, before: dt.datetime, after_id: str, limit: int
) -> list[tuple[str, bytes | None]]:
    """(id, wrapped key) of active subjects created before ``before``, by id after ``after_id``
    (a keyset page)."""
    rows = conn.execute(
        sa.select(subjects.c.id, subjects.c.wrapped_key)
        .where(
            subjects.c.status == "active",
            subjects.c.created_at < before,
            subjects.c.id > after_id,
        )
        .order_by(subjects.c.id)
        .limit(limit)
    ).all()
    return [(row.id, row.wrapped_key) for row in rows]


# -- items and their blind indexes ---------------------------------------------------------------


def upsert_item(
    conn: Connection,
    *,
    subject_id: str,
    item_id: str,
    ciphertext: bytes,
    source: str,
    now: dt.datetime,
    expires_at: dt.datetime | None,
) -> None:
    """Store the item's new ciphertext (its first collection time stays)."""
    updated = conn.execute(
        items_t.update()
        .where(items_t.c.subject_id == subject_id, items_t.c.item_id == item_id)
        .values(ciphertext=ciphertext, updated_at=now, expires_at=expires_at)
    ).rowcount
    if not updated:
        conn.execute(
            items_t.insert().values(
                subject_id=subject_id,
                item_id=item_id,
                ciphertext=ciphertext,
                source=source,
                collected_at=now,
                updated_at=now,
                expires_at=expires_at,
            )
        )


def delete_item(conn: Connection, subject_id: str, item_id: str) -> None:
    conn.execute(
        items_t.delete().where(items_t.c.subject_id == subject_id, items_t.c.item_id == item_id)
    )
    replace_index(conn, subject_id, item_id, None)
    conn.execute(
        groups_t.delete().where(groups_t.c.subject_id == subject_id, groups_t.c.item_id == item_id)
    )


def replace_index(conn: Connection, subject_id: str, item_id: str, digest: int | None) -> None:
    """The item's blind-index entry becomes ``digest`` (``None``: no entry)."""
    conn.execute(
        blind_t.delete().where(blind_t.c.subject_id == subject_id, blind_t.c.item_id == item_id)
    )
    if digest is not None:
        conn.execute(blind_t.insert().values(item_id=item_id, digest=digest, subject_id=subject_id))


def items_of(
    conn: Connection, subject_id: str, item_ids: Sequence[str] | None = None
) -> list[StoredItem]:
    """The subject's stored items (all, or those of ``item_ids``), by item id."""
    query = (
        sa.select(
            items_t.c.item_id,
            items_t.c.ciphertext,
            items_t.c.source,
            items_t.c.collected_at,
            items_t.c.updated_at,
        )
        .where(items_t.c.subject_id == subject_id)
        .order_by(items_t.c.item_id)
    )
    if item_ids is not None:
        query = query.where(items_t.c.item_id.in_(item_ids))
    return [StoredItem(*row) for row in conn.execute(query)]


def items_of_people(
    conn: Connection, subject_ids: Sequence[str], item_ids: Sequence[str]
) -> dict[str, list[StoredItem]]:
    """subject id -> the stored items of ``item_ids`` of each of ``subject_ids``, by item id
    (those holding none are left out): one statement for a batch of people."""
    rows = conn.execute(
        sa.select(
            items_t.c.subject_id,
            items_t.c.item_id,
            items_t.c.ciphertext,
            items_t.c.source,
            items_t.c.collected_at,
            items_t.c.updated_at,
        )
        .where(items_t.c.subject_id.in_(subject_ids), items_t.c.item_id.in_(item_ids))
        .order_by(items_t.c.subject_id, items_t.c.item_id)
    ).all()
    found: dict[str, list[StoredItem]] = {}
    for subject_id, *item in rows:
        found.setdefault(subject_id, []).append(StoredItem(*item))
    return found


def index_candidates(
    conn: Connection, item_id: str, digest: int
) -> list[tuple[str, bytes | None, bytes]]:
    """(subject id, wrapped key, ciphertext of ``item_id``) of every blind-index candidate."""
    rows = conn.execute(
        sa.select(subjects.c.id, subjects.c.wrapped_key, items_t.c.ciphertext)
        .select_from(
            blind_t.join(subjects, subjects.c.id == blind_t.c.subject_id).join(
                items_t,
                sa.and_(
                    items_t.c.subject_id == blind_t.c.subject_id,
                    items_t.c.item_id == blind_t.c.item_id,
                ),
            )
        )
        .where(blind_t.c.item_id == item_id, blind_t.c.digest == digest)
    ).all()
    return [(row.id, row.wrapped_key, row.ciphertext) for row in rows]


def read_rows(engine: Engine, subject_id: str, item_ids: Sequence[str]) -> list[ReadRow]:
    """The subject, its stops and the items of ``item_ids``: one statement, one round trip."""
    marks = ", ".join(["{p}"] * len(item_ids)) if item_ids else "NULL"
    return [
        ReadRow(*r)
        for r in db.query(
            engine,
            _READ_SQL.replace("{items}", marks),
            (subject_id, subject_id, subject_id, *item_ids),
        )
    ]


def read_by_rows(
    engine: Engine, *, purpose: str, item_id: str, digest: int, item_ids: Sequence[str]
) -> list[ByRow]:
    """Blind-index candidates with the items of ``item_ids`` and their stops, in one statement."""
    sql = _READ_BY_SQL.replace("{items}", ", ".join(["{p}"] * len(item_ids)))
    return [ByRow(*r) for r in db.query(engine, sql, (purpose, *item_ids, item_id, digest))]


def bulk_page(
    conn: Connection,
    *,
    item_id: str,
    purpose: str,
    types: Sequence[str],
    after: str,
    limit: int,
    consent_gates: Iterable[tuple[int, dt.datetime]],
    leave_out_opted_out: bool,
) -> list[tuple[str, bytes | None, bytes]]:
    """(subject id, wrapped key, ciphertext) of the next ``limit`` people whose ``item_id`` may
    be used for ``purpose``: active, of ``types``, with neither the item nor the purpose
    stopped, who consented to every change of ``consent_gates`` ((version, published at)) that
    came after them, and (``leave_out_opted_out``) who did not opt out of marketing mail."""
    stopped = sa.exists().where(
        stops_t.c.subject_id == subjects.c.id,
        sa.or_(
            sa.and_(stops_t.c.scope == "item", stops_t.c.target == item_id),
            sa.and_(stops_t.c.scope == "purpose", stops_t.c.target == purpose),
        ),
    )
    conditions: list[sa.ColumnElement[bool]] = []
    for version, published_at in consent_gates:
        consented = sa.exists().where(
            consents_t.c.subject_id == subjects.c.id, consents_t.c.version == version
        )
        conditions.append(sa.or_(subjects.c.created_at >= published_at, consented))
    if leave_out_opted_out:
        conditions.append(~sa.exists().where(optouts_t.c.subject_id == subjects.c.id))
    # ``type || ''`` keeps SQLite from driving the query by the index on type, which sorted
    # every person of the type for each page (100,000 people: 63 s); the primary key then
    # gives the pages in order (issue 11's provision benchmark). PostgreSQL needs the plain
    # column: the expression hides the column's statistics from its planner, which then
    # expects a handful of rows and sorts every remaining person for each page as well
    # (100,000 people: 47 s instead of 2).
    of_type = subjects.c.type if conn.dialect.name == "postgresql" else subjects.c.type + ""
    rows = conn.execute(
        sa.select(subjects.c.id, subjects.c.wrapped_key, items_t.c.ciphertext)
        .select_from(subjects.join(items_t, items_t.c.subject_id == subjects.c.id))
        .where(
            items_t.c.item_id == item_id,
            subjects.c.status == "active",
            of_type.in_(types),
            subjects.c.id > after,
            ~stopped,
            *conditions,
        )
        .order_by(subjects.c.id)
        .limit(limit)
    ).all()
    return [(row.id, row.wrapped_key, row.ciphertext) for row in rows]


# -- consents to policy changes and mail opt-outs, as reads see them -----------------------------


def consented_versions(conn: Connection, subject_ids: Sequence[str]) -> dict[str, set[int]]:
    """subject id -> the policy versions whose change the subject consented to."""
    consented: dict[str, set[int]] = {}
    for row in conn.execute(
        sa.select(consents_t.c.subject_id, consents_t.c.version).where(
            consents_t.c.subject_id.in_(subject_ids)
        )
    ):
        consented.setdefault(row.subject_id, set()).add(row.version)
    return consented


def opted_out(conn: Connection, address_hashes: Sequence[bytes]) -> set[bytes]:
    """The address hashes among ``address_hashes`` that opted out of marketing mail."""
    return set(
        conn.execute(
            sa.select(optouts_t.c.address_hash).where(optouts_t.c.address_hash.in_(address_hashes))
        ).scalars()
    )


# -- usage stops ---------------------------------------------------------------------------------


def stops(conn: Connection, subject_id: str) -> tuple[frozenset[str], frozenset[str]]:
    """(stopped items, stopped purposes) of the subject."""
    rows = conn.execute(
        sa.select(stops_t.c.scope, stops_t.c.target).where(stops_t.c.subject_id == subject_id)
    ).all()
    return (
        frozenset(r.target for r in rows if r.scope == "item"),
        frozenset(r.target for r in rows if r.scope == "purpose"),
    )


def set_stops(
    conn: Connection, subject_id: str, wanted: set[tuple[str, str]], now: dt.datetime
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Make the subject's stops exactly ``wanted`` ((scope, target)); (added, removed)."""
    current = {
        (r.scope, r.target)
        for r in conn.execute(
            sa.select(stops_t.c.scope, stops_t.c.target).where(stops_t.c.subject_id == subject_id)
        )
    }
    for scope, target in sorted(current - wanted):
        conn.execute(
            stops_t.delete().where(
                stops_t.c.subject_id == subject_id,
                stops_t.c.scope == scope,
                stops_t.c.target == target,
            )
        )
    for scope, target in sorted(wanted - current):
        conn.execute(
            stops_t.insert().values(
                subject_id=subject_id, scope=scope, target=target, created_at=now
            )
        )
    return wanted - current, current - wanted


def lift_mail_optouts(conn: Connection, subject_id: str) -> int:
    """Delete the person's marketing-mail opt-outs (they resumed marketing); how many."""
    done = conn.execute(optouts_t.delete().where(optouts_t.c.subject_id == subject_id))
    return int(done.rowcount or 0)


def purge_expired(conn: Connection, now: dt.datetime) -> tuple[int, int]:
    """Delete events and items past their retention; (events, items) deleted."""
    events = conn.execute(events_t.delete().where(events_t.c.expires_at < now)).rowcount
    items = conn.execute(
        items_t.delete().where(items_t.c.expires_at.is_not(None), items_t.c.expires_at < now)
    ).rowcount
    if items:
        # An index entry or a group of a purged item would still say the value was held.
        for table in (blind_t, groups_t):
            conn.execute(
                table.delete().where(
                    ~sa.exists().where(
                        items_t.c.subject_id == table.c.subject_id,
                        items_t.c.item_id == table.c.item_id,
                    )
                )
            )
    return events, items
