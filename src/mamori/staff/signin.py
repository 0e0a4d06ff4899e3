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
``reason`` code; a session opened names its ``client`` (a keyed fingerprint of the browser
family and the address's network, :meth:`StaffKeys.client_fingerprint`, for the ``new_client``
anomaly rule); the actor is ``staff:<id>`` when the login ID names an account, else
``unknown``. Neither the typed login ID nor the password appears in the audit log or any log.

**Two steps.** :func:`begin_sign_in` checks the password and then, for an account with an
authenticator, opens no session but a *pending sign-in* (a random token whose SHA-256 is stored,
ending after ``pending_for``, 5 minutes by default) that waits for a code (stage ``code``,
:func:`finish_sign_in`); for an account without one, when a second factor is required, a
pending sign-in that waits for enrolment (stage ``enrol``, :func:`finish_enrolment`). The
password step is audited ``staff.sign_in`` with ``result`` ``pending``; the session, when it
opens, ``result`` ``ok`` with the ``second_factor`` used. A right password does not clear the
login's failures while a code is still awaited, so wrong codes add up to the same lockout.
:func:`sign_in` is the one-step form for an account without an authenticator (it refuses one
with :class:`~mamori.errors.SecondFactorRequired`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Final, Literal

from mamori.errors import SecondFactorRequired, SignInFailed, StaffSessionRequired
from mamori.staff import lockout, passwords, storage
from mamori.staff.accounts import StaffDirectory
from mamori.staff.factors import Enrolment, SecondFactors
from mamori.staff.sessions import Session, open_session
from mamori.staff.storage import AccountRow
from mamori.store import db
from mamori.store.db import Connection

__all__ = [
    "PENDING_FOR",
    "Pending",
    "SignedIn",
    "begin_sign_in",
    "check_password",
    "enrolment_of",
    "finish_enrolment",
    "finish_sign_in",
    "pending_of",
    "sign_in",
]

PENDING_FOR: Final = dt.timedelta(minutes=5)
"""How long a half-finished sign-in waits for its code."""
ENROL_FOR: Final = dt.timedelta(minutes=15)
"""How long a sign-in waits for enrolment (scanning a QR code takes longer than typing)."""
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")

Stage = Literal["code", "enrol"]


@dataclass(frozen=True)
class SignedIn:
    token: str
    """The new session token, for the cookie (never stored)."""
    session: Session


@dataclass(frozen=True)
class Pending:
    """A sign-in whose password was right, waiting for a code or for enrolment."""

    token: str
    """For the pending cookie (only its SHA-256 is stored)."""
    staff_id: str
    stage: Stage


def _audit(
    directory: StaffDirectory,
    conn: Connection,
    staff_id: str | None,
    result: str,
    reason: str | None = None,
    **more: str,
) -> None:
    actor = f"staff:{staff_id}" if staff_id else "unknown"
    details: dict[str, str | None] = {"result": result}
    if reason:
        details["reason"] = reason
    details.update(more)
    directory.audit.append(
        conn,
        actor=actor,
        action="staff.sign_in",
        targets=[actor] if staff_id else [],
        details=details,
    )


def check_password(
    directory: StaffDirectory, login: str, password: str, *, client: str, limits: lockout.Limits
) -> AccountRow:
    """The account whose password this is (failures audited and raised), the attempt taken
    back from the lockout count; for re-authentication without a second factor."""
    row, reservation, _ = _password(directory, login, password, client=client, limits=limits)
    with db.write(directory.engine) as conn:
        lockout.release(conn, reservation)
    return row


def _password(
    directory: StaffDirectory, login: str, password: str, *, client: str, limits: lockout.Limits
) -> tuple[AccountRow, lockout.Reservation, str | None]:
    """The account whose password this is, the reservation that still counts the attempt (the
    caller releases it in the transaction that uses the success) and the password's new hash
    (when it needed rehashing); failures audited and raised."""
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
        raise lockout.locked_error(reservation.locked_until, now)

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

    if reason:  # the reserved attempt stays counted: it was a failure
        with db.write(directory.engine) as conn:
            _audit(directory, conn, staff_id, "failed", reason)
        raise SignInFailed()
    assert row is not None
    return row, reservation, rehashed


def _open(
    directory: StaffDirectory,
    conn: Connection,
    staff_id: str,
    *,
    max_age: dt.timedelta,
    second_factor: str,
    client: str,
    agent: str,
    rehashed: str | None = None,
) -> SignedIn:
    now = directory.clock.now()
    storage.record_sign_in(conn, staff_id, now, rehashed=rehashed)
    stored = storage.account_by_id(conn, staff_id)
    assert stored is not None  # accounts are never deleted
    # Earlier failures are not forgotten on success: they age out of the window. Clearing them
    # here would give the guesses of a burst fresh slots each time the member signs in.
    account = directory.account(stored)
    token, session = open_session(conn, account, now=now, max_age=max_age)
    fingerprint = directory.keys.client_fingerprint(client, agent)
    _audit(directory, conn, staff_id, "ok", second_factor=second_factor, client=fingerprint)
    return SignedIn(token, session)


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
    """Check the login ID and password and open a session, for an account without an
    authenticator; see the module's description."""
    row, reservation, rehashed = _password(directory, login, password, client=client, limits=limits)
    with db.write(directory.engine) as conn:
        lockout.release(conn, reservation)
        if row.id in storage.totp_enrolled(conn):
            raise SecondFactorRequired()
        return _open(
            directory,
            conn,
            row.id,
            max_age=max_age,
            second_factor="none",
            client=client,
            agent=agent,
            rehashed=rehashed,
        )


def _new_token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def begin_sign_in(
    directory: StaffDirectory,
    login: str,
    password: str,
    *,
    client: str,
    agent: str = "",
    limits: lockout.Limits,
    max_age: dt.timedelta,
    require_second_factor: bool,
) -> SignedIn | Pending:
    """The password step: a session (no authenticator, none required) or a pending sign-in."""
    row, reservation, rehashed = _password(directory, login, password, client=client, limits=limits)
    now = directory.clock.now()
    with db.write(directory.engine) as conn:
        lockout.release(conn, reservation)
        enrolled = row.id in storage.totp_enrolled(conn)
        if not enrolled and not require_second_factor:
            return _open(
                directory,
                conn,
                row.id,
                max_age=max_age,
                second_factor="none",
                client=client,
                agent=agent,
                rehashed=rehashed,
            )
        if rehashed is not None:
            storage.rehash_password(conn, row.id, rehashed)
        stage: Stage = "code" if enrolled else "enrol"
        token = _new_token()
        storage.prune_pending(conn, now)
        storage.insert_pending(
            conn,
            token_hash=_hash(token),
            staff_id=row.id,
            stage=stage,
            now=now,
            expires_at=now + (PENDING_FOR if enrolled else ENROL_FOR),
        )
        _audit(directory, conn, row.id, "pending", next=stage)
        return Pending(token, row.id, stage)


def pending_of(directory: StaffDirectory, token: str | None, stage: Stage) -> str:
    """The account of the live pending sign-in ``token`` names at ``stage``; raises
    :class:`StaffSessionRequired` when there is none (never begun, finished, or expired)."""
    if token is None or not _TOKEN.fullmatch(token):
        raise StaffSessionRequired("your sign-in has ended: sign in again")
    now = directory.clock.now()
    with db.read(directory.engine) as conn:
        row = storage.find_pending(conn, _hash(token))
        account = storage.account_by_id(conn, row.staff_id) if row is not None else None
    if row is None or account is None or row.stage != stage:
        raise StaffSessionRequired("your sign-in has ended: sign in again")
    if row.expires_at <= now or account.disabled_at is not None:
        with db.write(directory.engine) as conn:
            storage.delete_pending(conn, _hash(token))
        raise StaffSessionRequired("your sign-in took too long: sign in again")
    return row.staff_id


def finish_sign_in(
    directory: StaffDirectory,
    token: str | None,
    code: str,
    *,
    client: str,
    agent: str = "",
    limits: lockout.Limits,
    max_age: dt.timedelta,
) -> SignedIn:
    """The code step: check the code (or a recovery code) of the pending sign-in and open the
    session. Raises :class:`StaffSessionRequired`, :class:`~mamori.errors.SecondFactorRejected`
    or :class:`~mamori.errors.SignInLocked`."""
    staff_id = pending_of(directory, token, "code")
    assert token is not None
    method = SecondFactors(directory).check(
        staff_id, code, client=client, limits=limits, purpose="sign_in"
    )
    with db.write(directory.engine) as conn:
        if not storage.delete_pending(conn, _hash(token)):
            raise StaffSessionRequired("your sign-in has ended: sign in again")
        return _open(
            directory,
            conn,
            staff_id,
            max_age=max_age,
            second_factor=method,
            client=client,
            agent=agent,
        )


def enrolment_of(directory: StaffDirectory, token: str | None) -> tuple[str, Enrolment]:
    """The account and the enrolment under way of a pending sign-in waiting for enrolment."""
    staff_id = pending_of(directory, token, "enrol")
    return staff_id, SecondFactors(directory).begin(staff_id)


def finish_enrolment(
    directory: StaffDirectory,
    token: str | None,
    code: str,
    *,
    max_age: dt.timedelta,
    client: str = "unknown",
    agent: str = "",
) -> tuple[SignedIn, list[str]]:
    """The enrolment step: confirm the new authenticator with a code and open the session;
    the session and the recovery codes to show once."""
    staff_id = pending_of(directory, token, "enrol")
    assert token is not None
    codes = SecondFactors(directory).confirm(staff_id, code, actor=f"staff:{staff_id}")
    with db.write(directory.engine) as conn:
        storage.delete_pending(conn, _hash(token))
        signed_in = _open(
            directory,
            conn,
            staff_id,
            max_age=max_age,
            second_factor="enrolled",
            client=client,
            agent=agent,
        )
        return signed_in, codes
