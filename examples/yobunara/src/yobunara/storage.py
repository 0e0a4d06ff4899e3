"""The service's own database (SQLite): every query, named. It holds mamori's subject ids and
data about no one; a person's name, e-mail, address, phone, messages and dietary requirements
are never written here (the browser test searches the file's bytes for each of them)."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Account", "Invitation", "Rsvp", "Store"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  subject_id TEXT NOT NULL UNIQUE,      -- the couple in mamori
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invitations (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  slug TEXT NOT NULL UNIQUE,            -- the link guests open
  event_date TEXT NOT NULL,
  event_time TEXT NOT NULL,
  venue TEXT NOT NULL,                  -- a public place
  design TEXT NOT NULL,                 -- one of the service's images
  video_id TEXT NOT NULL,               -- a YouTube video id, or ''
  views INTEGER NOT NULL DEFAULT 0,     -- a count, of no one
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rsvps (
  id TEXT PRIMARY KEY,
  invitation_id TEXT NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
  subject_id TEXT NOT NULL,             -- the guest in mamori
  attending INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rsvps_invitation ON rsvps(invitation_id);
CREATE TABLE IF NOT EXISTS webhook_events (
  id TEXT PRIMARY KEY,                  -- webhook-id: a retry or replay is skipped
  type TEXT NOT NULL,
  received_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Account:
    id: str
    subject_id: str
    password_hash: str


@dataclass(frozen=True)
class Invitation:
    id: str
    account_id: str
    slug: str
    event_date: str
    event_time: str
    venue: str
    design: str
    video_id: str
    views: int


@dataclass(frozen=True)
class Rsvp:
    id: str
    invitation_id: str
    subject_id: str
    attending: bool
    created_at: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class Store:
    """The database file; one writer at a time (a lock), each call its own transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._conn() as conn:
            conn.executescript(SCHEMA)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = sqlite3.connect(self.path)
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA secure_delete = ON")  # deleted rows leave no bytes behind
                with conn:
                    yield conn
            finally:
                conn.close()

    # -- accounts ----------------------------------------------------------------------------

    def add_account(self, account_id: str, subject_id: str, password_hash: str) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO accounts (id, subject_id, password_hash, created_at)"
                " VALUES (?, ?, ?, ?)",
                (account_id, subject_id, password_hash, _now()),
            )

    def account(self, account_id: str) -> Account | None:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT id, subject_id, password_hash FROM accounts WHERE id = ?", (account_id,)
            ).fetchone()
        return Account(*row) if row else None

    def accounts_of(self, subject_ids: list[str]) -> list[Account]:
        if not subject_ids:
            return []
        marks = ",".join("?" * len(subject_ids))
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT id, subject_id, password_hash FROM accounts WHERE subject_id IN ({marks})",
                subject_ids,
            ).fetchall()
        return [Account(*r) for r in rows]

    # -- invitations -------------------------------------------------------------------------

    def save_invitation(
        self,
        account_id: str,
        *,
        event_date: str,
        event_time: str,
        venue: str,
        design: str,
        video_id: str,
    ) -> Invitation:
        """The account's invitation, created or updated (a couple has one wedding)."""
        found = self.invitation_of(account_id)
        with self._conn() as conn:
            if found is None:
                conn.execute(
                    "INSERT INTO invitations (id, account_id, slug, event_date, event_time, venue,"
                    " design, video_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new_id("inv"),
                        account_id,
                        secrets.token_urlsafe(9),
                        event_date,
                        event_time,
                        venue,
                        design,
                        video_id,
                        _now(),
                    ),
                )
            else:
                conn.execute(
                    "UPDATE invitations SET event_date = ?, event_time = ?, venue = ?, design = ?,"
                    " video_id = ? WHERE id = ?",
                    (event_date, event_time, venue, design, video_id, found.id),
                )
        saved = self.invitation_of(account_id)
        assert saved is not None
        return saved

    _INVITATION = (
        "SELECT id, account_id, slug, event_date, event_time, venue, design, video_id, views"
        " FROM invitations"
    )

    def invitation_of(self, account_id: str) -> Invitation | None:
        with self._conn() as conn:
            row = conn.execute(f"{self._INVITATION} WHERE account_id = ?", (account_id,)).fetchone()
        return Invitation(*row) if row else None

    def invitation_by_slug(self, slug: str) -> Invitation | None:
        with self._conn() as conn:
            row = conn.execute(f"{self._INVITATION} WHERE slug = ?", (slug,)).fetchone()
        return Invitation(*row) if row else None

    def count_view(self, invitation_id: str) -> None:
        with self._conn() as conn:
            conn.execute("UPDATE invitations SET views = views + 1 WHERE id = ?", (invitation_id,))

    # -- answers -----------------------------------------------------------------------------

    def add_rsvp(self, invitation_id: str, subject_id: str, *, attending: bool) -> Rsvp:
        rsvp = Rsvp(new_id("rsvp"), invitation_id, subject_id, attending, _now())
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO rsvps (id, invitation_id, subject_id, attending, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (rsvp.id, invitation_id, subject_id, int(attending), rsvp.created_at),
            )
        return rsvp

    def rsvps(self, invitation_id: str) -> list[Rsvp]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT id, invitation_id, subject_id, attending, created_at FROM rsvps"
                " WHERE invitation_id = ? ORDER BY created_at, id",
                (invitation_id,),
            ).fetchall()
        return [Rsvp(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    # -- what mamori tells ---------------------------------------------------------------------

    def first_delivery(self, webhook_id: str, event_type: str) -> bool:
        """Remember a webhook's id; False when it was processed already (a retry)."""
        with self._conn() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO webhook_events (id, type, received_at) VALUES (?, ?, ?)",
                (webhook_id, event_type, _now()),
            )
            return cursor.rowcount == 1

    def forget_subject(self, subject_id: str) -> tuple[int, int]:
        """A person withdrew from mamori: their account (with its invitation and its guests'
        answers) and their own answers go. Returns (accounts, answers) deleted."""
        with self._conn() as conn:
            accounts = conn.execute(
                "DELETE FROM accounts WHERE subject_id = ?", (subject_id,)
            ).rowcount
            answers = conn.execute("DELETE FROM rsvps WHERE subject_id = ?", (subject_id,)).rowcount
        return accounts, answers

    def counts(self) -> dict[str, int]:
        with self._conn() as conn:
            return {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("accounts", "invitations", "rsvps")
            }
