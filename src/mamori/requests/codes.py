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

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.errors import RateLimited
from mamori.requests.store import SealKeys
from mamori.store import tables

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

codes_t = tables.request_codes
throttle_t = tables.request_throttle


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
    conn.execute(codes_t.delete().where(codes_t.c.request_id == request_id))
    conn.execute(
        codes_t.insert().values(
            request_id=request_id,
            code_hash=_hash(keys, request_id, code),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
            attempts=0,
        )
    )
    return code


def check(conn: Connection, keys: SealKeys, request_id: str, code: str, now: dt.datetime) -> Check:
    """Count one attempt and compare. The caller commits, whatever the result."""
    row = conn.execute(
        sa.select(codes_t.c.code_hash, codes_t.c.expires_at, codes_t.c.attempts).where(
            codes_t.c.request_id == request_id
        )
    ).one_or_none()
    if row is None:
        return Check.missing
    if row.attempts >= MAX_ATTEMPTS:
        return Check.locked
    conn.execute(
        codes_t.update()
        .where(codes_t.c.request_id == request_id)
        .values(attempts=codes_t.c.attempts + 1)
    )
    given = "".join(ch for ch in code if not ch.isspace())
    matches = hmac.compare_digest(_hash(keys, request_id, given), row.code_hash)
    if row.expires_at <= now:
        return Check.expired
    if not matches:
        return Check.wrong
    conn.execute(codes_t.delete().where(codes_t.c.request_id == request_id))
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
    """Count one code sent to ``address`` for ``client``; :class:`RateLimited` past a limit."""
    since = now - limits.window
    conn.execute(throttle_t.delete().where(throttle_t.c.at < since))
    for label, text, limit in (
        ("code-address", address.lower(), limits.per_address),
        ("code-client", client, limits.per_client),
    ):
        key = keys.mac(label, text)
        sent = conn.execute(
            sa.select(sa.func.count())
            .select_from(throttle_t)
            .where(throttle_t.c.key == key, throttle_t.c.at >= since)
        ).scalar_one()
        if sent >= limit:
            raise RateLimited(
                "too many confirmation codes for this "
                f"{'address' if label == 'code-address' else 'client'}: try again within an hour"
            )
        conn.execute(throttle_t.insert().values(key=key, at=now))
