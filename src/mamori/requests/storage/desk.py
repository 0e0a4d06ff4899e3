"""SQL of the request desk (:mod:`mamori.requests.desk`): the queue's selection, its counts,
staff's notes and assignment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mamori.requests.model import Request, Status
from mamori.requests.storage import row_to_request, select_requests
from mamori.store import tables
from mamori.store.db import Connection

__all__ = [
    "NoteRow",
    "Selection",
    "counts",
    "insert_note",
    "notes_of",
    "select_page",
    "set_assignee",
]

_requests = tables.data_requests
_notes = tables.request_notes


@dataclass(frozen=True)
class Selection:
    """Which requests the queue shows, with every value resolved (a number parsed, an address
    keyed)."""

    owed: tuple[Status, ...]
    now: dt.datetime
    soon: dt.datetime
    number: str | None = None
    request_id: str | None = None
    contact_ref: bytes | None = None
    type: str | None = None
    status: str | None = None
    include_closed: bool = False
    due: str | None = None
    """``overdue``, ``soon`` or ``later`` (of the requests still owed an answer)."""
    assignee: str | None = None
    """A staff id, or ``"none"``."""

    @property
    def searched(self) -> bool:
        return any(v is not None for v in (self.number, self.request_id, self.contact_ref))


def _query(sel: Selection) -> sa.Select[Any]:
    c = _requests.c
    query = select_requests()
    if sel.number is not None:
        query = query.where(c.number == sel.number)
    if sel.request_id is not None:
        query = query.where(c.id == sel.request_id)
    if sel.contact_ref is not None:
        query = query.where(c.contact_ref == sel.contact_ref)
    if sel.type is not None:
        query = query.where(c.type == sel.type)
    if sel.status is not None:
        query = query.where(c.status == sel.status)
    elif not sel.include_closed and not sel.searched:
        query = query.where(c.status != Status.closed.value)
    owed = c.status.in_([s.value for s in sel.owed])
    if sel.due == "overdue":
        query = query.where(owed, c.due_at < sel.now)
    elif sel.due == "soon":
        query = query.where(owed, c.due_at >= sel.now, c.due_at <= sel.soon)
    elif sel.due == "later":
        query = query.where(owed, c.due_at > sel.soon)
    if sel.assignee == "none":
        query = query.where(c.assignee.is_(None))
    elif sel.assignee:
        query = query.where(c.assignee == sel.assignee)
    return query.order_by(c.due_at, c.id)


def select_page(conn: Connection, sel: Selection, *, limit: int, offset: int = 0) -> list[Request]:
    """The selected requests by due date, ``limit`` of them from ``offset``."""
    rows = conn.execute(_query(sel).limit(limit).offset(offset)).all()
    return [row_to_request(r) for r in rows]


def counts(
    conn: Connection, owed: tuple[Status, ...], now: dt.datetime, soon: dt.datetime
) -> tuple[int, int, int, int]:
    """(owed an answer, overdue, due by ``soon``, awaiting verification), in one query."""
    c = _requests.c
    is_owed = c.status.in_([s.value for s in owed])

    def count(*conditions: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*conditions), 1), else_=0)), 0)

    row = conn.execute(
        sa.select(
            count(is_owed),
            count(is_owed, c.due_at < now),
            count(is_owed, c.due_at >= now, c.due_at <= soon),
            count(c.status == Status.received.value),
        ).where(c.status != Status.closed.value)
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


@dataclass(frozen=True)
class NoteRow:
    id: str
    author: str
    created_at: dt.datetime
    sealed: bytes


def insert_note(
    conn: Connection,
    *,
    note_id: str,
    request_id: str,
    author: str,
    created_at: dt.datetime,
    sealed: bytes,
) -> None:
    conn.execute(
        _notes.insert().values(
            id=note_id, request_id=request_id, author=author, created_at=created_at, sealed=sealed
        )
    )


def notes_of(conn: Connection, request_id: str) -> list[NoteRow]:
    """The request's notes, oldest first."""
    rows = conn.execute(
        sa.select(_notes.c.id, _notes.c.author, _notes.c.created_at, _notes.c.sealed)
        .where(_notes.c.request_id == request_id)
        .order_by(_notes.c.created_at, _notes.c.id)
    ).all()
    return [NoteRow(r.id, r.author, r.created_at, r.sealed) for r in rows]


def set_assignee(conn: Connection, request_id: str, assignee: str | None, now: dt.datetime) -> None:
    conn.execute(
        _requests.update()
        .where(_requests.c.id == request_id)
        .values(assignee=assignee, updated_at=now)
    )
