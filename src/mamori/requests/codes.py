"""One-time confirmation codes by e-mail, and the rate limits on sending them.

A code is 6 random digits (``secrets``), valid for 10 minutes, for one request. Only its keyed
hash (HMAC-SHA256 under the ``requests`` system key, bound to the request id) is stored, and it
is compared with :func:`hmac.compare_digest`. Each check counts an attempt *before* comparing,
and the count commits even when the code is wrong: after 5 attempts the code is dead, and a 6th
attempt is refused even with the right code. Sending is limited per address and per client per
hour (keyed hashes in ``request_throttle``, pruned as they age).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from mamori.errors import RateLimited
from mamori.requests import storage
from mamori.requests.store import SealKeys
from mamori.store import db
from mamori.store.db import Connection

__all__ = [
    "CODE_DIGITS",
    "CODE_MINUTES",
    "MAX_ATTEMPTS",
    "Check",
    "Limits",
    "check",
    "issue",
    "throttle",
]

CODE_DIGITS: Final = 6
CODE_MINUTES: Final = 10
MAX_ATTEMPTS: Final = 5


class Check(StrEnum):
    ok = "ok"
    wrong = "wrong"
    expired = "expired"
    locked = "locked"
    missing = "missing"


@dataclass(frozen=True)
class Limits:
    per_address: int = 5
    per_client: int = 20
    window: dt.timedelta = dt.timedelta(hours=1)


def _hash(keys: SealKeys, request_id: str, code: str) -> bytes:
    return keys.mac("request-code", f"{request_id}:{code}")


def issue(conn: Connection, keys: SealKeys, request_id: str, now: dt.datetime) -> str:
    """A new code for ``request_id`` (replacing any earlier one); returns it, to mail."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    storage.replace_code(
        conn,
        request_id,
        code_hash=_hash(keys, request_id, code),
        now=now,
        expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
    )
    return code


def check(conn: Connection, keys: SealKeys, request_id: str, code: str, now: dt.datetime) -> Check:
    """Count one attempt and compare. The caller commits, whatever the result.

    The attempt is counted and the limit checked in one statement, before anything is
    compared: past :data:`MAX_ATTEMPTS` every attempt is ``locked``, the right code included.
    """
    waiting = storage.claim_code_attempt(conn, request_id, MAX_ATTEMPTS)
    if waiting is None:
        return Check.missing if storage.code_state(conn, request_id) is None else Check.locked
    given = "".join(ch for ch in code if not ch.isspace())
    matches = hmac.compare_digest(_hash(keys, request_id, given), waiting.code_hash)
    if waiting.expires_at <= now:
        return Check.expired
    if not matches:
        return Check.wrong
    storage.delete_code(conn, request_id)
    return Check.ok


def throttle(
    conn: Connection,
    keys: SealKeys,
    *,
    address: str,
    client: str,
    now: dt.datetime,
    limits: Limits,
) -> None:
    """Count one code sent to ``address`` for ``client``; :class:`RateLimited` past a limit.

    The counts of both keys are read and raised under their locks (:func:`mamori.store.db.
    lock_keys`), so codes asked for at once are counted one after the other and no more than
    the limit are sent.
    """
    since = now - limits.window
    checks = [
        ("code-address", keys.mac("code-address", address.lower()), limits.per_address),
        ("code-client", keys.mac("code-client", client), limits.per_client),
    ]
    db.lock_keys(conn, "request-throttle", [key for _, key, _ in checks])
    storage.prune_throttle(conn, since)
    for label, key, limit in checks:
        if storage.count_sent(conn, key, since) >= limit:
            raise RateLimited(
                "too many confirmation codes for this "
                f"{'address' if label == 'code-address' else 'client'}: try again within an hour"
            )
        storage.record_sent(conn, key, now)
