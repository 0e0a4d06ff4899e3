"""Staff's work on a request that the person never sees: internal notes and assignment.

A note is free text that may name the person, so it is sealed under the ``requests`` system
key with the request's other details, and its audit entry records only that a note was added
(its id and length). Assigning names the staff member who works the request; the console
checks that the member exists, is active and may work requests.
"""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata
from dataclasses import dataclass, replace

from mamori.errors import UserInputError
from mamori.requests import store
from mamori.requests.context import RequestContext
from mamori.requests.model import Request
from mamori.requests.storage import desk as storage_desk
from mamori.requests.store import SealKeys
from mamori.store import db

__all__ = ["MAX_NOTE", "Note", "add_note", "assign", "notes"]

MAX_NOTE = 4000
"""Longest note, in characters."""


@dataclass(frozen=True)
class Note:
    id: str
    author: str
    """The staff id of whoever wrote it."""
    created_at: dt.datetime
    text: str


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").strip()
    if not text:
        raise UserInputError("note: write something")
    if len(text) > MAX_NOTE:
        raise UserInputError(f"note: at most {MAX_NOTE} characters")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise UserInputError("note: control characters are not allowed")
    return text


def add_note(ctx: RequestContext, request_id: str, text: str, *, staff_id: str) -> Note:
    """Add a note to the request (which must exist); audited without its text."""
    clean = _clean(text)
    keys = SealKeys(ctx.vault.system_keys)
    note_id = "rn_" + secrets.token_hex(12)
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id)
        storage_desk.insert_note(
            conn,
            note_id=note_id,
            request_id=request_id,
            author=staff_id,
            created_at=now,
            sealed=keys.seal(request_id, f"note:{note_id}", clean.encode()),
        )
        store.audit(
            ctx.audit,
            conn,
            request,
            "note",
            actor=f"staff:{staff_id}",
            note=note_id,
            chars=len(clean),
        )
    return Note(note_id, staff_id, now, clean)


def notes(ctx: RequestContext, request_id: str) -> list[Note]:
    """The request's notes, oldest first (the caller audits the page that shows them)."""
    keys = SealKeys(ctx.vault.system_keys)
    with db.read(ctx.engine) as conn:
        rows = storage_desk.notes_of(conn, request_id)
    return [
        Note(
            r.id,
            r.author,
            r.created_at,
            keys.unseal(request_id, f"note:{r.id}", r.sealed).decode(),
        )
        for r in rows
    ]


def assign(ctx: RequestContext, request_id: str, assignee: str | None, *, actor: str) -> Request:
    """Assign the request to the staff member ``assignee`` (``None``: to no one). The caller
    has checked that the member may work requests."""
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id)
        if request.assignee == assignee:
            return request
        storage_desk.set_assignee(conn, request_id, assignee, ctx.clock.now())
        store.audit(ctx.audit, conn, request, "assign", actor=actor, assignee=assignee or "none")
    return replace(request, assignee=assignee)
