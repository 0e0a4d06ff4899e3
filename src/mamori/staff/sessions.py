"""Admin-console sessions, stored server-side; the cookie holds a token only its owner has.

The token is 32 random bytes (base64url); the database keeps only its SHA-256, with the staff
account, a random CSRF token for the forms, the time of sign-in, the last activity, the
absolute end, and when its member last proved who they are (``authenticated_at``: the
sign-in, or a re-authentication before a sensitive action, :func:`reauthenticated`). A session
ends at whichever comes first: ``idle`` without activity, or the absolute end (``max_age``
after sign-in), or when the account is disabled, its password reset or its authenticator reset
(those delete its sessions), or on sign-out. An ended session presented again is deleted.
Activity is written at most once a minute, so reading pages does not write on every request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Final

from mamori.errors import StaffSessionRequired
from mamori.staff import storage
from mamori.staff.accounts import StaffAccount, StaffDirectory
from mamori.store import db
from mamori.store.db import Connection

__all__ = ["Session", "current", "end", "open_session", "reauthenticated", "token_hash"]

_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_TOUCH_EVERY: Final = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Session:
    """A signed-in staff member. ``csrf_token`` goes into every form of the console."""

    account: StaffAccount
    csrf_token: str = field(repr=False)
    token_hash: bytes = field(repr=False)
    expires_at: dt.datetime
    authenticated_at: dt.datetime

    def authenticated_within(self, age: dt.timedelta, now: dt.datetime) -> bool:
        """Whether the member proved who they are less than ``age`` before ``now``."""
        return now - self.authenticated_at < age


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def open_session(
    conn: Connection, account: StaffAccount, *, now: dt.datetime, max_age: dt.timedelta
) -> tuple[str, Session]:
    """Store a new session for ``account`` inside ``conn``'s transaction; (cookie token, session).

    Also deletes every session past its absolute end (of anyone): they can never be used again.
    """
    token = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    session = Session(
        account, secrets.token_urlsafe(32), token_hash(token), now + max_age, authenticated_at=now
    )
    storage.prune_sessions(conn, now)
    storage.insert_session(
        conn,
        token_hash=session.token_hash,
        staff_id=account.id,
        csrf_token=session.csrf_token,
        now=now,
        expires_at=session.expires_at,
    )
    return token, session


def current(
    directory: StaffDirectory, token: str | None, *, now: dt.datetime, idle: dt.timedelta
) -> Session:
    """The live session ``token`` names, its activity recorded.

    Raises :class:`StaffSessionRequired` when there is no token, or it names no session, or the
    session has ended (idle, past its end, account disabled), which is then deleted.
    """
    if token is None or not _TOKEN.fullmatch(token):
        raise StaffSessionRequired()
    hashed = token_hash(token)
    with db.read(directory.engine) as conn:
        row = storage.find_session(conn, hashed)
    if row is None:
        raise StaffSessionRequired()
    live = (
        row.expires_at > now and row.last_seen_at + idle > now and row.account.disabled_at is None
    )
    if not live:
        with db.write(directory.engine) as conn:
            storage.delete_session(conn, hashed)
        raise StaffSessionRequired("your admin-console session has ended: sign in again")
    if now - row.last_seen_at >= _TOUCH_EVERY:
        with db.write(directory.engine) as conn:
            storage.touch_session(conn, hashed, now)
    return Session(
        directory.account(row.account),
        row.csrf_token,
        hashed,
        row.expires_at,
        authenticated_at=row.authenticated_at,
    )


def reauthenticated(directory: StaffDirectory, session: Session, *, method: str) -> Session:
    """The member proved who they are again (by ``method``): noted on the session, audited
    ``staff.reauth``."""
    now = directory.clock.now()
    with db.write(directory.engine) as conn:
        storage.set_authenticated(conn, session.token_hash, now)
        directory.audit.append(
            conn,
            actor=session.account.actor,
            action="staff.reauth",
            targets=[session.account.actor],
            details={"method": method},
        )
    return Session(
        session.account,
        session.csrf_token,
        session.token_hash,
        session.expires_at,
        authenticated_at=now,
    )


def end(directory: StaffDirectory, session: Session) -> None:
    """Sign out: the session is deleted (audited as ``staff.sign_out``)."""
    with db.write(directory.engine) as conn:
        storage.delete_session(conn, session.token_hash)
        directory.audit.append(
            conn,
            actor=session.account.actor,
            action="staff.sign_out",
            targets=[session.account.actor],
        )
