"""Looking things up in the audit log: entries about a person, by a staff member or a service
key, of an action, between two days, newest first, a page at a time (or streamed for an
export).

A filter names people and actors by their ids (``sub_...``, ``st_...``, a key's id), as the
entries do. Days are the operator's calendar days: ``since`` and ``until`` become UTC bounds of
the stored timestamps, which compare as text (RFC 3339, UTC, fixed width).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from mamori.audit.entry import decode_fields
from mamori.errors import UserInputError
from mamori.store import tables
from mamori.store.db import Connection

__all__ = ["AuditFilter", "Listed", "find", "stream"]

_t = tables.audit_entries
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,120}")
_ACTION = re.compile(r"[a-z_]+(?:\.[a-z_]+)*\.?")


@dataclass(frozen=True)
class Listed:
    seq: int
    ts: str
    actor: str
    action: str
    targets: tuple[str, ...]
    details: dict[str, Any]

    @property
    def at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.ts.replace("Z", "+00:00"))


@dataclass(frozen=True)
class AuditFilter:
    person: str | None = None
    """A subject id: entries that name ``subject:<id>`` among their targets."""
    staff: str | None = None
    """A staff id: entries whose actor is ``staff:<id>``."""
    key: str | None = None
    """A service key's id: entries whose actor is ``key:<id>``."""
    action: str | None = None
    """An action (``subject.read``), or a family ending in a dot (``request.``)."""
    since: dt.date | None = None
    until: dt.date | None = None
    """Inclusive calendar days in the operator's time zone."""

    @property
    def empty(self) -> bool:
        return self == AuditFilter()

    @classmethod
    def parse(cls, query: dict[str, str]) -> AuditFilter:
        """From a page's query parameters; a malformed value is a clear error."""

        def ident(name: str, prefix: str = "") -> str | None:
            value = query.get(name, "").strip()
            if not value:
                return None
            if prefix and value.startswith(prefix):
                value = value[len(prefix) :]
            if not _ID.fullmatch(value):
                raise UserInputError(f"{name}: an id (letters, digits, _ . : -)")
            return value

        def day(name: str) -> dt.date | None:
            value = query.get(name, "").strip()
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise UserInputError(f"{name}: a date as YYYY-MM-DD") from None

        action = query.get("action", "").strip() or None
        if action is not None and not _ACTION.fullmatch(action):
            raise UserInputError("action: an action such as subject.read, or request.")
        found = cls(
            person=ident("person", "subject:"),
            staff=ident("staff", "staff:"),
            key=ident("key", "key:"),
            action=action,
            since=day("since"),
            until=day("until"),
        )
        if found.since and found.until and found.since > found.until:
            raise UserInputError("since: the first day comes before the last")
        return found


def _stamp(day: dt.date, zone: str) -> str:
    start = dt.datetime.combine(day, dt.time(0), ZoneInfo(zone)).astimezone(dt.UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _query(filt: AuditFilter, zone: str) -> sa.Select[Any]:
    query = sa.select(_t.c.seq, _t.c.ts, _t.c.actor, _t.c.action, _t.c.targets, _t.c.details)
    if filt.person:
        query = query.where(_t.c.targets.like(f'%"subject:{_like(filt.person)}"%', escape="\\"))
    actors = [f"staff:{filt.staff}"] if filt.staff else []
    if filt.key:
        actors.append(f"key:{filt.key}")
    if actors:
        query = query.where(_t.c.actor.in_(actors))
    if filt.action:
        if filt.action.endswith("."):
            query = query.where(_t.c.action.like(_like(filt.action) + "%", escape="\\"))
        else:
            query = query.where(_t.c.action == filt.action)
    if filt.since:
        query = query.where(_t.c.ts >= _stamp(filt.since, zone))
    if filt.until:
        query = query.where(_t.c.ts < _stamp(filt.until + dt.timedelta(days=1), zone))
    return query


def _listed(row: Any) -> Listed:
    targets, details = decode_fields(row.targets, row.details)
    return Listed(row.seq, row.ts, row.actor, row.action, targets, details)


def find(
    conn: Connection, filt: AuditFilter, *, zone: str, limit: int, before: int | None = None
) -> list[Listed]:
    """The newest ``limit`` entries ``filt`` selects (with ``seq < before``, when given)."""
    query = _query(filt, zone)
    if before is not None:
        query = query.where(_t.c.seq < before)
    rows = conn.execute(query.order_by(_t.c.seq.desc()).limit(limit)).all()
    return [_listed(r) for r in rows]


def stream(conn: Connection, filt: AuditFilter, *, zone: str, page: int = 1000) -> Iterator[Listed]:
    """Every entry ``filt`` selects, oldest first, read ``page`` entries at a time by key."""
    after = 0
    while True:
        rows = conn.execute(
            _query(filt, zone).where(_t.c.seq > after).order_by(_t.c.seq).limit(page)
        ).all()
        for row in rows:
            yield _listed(row)
        if len(rows) < page:
            return
        after = rows[-1].seq
