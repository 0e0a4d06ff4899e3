"""Reading the provision ledger: the records of what was provided, to whom and on what basis
(APPI 29), and the records of data received (APPI 30), for the person (the privacy center, the
disclosure package) and for staff (the admin console, ``mamori provisions export``).

Staff read the ledger through a :class:`Filter` (:func:`parse_filter` checks what a form or the
command line gave): a recipient, a person, a period of days in the operator's time zone, a
basis, and which records (``provisions`` or ``receipts``). :func:`page` reads one page, newest
first, by keyset (the ``older`` cursor of a page names its last record's time and id, so a page
never repeats or skips a record while others are added); :func:`rows` reads everything matching,
page by page in short read transactions, so memory stays flat however many records there are.
:func:`export` audits an export (``provision.ledger_export``) before the first record is read,
with the filter as ids and codes and the number of records matching at that moment; its rows
are exactly those (records added later are newer and left out; only the hourly purge can make
the file shorter than the count).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from mamori.errors import NotFound, UserInputError
from mamori.policy.rules import nearest
from mamori.provisions import storage
from mamori.provisions.rules import Basis
from mamori.provisions.storage import AcquisitionRow, Cursor, LedgerQuery, RecordRow
from mamori.store import db
from mamori.vault.core import Vault
from mamori.vault.storage import subjects

__all__ = [
    "EXPORT_PAGE",
    "PAGE",
    "Activity",
    "Direction",
    "Export",
    "Filter",
    "LedgerRow",
    "Page",
    "RecordRow",
    "activity",
    "decode_cursor",
    "encode_cursor",
    "export",
    "known_recipients",
    "of_subject",
    "page",
    "parse_filter",
    "rows",
]

PAGE: Final = 50
"""Records a page of the console shows."""
EXPORT_PAGE: Final = 1000
"""Records an export reads per transaction."""

LedgerRow = RecordRow | AcquisitionRow

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SUBJECT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RECIPIENT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CURSOR = re.compile(r"^(\d{8}T\d{12})Z\.([A-Za-z0-9_]{1,40})$")


class Direction(StrEnum):
    """Which records: of provisions made (APPI 29) or of data received (APPI 30)."""

    provisions = "provisions"
    receipts = "receipts"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Filter:
    """What staff asked to see; the days are calendar days in ``zone``, ``until`` included."""

    direction: Direction = Direction.provisions
    recipient_id: str | None = None
    subject_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    basis: Basis | None = None
    zone: str = "Asia/Tokyo"

    @property
    def receipts(self) -> bool:
        return self.direction is Direction.receipts

    def _midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), _zone(self.zone)).astimezone(dt.UTC)

    def query(self) -> LedgerQuery:
        """The storage query: the days as UTC bounds (``until``'s end excluded)."""
        return LedgerQuery(
            recipient_id=self.recipient_id,
            subject_id=self.subject_id,
            start=self._midnight(self.since) if self.since else None,
            end=self._midnight(self.until + dt.timedelta(days=1)) if self.until else None,
            basis=self.basis.value if self.basis else None,
        )

    def params(self) -> dict[str, str]:
        """The filter as form fields (those set), for links to other pages of it."""
        found = {
            "recipient": self.recipient_id or "",
            "subject": self.subject_id or "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "basis": self.basis.value if self.basis else "",
        }
        return {k: v for k, v in found.items() if v}


def _date(name: str, value: str | None) -> dt.date | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if not _DATE.match(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserInputError(f"{name}: give a date as YYYY-MM-DD (2026-04-01)") from None


def known_recipients(vault: Vault) -> list[str]:
    """The recipients one may filter by: the policy's, then those only records still name."""
    declared = list(vault.rules().recipients)
    with db.read(vault.engine) as conn:
        recorded = storage.recorded_recipients(conn)
    return declared + [r for r in recorded if r not in declared]


def parse_filter(
    vault: Vault,
    *,
    zone: str,
    recipient: str | None = None,
    subject: str | None = None,
    since: str | None = None,
    until: str | None = None,
    basis: str | None = None,
    receipts: bool = False,
) -> Filter:
    """The filter of what a form or the command line gave (blank means no filter).

    :class:`UserInputError` for a malformed date or person's ID, a period that ends before it
    starts, an unknown basis (listing the bases), a recipient or basis asked of the records of
    data received (they have neither); :class:`NotFound` for a recipient neither the policy nor
    any record names, with the nearest one. Messages never repeat a person's ID or a date as
    typed, which may be anything."""
    recipient = (recipient or "").strip() or None
    subject = (subject or "").strip() or None
    basis = (basis or "").strip() or None
    start, end = _date("since", since), _date("until", until)
    if start and end and start > end:
        raise UserInputError("since: the period starts after it ends (since > until)")
    if subject is not None and not _SUBJECT.match(subject):
        raise UserInputError(
            "subject: a person's ID is letters, digits, '_' and '-' (up to 64 characters)"
        )
    if receipts and (recipient or basis):
        raise UserInputError(
            "recipient: the records of data received have no recipient or basis;"
            " filter them by person and date"
        )
    claimed = None
    if basis is not None:
        try:
            claimed = Basis(basis)
        except ValueError:
            known = [b.value for b in Basis]
            hint = nearest(basis, known) if _RECIPIENT.match(basis) else ""
            raise UserInputError(f"basis: unknown basis{hint}: one of {', '.join(known)}") from None
    if recipient is not None:
        known = known_recipients(vault)
        if recipient not in known:
            hint = nearest(recipient, known) if _RECIPIENT.match(recipient) else ""
            shown = f" '{recipient}'" if _RECIPIENT.match(recipient) else ""
            raise NotFound(f"recipient: no recipient{shown} in the policy or the records{hint}")
    return Filter(
        direction=Direction.receipts if receipts else Direction.provisions,
        recipient_id=recipient,
        subject_id=subject,
        since=start,
        until=end,
        basis=claimed,
        zone=zone,
    )


def encode_cursor(at: dt.datetime, id_: str) -> str:
    """A page's ``older`` cursor: its last record's time (UTC, to the microsecond) and id."""
    return f"{at.astimezone(dt.UTC):%Y%m%dT%H%M%S%f}Z.{id_}"


def decode_cursor(value: str) -> Cursor:
    """The (time, id) of an ``older`` cursor; :class:`UserInputError` when malformed."""
    found = _CURSOR.match(value.strip())
    try:
        if found is None:
            raise ValueError
        at = dt.datetime.strptime(found[1], "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.UTC)
    except ValueError:
        raise UserInputError(
            "before: not a cursor of this ledger; start from the first page"
        ) from None
    return at, found[2]


def _at(row: LedgerRow) -> dt.datetime:
    return row.received_at if isinstance(row, AcquisitionRow) else row.provided_at


def _read(
    conn: db.Connection,
    filter_: Filter,
    before: Cursor | None,
    limit: int,
    *,
    inclusive: bool = False,
) -> list[LedgerRow]:
    query = filter_.query()
    if filter_.receipts:
        return list(
            storage.acquisitions_page(conn, query, before=before, limit=limit, inclusive=inclusive)
        )
    return list(storage.records_page(conn, query, before=before, limit=limit, inclusive=inclusive))


@dataclass(frozen=True)
class Page:
    """One page of the ledger, newest first."""

    rows: list[LedgerRow]
    older: str | None
    """The cursor of the next (older) page, None on the last."""


def page(vault: Vault, filter_: Filter, *, before: str | None = None, limit: int = PAGE) -> Page:
    """The records matching ``filter_`` below the cursor ``before`` (from the newest)."""
    cursor = decode_cursor(before) if before else None
    with db.read(vault.engine) as conn:
        found = _read(conn, filter_, cursor, limit + 1)
    older = None
    if len(found) > limit:
        found = found[:limit]
        older = encode_cursor(_at(found[-1]), found[-1].id)
    return Page(found, older)


def rows(
    vault: Vault,
    filter_: Filter,
    *,
    through: Cursor | None = None,
    page_size: int = EXPORT_PAGE,
) -> Iterator[LedgerRow]:
    """Every record matching ``filter_``, newest first, from ``through`` (inclusive) when
    given; read ``page_size`` at a time, each page in its own short read transaction. A batch
    record comes as one record per person (its people read in a transaction of their own)."""
    cursor, inclusive = through, through is not None
    while True:
        with db.read(vault.engine) as conn:
            found = _read(conn, filter_, cursor, page_size, inclusive=inclusive)
        for row in found:
            if isinstance(row, RecordRow) and row.batch:
                # A batch record: a line per person, its people read on their own.
                with db.read(vault.engine) as conn:
                    people = storage.people_of(conn, row.id)
                yield from (storage.for_person(row, person) for person in people)
            else:
                yield row
        if len(found) < page_size:
            return
        cursor, inclusive = (_at(found[-1]), found[-1].id), False


@dataclass(frozen=True)
class Export:
    """An export begun: how many records it holds, and the records."""

    count: int
    rows: Iterator[LedgerRow]


def export(vault: Vault, filter_: Filter, *, actor: str, format: str) -> Export:
    """Audit an export of the records matching ``filter_`` and return them (read lazily).

    One audit entry ``provision.ledger_export`` is written before any record is read: the
    recipient and the person as targets (ids), the direction, dates, basis and ``format`` as
    codes, and ``rows``, the number of records matching now, which the export then holds (it
    reads from the newest of them down)."""
    with db.read(vault.engine, snapshot=True) as conn:
        count, head = storage.ledger_head(conn, filter_.query(), receipts=filter_.receipts)
    targets = []
    if filter_.recipient_id:
        targets.append(f"recipient:{filter_.recipient_id}")
    if filter_.subject_id:
        targets.append(f"subject:{filter_.subject_id}")
    with db.write(vault.engine) as conn:
        vault.audit.append(
            conn,
            actor=actor,
            action="provision.ledger_export",
            targets=targets,
            details={
                "direction": filter_.direction.value,
                "since": filter_.since.isoformat() if filter_.since else None,
                "until": filter_.until.isoformat() if filter_.until else None,
                "zone": filter_.zone,
                "basis": filter_.basis.value if filter_.basis else None,
                "format": format,
                "rows": count,
            },
        )
    if head is None:
        return Export(0, iter(()))
    return Export(count, rows(vault, filter_, through=head))


@dataclass(frozen=True)
class Activity:
    """What the recipients page counts."""

    consents: dict[tuple[str, str], int]
    """(recipient id, purpose id) -> live consents."""
    recent: dict[str, int]
    """recipient id -> provision records since the day asked."""


def activity(vault: Vault, since: dt.datetime) -> Activity:
    """The live consents to each recipient and purpose, and the records since ``since``."""
    with db.read(vault.engine) as conn:
        return Activity(
            storage.live_consent_counts(conn), storage.recent_record_counts(conn, since)
        )


def of_subject(vault: Vault, subject_id: str) -> list[RecordRow]:
    """Every provision record about the person, newest first."""
    with db.read(vault.engine) as conn:
        if subjects.record(conn, subject_id) is None:
            raise NotFound(f"no subject '{subject_id}'")
        return list(reversed(storage.records_of(conn, subject_id)))
