"""The queries of third-party provision: people's consents to recipients
(``provision_consents``), the provision records (``provision_records``) and the records of data
received from other businesses (``provision_acquisitions``).

Every function runs on the caller's connection, inside its transaction, and returns plain
values or frozen rows; ids and dates only, besides the businesses' own facts the law asks a
record to hold (the recipient's declared name and address, copied from the policy; the
provider's name, address, representative and how it obtained the data, as the host gave them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import bulk, tables

__all__ = [
    "AcquisitionRow",
    "ConsentRow",
    "Cursor",
    "LedgerQuery",
    "Person",
    "RecordRow",
    "acquisitions_of",
    "acquisitions_page",
    "consents_of",
    "for_person",
    "insert_acquisition",
    "insert_batch_record",
    "insert_consent",
    "insert_records",
    "ledger_head",
    "live_consent_counts",
    "live_consent_ids",
    "live_consents",
    "people_of",
    "purge_acquisitions",
    "purge_records",
    "recent_record_counts",
    "recorded_recipients",
    "records_of",
    "records_page",
    "revoke_consent",
]

consents_t = tables.provision_consents
records_t = tables.provision_records
people_t = tables.provision_record_people
acquisitions_t = tables.provision_acquisitions


@dataclass(frozen=True)
class ConsentRow:
    id: str
    subject_id: str
    recipient_id: str
    purpose_id: str
    policy_version: int
    consented_at: dt.datetime
    revoked_at: dt.datetime | None
    channel: str


@dataclass(frozen=True)
class RecordRow:
    id: str
    batch_id: str
    provided_at: dt.datetime
    recipient_id: str
    recipient: dict[str, object]
    subject_id: str | None
    """The person; None for a batch record (:attr:`people` people, :func:`people_of`)."""
    items: tuple[str, ...]
    purpose_id: str
    basis: str
    consent_id: str | None
    reason: str | None
    policy_version: int
    actor: str
    contract: bool
    """A contract with the person stands in for the record (kept one year, not three)."""
    retain_until: dt.datetime
    confirmation: dict[str, object] | None = None
    """To a recipient that links person-related information (APPI 31): how the person's
    consent was confirmed (:mod:`mamori.provisions.confirmations`)."""
    people: int = 1
    """How many people the record is about (a batch record's people, APPI rule 19(2))."""

    @property
    def batch(self) -> bool:
        return self.subject_id is None


@dataclass(frozen=True)
class AcquisitionRow:
    id: str
    subject_id: str
    received_at: dt.datetime
    provider: dict[str, object]
    """The provider's name (``{"ja", "en"}``), address, representative, whether it is an
    individual and keeps its own records, and how it obtained the data (APPI 30(1))."""
    items: tuple[str, ...]
    contract: bool
    policy_version: int
    actor: str
    recorded_at: dt.datetime
    retain_until: dt.datetime


def _json(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _consent(row: sa.Row[tuple[object, ...]]) -> ConsentRow:
    return ConsentRow(**row._mapping)


# -- consents ------------------------------------------------------------------------------------


def insert_consent(conn: Connection, row: ConsentRow) -> None:
    conn.execute(consents_t.insert().values(**row.__dict__))


def live_consents(
    conn: Connection, subject_ids: Sequence[str], recipient_id: str, purpose_id: str
) -> dict[str, ConsentRow]:
    """subject id -> their newest consent not revoked, to ``recipient_id`` for ``purpose_id``."""
    found: dict[str, ConsentRow] = {}
    for start in range(0, len(subject_ids), 500):
        chunk = list(subject_ids[start : start + 500])
        rows = conn.execute(
            sa.select(consents_t)
            .where(
                consents_t.c.subject_id.in_(chunk),
                consents_t.c.recipient_id == recipient_id,
                consents_t.c.purpose_id == purpose_id,
                consents_t.c.revoked_at.is_(None),
            )
            .order_by(consents_t.c.consented_at)
        ).all()
        for row in rows:
            found[row.subject_id] = _consent(row)
    return found


def live_consent_ids(
    conn: Connection,
    subject_ids: Sequence[str],
    recipient_id: str,
    purpose_id: str,
    *,
    lock: bool = False,
) -> dict[str, str]:
    """subject id -> the id of their newest live consent to ``recipient_id`` for
    ``purpose_id`` (:func:`live_consents` reading two columns in one statement, for a stream's
    pages). ``lock``: on PostgreSQL, hold the consents (``FOR SHARE``) until the transaction
    ends, so that a revocation waits for it (SQLite's write transaction holds every writer)."""
    template = _LIVE_IDS
    if lock and conn.dialect.name == "postgresql":
        template += " FOR SHARE"
    rows = bulk.select_ids(conn, template, subject_ids, recipient_id, purpose_id)
    return {subject_id: consent_id for subject_id, consent_id in rows}


_LIVE_IDS = (
    "SELECT subject_id, id FROM provision_consents"
    " WHERE subject_id {ids} AND recipient_id = {p} AND purpose_id = {p}"
    " AND revoked_at IS NULL ORDER BY consented_at"
)


def live_consent_counts(conn: Connection) -> dict[tuple[str, str], int]:
    """(recipient id, purpose id) -> how many live consents there are."""
    rows = conn.execute(
        sa.select(consents_t.c.recipient_id, consents_t.c.purpose_id, sa.func.count())
        .where(consents_t.c.revoked_at.is_(None))
        .group_by(consents_t.c.recipient_id, consents_t.c.purpose_id)
    ).all()
    return {(recipient, purpose): int(n) for recipient, purpose, n in rows}


def consents_of(conn: Connection, subject_id: str) -> list[ConsentRow]:
    """Every consent of ``subject_id``, revoked ones too, newest first."""
    rows = conn.execute(
        sa.select(consents_t)
        .where(consents_t.c.subject_id == subject_id)
        .order_by(consents_t.c.consented_at.desc(), consents_t.c.id)
    ).all()
    return [_consent(r) for r in rows]


def revoke_consent(
    conn: Connection, subject_id: str, consent_id: str, at: dt.datetime
) -> ConsentRow | None:
    """Revoke one live consent of ``subject_id``; the consent as it was, or None when there is
    no such live consent."""
    row = conn.execute(
        consents_t.update()
        .where(
            consents_t.c.id == consent_id,
            consents_t.c.subject_id == subject_id,
            consents_t.c.revoked_at.is_(None),
        )
        .values(revoked_at=at)
        .returning(*consents_t.c)
    ).first()
    return _consent(row) if row is not None else None


# -- records -------------------------------------------------------------------------------------


_RECORD_COLUMNS = (
    "id",
    "batch_id",
    "provided_at",
    "recipient_id",
    "recipient",
    "subject_id",
    "items",
    "purpose_id",
    "basis",
    "consent_id",
    "reason",
    "policy_version",
    "actor",
    "contract",
    "retain_until",
    "confirmation",
    "people",
)
if tuple(c.name for c in records_t.columns) != _RECORD_COLUMNS:  # the tuples below follow it
    raise RuntimeError("provision_records' columns changed: update insert_records")


def insert_records(conn: Connection, rows: Iterable[RecordRow]) -> int:
    """Insert the records (one statement through the driver: a streamed provision writes a
    page of them at a time)."""
    # The recipient as declared is the same for every record of a call: serialised once.
    declared: dict[int, str] = {}
    values = []
    for row in rows:
        recipient = declared.get(id(row.recipient))
        if recipient is None:
            recipient = orjson.dumps(row.recipient, option=orjson.OPT_SORT_KEYS).decode()
            declared[id(row.recipient)] = recipient
        values.append(
            (
                row.id,
                row.batch_id,
                row.provided_at,
                row.recipient_id,
                recipient,
                row.subject_id,
                orjson.dumps(row.items).decode(),
                row.purpose_id,
                row.basis,
                row.consent_id,
                row.reason,
                row.policy_version,
                row.actor,
                row.contract,
                row.retain_until,
                None if row.confirmation is None else _json(row.confirmation),
                row.people,
            )
        )
    return bulk.insert_rows(conn, records_t, values)


Person = tuple[str, str | None, int | None]
"""One person of a batch record: (subject id, consent id relied on, cookie-choice receipt)."""


def insert_batch_record(conn: Connection, row: RecordRow, people: Sequence[Person]) -> None:
    """One record for ``people`` (APPI rule 19(2)): ``row`` without a person, and its people
    (one narrow row each, through the driver)."""
    if row.subject_id is not None or row.people != len(people):
        raise ValueError("a batch record names no person and counts its people")
    insert_records(conn, [row])
    bulk.insert_rows(conn, people_t, [(row.id, *person) for person in people])


def people_of(conn: Connection, record_id: str, subject_id: str | None = None) -> list[Person]:
    """The people of the batch record ``record_id`` (only ``subject_id`` when given), by id."""
    query = sa.select(people_t.c.subject_id, people_t.c.consent_id, people_t.c.receipt).where(
        people_t.c.record_id == record_id
    )
    if subject_id is not None:
        query = query.where(people_t.c.subject_id == subject_id)
    rows = conn.execute(query.order_by(people_t.c.subject_id)).all()
    return [(str(s), c, r) for s, c, r in rows]


def for_person(row: RecordRow, person: Person) -> RecordRow:
    """The record of one person of a batch record, as if it had been made for them alone."""
    subject_id, consent_id, receipt = person
    confirmation = row.confirmation
    if confirmation is not None:
        confirmation = {**confirmation, "receipt": receipt}
    return dataclasses.replace(
        row, subject_id=subject_id, consent_id=consent_id, confirmation=confirmation, people=1
    )


def _record(row: sa.Row[tuple[object, ...]]) -> RecordRow:
    data = dict(row._mapping)
    data["recipient"] = orjson.loads(str(data["recipient"]))
    data["items"] = tuple(orjson.loads(str(data["items"])))
    if data["confirmation"] is not None:
        data["confirmation"] = orjson.loads(str(data["confirmation"]))
    return RecordRow(**data)


def _of_person(subject_id: str) -> sa.ColumnElement[bool]:
    """A record about ``subject_id``: theirs alone, or a batch record listing them."""
    return sa.or_(
        records_t.c.subject_id == subject_id,
        records_t.c.id.in_(
            sa.select(people_t.c.record_id).where(people_t.c.subject_id == subject_id)
        ),
    )


def records_of(conn: Connection, subject_id: str) -> list[RecordRow]:
    """Every record about ``subject_id`` (a batch record's as made for them), oldest first."""
    rows = conn.execute(
        sa.select(records_t)
        .where(_of_person(subject_id))
        .order_by(records_t.c.provided_at, records_t.c.id)
    ).all()
    return _as_theirs(conn, [_record(r) for r in rows], subject_id)


def _as_theirs(conn: Connection, rows: list[RecordRow], subject_id: str) -> list[RecordRow]:
    """``rows`` with each batch record as made for ``subject_id`` (one statement for all)."""
    batches = [r.id for r in rows if r.batch]
    if not batches:
        return rows
    theirs = {
        record_id: (subject_id, consent_id, receipt)
        for record_id, consent_id, receipt in conn.execute(
            sa.select(people_t.c.record_id, people_t.c.consent_id, people_t.c.receipt).where(
                people_t.c.subject_id == subject_id, people_t.c.record_id.in_(batches)
            )
        )
    }
    return [for_person(r, theirs[r.id]) if r.batch else r for r in rows]


def purge_records(conn: Connection, now: dt.datetime) -> int:
    """Delete the records whose retention ended; how many."""
    rows = conn.execute(
        records_t.delete().where(records_t.c.retain_until < now).returning(records_t.c.id)
    ).all()
    return len(rows)


# -- data received (APPI 30) ---------------------------------------------------------------------


def insert_acquisition(conn: Connection, row: AcquisitionRow) -> None:
    conn.execute(
        acquisitions_t.insert().values(
            **{**row.__dict__, "provider": _json(row.provider), "items": _json(list(row.items))}
        )
    )


def _acquisition(row: sa.Row[tuple[object, ...]]) -> AcquisitionRow:
    data = dict(row._mapping)
    data["provider"] = orjson.loads(str(data["provider"]))
    data["items"] = tuple(orjson.loads(str(data["items"])))
    return AcquisitionRow(**data)


def acquisitions_of(conn: Connection, subject_id: str) -> list[AcquisitionRow]:
    """Every record of data received about ``subject_id``, oldest first."""
    rows = conn.execute(
        sa.select(acquisitions_t)
        .where(acquisitions_t.c.subject_id == subject_id)
        .order_by(acquisitions_t.c.received_at, acquisitions_t.c.id)
    ).all()
    return [_acquisition(r) for r in rows]


def purge_acquisitions(conn: Connection, now: dt.datetime) -> int:
    """Delete the records of data received whose retention ended; how many."""
    rows = conn.execute(
        acquisitions_t.delete()
        .where(acquisitions_t.c.retain_until < now)
        .returning(acquisitions_t.c.id)
    ).all()
    return len(rows)


# -- the ledger, for staff -----------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerQuery:
    """Which records a page or an export of the ledger reads; None matches everything.

    ``start`` (inclusive) and ``end`` (exclusive) are UTC bounds of the time provided (or
    received). ``recipient_id`` and ``basis`` apply to provision records only."""

    recipient_id: str | None = None
    subject_id: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    basis: str | None = None


Cursor = tuple[dt.datetime, str]
"""(time, id) of the last row a page showed: the next page starts below it."""


def _where(
    table: sa.Table,
    at: sa.ColumnElement[dt.datetime],
    query: LedgerQuery,
    before: Cursor | None,
    inclusive: bool = False,
) -> list[sa.ColumnElement[bool]]:
    found: list[sa.ColumnElement[bool]] = []
    if query.subject_id is not None:
        found.append(
            _of_person(query.subject_id)
            if table is records_t
            else table.c.subject_id == query.subject_id
        )
    if query.start is not None:
        found.append(at >= query.start)
    if query.end is not None:
        found.append(at < query.end)
    if before is not None:
        same = table.c.id <= before[1] if inclusive else table.c.id < before[1]
        found.append(sa.or_(at < before[0], sa.and_(at == before[0], same)))
    return found


def _record_where(
    query: LedgerQuery, before: Cursor | None, inclusive: bool = False
) -> list[sa.ColumnElement[bool]]:
    found = _where(records_t, records_t.c.provided_at, query, before, inclusive)
    if query.recipient_id is not None:
        found.append(records_t.c.recipient_id == query.recipient_id)
    if query.basis is not None:
        found.append(records_t.c.basis == query.basis)
    return found


def records_page(
    conn: Connection,
    query: LedgerQuery,
    *,
    before: Cursor | None,
    limit: int,
    inclusive: bool = False,
) -> list[RecordRow]:
    """Up to ``limit`` provision records matching ``query``, newest first (by time, then id),
    below ``before`` when given (``inclusive``: from it), by keyset: stable while records are
    added."""
    rows = conn.execute(
        sa.select(records_t)
        .where(*_record_where(query, before, inclusive))
        .order_by(records_t.c.provided_at.desc(), records_t.c.id.desc())
        .limit(limit)
    ).all()
    found = [_record(r) for r in rows]
    if query.subject_id is not None:  # a batch record, as made for the person asked about
        found = _as_theirs(conn, found, query.subject_id)
    return found


def acquisitions_page(
    conn: Connection,
    query: LedgerQuery,
    *,
    before: Cursor | None,
    limit: int,
    inclusive: bool = False,
) -> list[AcquisitionRow]:
    """Up to ``limit`` records of data received matching ``query`` (person and dates), newest
    first, below ``before`` (or from it) when given."""
    at = acquisitions_t.c.received_at
    rows = conn.execute(
        sa.select(acquisitions_t)
        .where(*_where(acquisitions_t, at, query, before, inclusive))
        .order_by(acquisitions_t.c.received_at.desc(), acquisitions_t.c.id.desc())
        .limit(limit)
    ).all()
    return [_acquisition(r) for r in rows]


def ledger_head(
    conn: Connection, query: LedgerQuery, *, receipts: bool
) -> tuple[int, Cursor | None]:
    """How many records match ``query`` and the (time, id) of the newest of them."""
    table = acquisitions_t if receipts else records_t
    at = acquisitions_t.c.received_at if receipts else records_t.c.provided_at
    where = _where(table, at, query, None) if receipts else _record_where(query, None)
    # Provision records count their people (a batch record's each), unless one person is asked.
    counted = (
        sa.func.count()
        if receipts or query.subject_id is not None
        else sa.func.coalesce(sa.func.sum(records_t.c.people), 0)
    )
    count = conn.execute(sa.select(counted).select_from(table).where(*where)).scalar_one()
    newest = conn.execute(
        sa.select(at, table.c.id).where(*where).order_by(at.desc(), table.c.id.desc()).limit(1)
    ).first()
    return int(count), (newest[0], newest[1]) if newest is not None else None


def recent_record_counts(conn: Connection, since: dt.datetime) -> dict[str, int]:
    """recipient id -> people provided to it (by their records) at or after ``since``."""
    rows = conn.execute(
        sa.select(records_t.c.recipient_id, sa.func.sum(records_t.c.people))
        .where(records_t.c.provided_at >= since)
        .group_by(records_t.c.recipient_id)
    ).all()
    return {recipient: int(n) for recipient, n in rows}


def recorded_recipients(conn: Connection) -> list[str]:
    """Every recipient id some provision record names (the policy may have dropped one)."""
    rows = conn.execute(
        sa.select(records_t.c.recipient_id).distinct().order_by(records_t.c.recipient_id)
    ).all()
    return [r[0] for r in rows]
