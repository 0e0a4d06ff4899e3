"""Lockout after repeated failed sign-ins, per login ID and per client address.

Each failed sign-in stores one row: a keyed HMAC of the login ID as typed and one of the client
address, and the time (never the login or the address themselves). A login ID is locked when
``failures`` of its failures fall within ``minutes`` of each other; the lock lasts ``minutes``
from the failure that reached the count. A client address is locked the same way with its own,
larger count (staff behind one office address share it). Login IDs that name no account are
counted and locked exactly like real ones, so a lock tells nothing about which accounts exist.
While locked, a sign-in is refused before its password is checked, and is not counted again:
the lock ends on time even under continued attempts.

An attempt is counted as a failure *before* its password is checked (:func:`reserve`), in one
step with the check of the lock and under locks of its login ID and client address
(:func:`mamori.store.db.lock_keys`); the count is taken back only when the password was right.
So however many attempts arrive at once, no more than the limit are ever checked, and every
other attempt of the burst gets the same answer, the lock, whatever its password.

Rows older than twice the window can no longer matter and are deleted as new failures arrive.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from mamori.errors import SignInLocked
from mamori.staff import storage
from mamori.store import db
from mamori.store.db import Connection

__all__ = [
    "Limits",
    "Reservation",
    "clear_login",
    "lock_of",
    "locked_error",
    "locked_until",
    "release",
    "reserve",
]


@dataclass(frozen=True)
class Limits:
    """How many failures lock a login ID or a client address, within and for how long."""

    login_failures: int = 5
    client_failures: int = 20
    minutes: int = 15

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.minutes)


def locked_until(
    times: Iterable[dt.datetime], threshold: int, window: dt.timedelta, now: dt.datetime
) -> dt.datetime | None:
    """When the lock made by these failure ``times`` ends, or ``None`` when there is none.

    A failure locks when it is the ``threshold``-th within ``window``; the lock ends ``window``
    after it. Pure: the times are given, in any order.
    """
    ordered = sorted(times)
    until: dt.datetime | None = None
    for last in range(threshold - 1, len(ordered)):
        first = last - threshold + 1
        if ordered[last] - ordered[first] < window:
            end = ordered[last] + window
            if end > now and (until is None or end > until):
                until = end
    return until


def lock_of(
    conn: Connection, login_hash: bytes, client_hash: bytes, limits: Limits, now: dt.datetime
) -> dt.datetime | None:
    """When the lock on this login ID or this client address ends (the later), if locked."""
    since = now - 2 * limits.window
    by_login = locked_until(
        storage.failures_of_login(conn, login_hash, since),
        limits.login_failures,
        limits.window,
        now,
    )
    by_client = locked_until(
        storage.failures_of_client(conn, client_hash, since),
        limits.client_failures,
        limits.window,
        now,
    )
    ends = [t for t in (by_login, by_client) if t is not None]
    return max(ends) if ends else None


@dataclass(frozen=True)
class Reservation:
    """The right to check one attempt's password, counted as a failure until it succeeds."""

    failure_id: int | None
    """The failure row that counts the attempt; ``None`` when the attempt is locked out."""
    locked_until: dt.datetime | None


def reserve(
    conn: Connection, login_hash: bytes, client_hash: bytes, limits: Limits, now: dt.datetime
) -> Reservation:
    """Check the lock and count the attempt, in one step (in ``conn``'s write transaction)."""
    db.lock_keys(conn, "staff-sign-in", (login_hash, client_hash))
    until = lock_of(conn, login_hash, client_hash, limits, now)
    if until is not None:
        return Reservation(None, until)
    storage.prune_failures(conn, now - 2 * limits.window)
    return Reservation(storage.insert_failure(conn, login_hash, client_hash, now), None)


def locked_error(until: dt.datetime, now: dt.datetime) -> SignInLocked:
    """The error of a sign-in refused by a lock ending at ``until``."""
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return SignInLocked(
        f"too many failed sign-ins: try again in {minutes} minute{'s' if minutes != 1 else ''}",
        retry_after=seconds,
    )


def release(conn: Connection, reservation: Reservation) -> None:
    """The reserved attempt succeeded: it does not count as a failure."""
    if reservation.failure_id is not None:
        storage.delete_failure(conn, reservation.failure_id)


def clear_login(conn: Connection, login_hash: bytes) -> None:
    """Forget the failures of a login ID (after it signed in, or its password was reset)."""
    storage.clear_login_failures(conn, login_hash)
