"""The request desk: what staff look for in the queue, the counts on the dashboard, and the
queue as a CSV file.

A search box takes what a person says on the phone or in a mail: the request number (any
spacing, full-width digits), the e-mail address the request was filed with (matched by its keyed
hash, ``contact_ref``, never by a stored address), or a request id. Filters narrow by type,
status (open, awaiting verification, ...; closed ones only when asked for), due (overdue, due
within the reminder days, later) and assignee. Days left are counted in calendar days in the
operator's time zone, as the due date is shown.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeVar

from mamori.clock import local_date, local_text
from mamori.errors import UserInputError
from mamori.i18n import N_, Lang, t
from mamori.requests import labels, numbers
from mamori.requests.model import Request, RequestType, Status
from mamori.requests.storage import desk as storage_desk
from mamori.requests.store import SealKeys
from mamori.store.db import Connection

__all__ = [
    "Counts",
    "Due",
    "Queue",
    "QueueFilter",
    "counts",
    "days_left",
    "find",
    "to_csv",
]

OPEN: tuple[Status, ...] = (Status.received, Status.verified, Status.in_review, Status.decided)
"""Statuses of a request still owed an answer (the person has not been notified)."""
_ID = re.compile(r"[0-9a-f]{32}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
MAX_SEARCH = 254
_E = TypeVar("_E", bound=StrEnum)


class Due(StrEnum):
    overdue = "overdue"
    soon = "soon"
    later = "later"


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows; every field optional. ``status`` of ``None`` is every open one
    (``include_closed`` adds the closed ones)."""

    search: str = ""
    type: RequestType | None = None
    status: Status | None = None
    due: Due | None = None
    assignee: str | None = None
    """A staff id, or ``"none"`` for requests assigned to no one."""
    include_closed: bool = False

    @classmethod
    def parse(cls, query: dict[str, str]) -> QueueFilter:
        """From a page's query parameters; an unknown value is a clear error."""

        def pick(kind: type[_E], name: str) -> _E | None:
            value = query.get(name, "")
            if not value:
                return None
            try:
                return kind(value)
            except ValueError:
                choices = ", ".join(m.value for m in kind)
                raise UserInputError(f"{name}: one of {choices}") from None

        search = query.get("q", "").strip()
        if len(search) > MAX_SEARCH:
            raise UserInputError(f"q: at most {MAX_SEARCH} characters")
        assignee = query.get("assignee", "").strip() or None
        if assignee is not None and len(assignee) > 40:
            raise UserInputError("assignee: a staff id")
        return cls(
            search=search,
            type=pick(RequestType, "type"),
            status=pick(Status, "status"),
            due=pick(Due, "due"),
            assignee=assignee,
            include_closed=query.get("closed", "") in ("1", "yes"),
        )


@dataclass(frozen=True)
class Queue:
    requests: list[Request]
    truncated: bool
    """More requests match than are shown (narrow the filters, or export)."""
    searched_by: str
    """How the search box was read: ``""``, ``number``, ``email`` or ``id``."""


@dataclass(frozen=True)
class Counts:
    open: int
    overdue: int
    due_soon: int
    awaiting_verification: int


def days_left(request: Request, now: dt.datetime, zone: str) -> int:
    """Calendar days from today to the due date, in the operator's time zone (0: due today,
    negative: overdue by that many days)."""
    return (local_date(request.due_at, zone) - local_date(now, zone)).days


def _selection(
    filt: QueueFilter, keys: SealKeys, now: dt.datetime, soon_days: int
) -> tuple[storage_desk.Selection, str]:
    """The query ``filt`` asks for, and how its search text was read."""
    base = storage_desk.Selection(
        owed=OPEN,
        now=now,
        soon=now + dt.timedelta(days=soon_days),
        type=filt.type.value if filt.type else None,
        status=filt.status.value if filt.status else None,
        include_closed=filt.include_closed,
        due=filt.due.value if filt.due else None,
        assignee=filt.assignee,
    )
    text = filt.search
    if not text:
        return base, ""
    if numbers.looks_like_number(text):
        return replace(base, number=numbers.parse(text)), "number"
    if _ID.fullmatch(text.lower()):
        return replace(base, request_id=text.lower()), "id"
    if _EMAIL.fullmatch(text):
        return replace(base, contact_ref=keys.mac("code-address", text.lower())), "email"
    if any(c.isdigit() for c in text) and not any(c.isalpha() for c in text):
        numbers.parse(text)  # a mistyped number: say why it matches nothing
    raise UserInputError("q: a request number (1234-5678-9012), an e-mail address or a request id")


def find(
    conn: Connection,
    filt: QueueFilter,
    keys: SealKeys,
    *,
    now: dt.datetime,
    soon_days: int,
    limit: int = 200,
) -> Queue:
    """The requests ``filt`` selects, by due date, at most ``limit``."""
    sel, searched_by = _selection(filt, keys, now, soon_days)
    found = storage_desk.select_page(conn, sel, limit=limit + 1)
    return Queue(found[:limit], len(found) > limit, searched_by)


def counts(conn: Connection, *, now: dt.datetime, soon_days: int) -> Counts:
    """The dashboard's counts, in one query."""
    return Counts(*storage_desk.counts(conn, OPEN, now, now + dt.timedelta(days=soon_days)))


_CSV_HEADINGS = (
    N_("req.a_csv_number"),
    N_("req.type"),
    N_("req.status"),
    N_("req.result"),
    N_("req.received_at"),
    N_("req.due"),
    N_("req.a_days_left"),
    N_("req.a_assignee"),
)


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(
    conn: Connection,
    filt: QueueFilter,
    keys: SealKeys,
    *,
    now: dt.datetime,
    soon_days: int,
    zone: str,
    lang: Lang,
    staff_names: dict[str, str],
    page: int = 1000,
) -> Iterator[str]:
    """The requests ``filt`` selects as CSV lines (UTF-8 with a BOM for spreadsheet programs,
    headings and labels in ``lang``), read a page at a time. No personal details: numbers,
    types, statuses, dates and the assignee's display name."""
    sel, _ = _selection(filt, keys, now, soon_days)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow([t(lang, key) for key in _CSV_HEADINGS])
    yield "\ufeff" + flush()
    offset = 0
    while True:
        rows = storage_desk.select_page(conn, sel, limit=page, offset=offset)
        for r in rows:
            writer.writerow(
                [
                    r.reference,
                    labels.label(labels.TYPES, r.type, lang),
                    labels.label(labels.STATUSES, r.status, lang),
                    labels.label(labels.OUTCOMES, r.outcome, lang) if r.outcome else "",
                    local_text(r.created_at, zone),
                    local_date(r.due_at, zone).isoformat(),
                    days_left(r, now, zone) if r.status in OPEN else "",
                    _cell(staff_names.get(r.assignee or "", r.assignee or "")),
                ]
            )
        yield flush()
        if len(rows) < page:
            return
        offset += page
