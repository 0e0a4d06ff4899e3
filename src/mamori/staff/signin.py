"""Signing in: the password check, the lockout, and the session it opens.

One answer for every failure the person at the keyboard could learn from (unknown login ID,
wrong password, disabled account): :class:`~mamori.errors.SignInFailed`. An unknown login ID
still costs one argon2 verification (against a fixed dummy hash), so the time of the answer does
not tell either. A locked login ID or client address gets :class:`~mamori.errors.SignInLocked`
before any password is checked; unknown login IDs lock like real ones (see
:mod:`mamori.staff.lockout`).

Before its password is checked, an attempt is counted as a failure in one transaction that
also checks the lock (:func:`mamori.staff.lockout.reserve`), so attempts racing in parallel
cannot get past the limit, and every attempt of a locked burst, the right password included,
gets the same answer. The password is then verified outside any transaction (it takes tens of
milliseconds, and SQLite has one writer); a right one takes the count back. Audited as
``staff.sign_in`` with ``result`` ``ok`` / ``failed`` / ``locked`` and, for failures, a
``reason`` code; a successful one names its ``client`` (a keyed fingerprint of the browser
family and the address's network, :meth:`StaffKeys.client_fingerprint`); the actor is
``staff:<id>`` when the login ID names an account, else ``unknown``. Neither the typed login
ID nor the password appears in the audit log or any log.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from mamori.errors import SignInFailed, SignInLocked
from mamori.staff import lockout, passwords, storage
from mamori.staff.accounts import StaffDirectory
from mamori.staff.sessions import Session, open_session
from mamori.store import db
from mamori.store.db import Connection

__all__ = ["SignedIn", "sign_in"]


@dataclass(frozen=True)
class SignedIn:
    token: str
    """The new session token, for the cookie (never stored)."""
    session: Session


def _locked(until: dt.datetime, now: dt.datetime) -> SignInLocked:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return SignInLocked(
        f"too many failed sign-ins: try again in {minutes} minute{'s' if minutes != 1 else ''}",
        retry_after=seconds,
    )


def _audit(
    directory: StaffDirectory,
    conn: Connection,
    staff_id: str | None,
    result: str,
    reason: str | None = None,
    fingerprint: str | None = None,
) -> None:
    actor = f"staff:{staff_id}" if staff_id else "unknown"
    details: dict[str, str | None] = {"result": result}
    if reason:
        details["reason"] = reason
    if fingerprint:
        details["client"] = fingerprint
    directory.audit.append(
        conn,
        actor=actor,
        action="staff.sign_in",
        targets=[actor] if staff_id else [],
        details=details,
    )


def sign_in(
    directory: StaffDirectory,
    login: str,
    password: str,
    *,
    client: str,
    agent: str = "",
    limits: lockout.Limits,
    max_age: dt.timedelta,
) -> SignedIn:
    """Check the login ID and password and open a session; see the module's description."""
    keys = directory.keys
    keys.warm()
    login_hash = keys.login_hash(login)
    client_hash = keys.client_hash(client)
    now = directory.clock.now()
    with db.write(directory.engine) as conn:
        row = storage.account_by_login(conn, login_hash)
        staff_id: str | None = row.id if row is not None else None
        reservation = lockout.reserve(conn, login_hash, client_hash, limits, now)
        if reservation.locked_until is not None:
            _audit(directory, conn, staff_id, "locked")
    if reservation.locked_until is not None:
        raise _locked(reservation.locked_until, now)

    rehashed: str | None = None
    if row is None:
        passwords.dummy_verify(password)
        reason = "unknown_login"
    elif not passwords.verify(row.password_hash, password):
        reason = "wrong_password"
    elif row.disabled_at is not None:
        reason = "disabled"
    else:
        reason = ""
        if passwords.needs_rehash(row.password_hash):
            rehashed = passwords.hash_password(password)

    now = directory.clock.now()
    with db.write(directory.engine) as conn:
        if reason:  # the reserved attempt stays counted: it was a failure
            _audit(directory, conn, staff_id, "failed", reason)
        else:
            assert staff_id is not None
            lockout.release(conn, reservation)
            storage.record_sign_in(conn, staff_id, now, rehashed=rehashed)
            lockout.clear_login(conn, login_hash)
            stored = storage.account_by_id(conn, staff_id)
            assert stored is not None  # accounts are never deleted
            account = directory.account(stored)
            token, session = open_session(conn, account, now=now, max_age=max_age)
            _audit(
                directory, conn, staff_id, "ok", fingerprint=keys.client_fingerprint(client, agent)
            )
            return SignedIn(token, session)
    raise SignInFailed()
