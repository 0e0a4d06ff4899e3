"""Service accounts: API keys scoped to purposes and operations, stored hashed.

A key is shown once, when it is created, as ``mamori_<id>_<secret>``: ``<id>`` (``mk_`` and 10
base32 characters) is public and names the key in lists and audit entries; ``<secret>`` is 32
random bytes, base64url. Only SHA-256 of the secret is stored. A fast hash is right here: the
secret has 256 bits of entropy, so there is nothing to guess, and a slow password hash (argon2)
would cost milliseconds on every API request for no gain.

:func:`authenticate` looks the key up by its id (one primary-key read) and compares the hashes
in constant time. Accounts it has verified are kept in a small in-process cache, keyed by the id
and the hash of the presented secret, for :data:`CACHE_TTL` seconds, so that a busy API does
not read the same row for every request. :func:`revoke` empties the cache of the process it runs
in: a revocation takes effect at once there, and within :data:`CACHE_TTL` seconds in every other
process (other server workers, or a server while the CLI revokes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import hmac
import re
import secrets
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

import orjson

from mamori.audit.log import AuditLog
from mamori.clock import SYSTEM, Clock
from mamori.errors import (
    AuthenticationFailed,
    Conflict,
    ContractorNotFound,
    NotFound,
    PermissionDenied,
    PolicyNotPublished,
    UnknownPurpose,
    UserInputError,
)
from mamori.policy.loader import parse_policy
from mamori.policy.model import Policy, Relationship
from mamori.publication import versions
from mamori.store import db
from mamori.store.db import Engine
from mamori.vault.storage import keys as storage

__all__ = [
    "CACHE_TTL",
    "OPERATIONS",
    "Operation",
    "ServiceAccount",
    "authenticate",
    "cached",
    "create",
    "list_keys",
    "revoke",
]

Operation = Literal["read", "write", "delete", "provide"]
OPERATIONS: Final[tuple[Operation, ...]] = get_args(Operation)
"""What a key may be allowed to do, in the order lists show them."""

CACHE_TTL: Final = 1.0
"""Seconds a verified key stays cached in a process (see the module's documentation)."""

_CACHE_SIZE: Final = 10_000  # per database; the cache is emptied when it is full
_ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case
_KEY_ID = re.compile(r"mk_[a-z2-7]{10}")
_TOKEN = re.compile(r"mamori_(mk_[a-z2-7]{10})_([A-Za-z0-9_-]{43})")
_SAFE = re.compile(r"[a-z][a-z0-9_]{0,63}")  # what may be echoed from an unknown input
_NAME_MAX: Final = 100
_DETAIL_MAX: Final = 128  # longest string an audit detail may hold (mamori.audit.entry)

_MALFORMED = "not a mamori API key: expected mamori_mk_<10 characters>_<43 characters>"
_INVALID = "the API key is not valid: it is unknown or mistyped; see `mamori keys list`"


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """A service account: what the holder of one API key may do, and for which purposes."""

    id: str
    """The public key id, ``mk_`` and 10 characters."""
    name: str
    purposes: frozenset[str]
    operations: frozenset[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    contractor_id: str | None = None
    """A contractor's key: the recipient id of the policy's contractor it belongs to. Such a
    key only reads the vault, for what the policy entrusts to that contractor."""

    @property
    def actor_id(self) -> str:
        """Who this account is in the audit log: ``key:<id>``."""
        return f"key:{self.id}"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def require(self, operation: Operation) -> None:
        """Raise :class:`~mamori.errors.PermissionDenied` unless the key may do ``operation``."""
        if operation not in self.operations:
            held = ", ".join(op for op in OPERATIONS if op in self.operations)
            raise PermissionDenied(
                f"key '{self.id}' may not {operation} (it may {held}); "
                f"create a key with --operation {operation} for this"
            )


# -- creating, listing, revoking ----------------------------------------------------------------


def create(
    engine: Engine,
    audit: AuditLog,
    *,
    name: str,
    purposes: Sequence[str],
    operations: Sequence[str] = ("read",),
    actor: str,
    clock: Clock = SYSTEM,
    contractor: str | None = None,
) -> tuple[ServiceAccount, str]:
    """Create a key; return the account and the full token, which is never available again.

    ``purposes`` must be declared by the current published policy; ``operations`` are among
    ``read``, ``write``, ``delete`` and ``provide``. With ``contractor`` (a recipient id whose
    relationship in the published policy is ``contractor``) the key is that contractor's: it
    may only ``read``, its purposes must be among those the policy entrusts to the contractor
    (all of them when none are given), and its reads are limited to the items entrusted.
    Audited as ``service_key.create``.
    """
    _check_name(name)
    ops = _check_operations(operations)
    policy = _published_policy(engine)
    if contractor is not None:
        purposes = _check_contractor(policy, contractor, purposes, ops)
    granted = _check_purposes(policy, purposes)
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    with db.write(engine) as conn:
        key_id = _new_id()
        while storage.service_key(conn, key_id) is not None:  # pragma: no cover
            key_id = _new_id()  # 2**50 ids: a clash is all but impossible, yet cheap to rule out
        storage.insert_service_key(
            conn,
            id=key_id,
            name=name,
            secret_hash=_hash(secret),
            purposes=orjson.dumps(granted).decode(),
            operations=orjson.dumps(ops).decode(),
            created_at=now,
            contractor_id=contractor,
        )
        audit.append(
            conn,
            actor=actor,
            action="service_key.create",
            targets=[f"key:{key_id}", *([f"recipient:{contractor}"] if contractor else [])],
            details={
                **_packed("purposes", granted),
                "operations": ".".join(ops),
                **({"contractor": contractor} if contractor else {}),
            },
        )
    account = ServiceAccount(
        key_id, name, frozenset(granted), frozenset(ops), now, contractor_id=contractor
    )
    return account, f"mamori_{key_id}_{secret}"


def list_keys(engine: Engine) -> list[ServiceAccount]:
    """Every key, revoked ones included, oldest first."""
    with db.read(engine) as conn:
        rows = storage.all_service_keys(conn)
    return [_account(row) for row in rows]


def revoke(
    engine: Engine, audit: AuditLog, key_id: str, *, actor: str, clock: Clock = SYSTEM
) -> ServiceAccount:
    """Revoke a key at once (see the module's documentation); audited as ``service_key.revoke``.

    ``key_id`` is the public id (``mk_...``); a full token is accepted too. Raises
    :class:`~mamori.errors.NotFound` for an unknown id and :class:`~mamori.errors.Conflict` for
    a key revoked before.
    """
    key_id = _key_id(key_id)
    now = clock.now()
    with db.write(engine) as conn:
        row = storage.service_key(conn, key_id)
        if row is None:
            raise NotFound(f"service key '{key_id}' does not exist; `mamori keys list` shows them")
        if not storage.revoke_service_key(conn, key_id, now):
            revoked_at = row.revoked_at or now  # or revoked by a transaction running alongside
            raise Conflict(
                f"service key '{key_id}' was already revoked on "
                f"{revoked_at:%Y-%m-%d %H:%M:%S} UTC; there is nothing more to do"
            )
        audit.append(conn, actor=actor, action="service_key.revoke", targets=[f"key:{key_id}"])
    _cache.invalidate()
    return dataclasses.replace(_account(row), revoked_at=now)


# -- authenticating -----------------------------------------------------------------------------


def authenticate(engine: Engine, token: str, *, clock: Clock = SYSTEM) -> ServiceAccount:
    """The account of ``token``; :class:`~mamori.errors.AuthenticationFailed` unless it is valid.

    A malformed token, an unknown id, a wrong secret and a revoked key all fail; the message
    never repeats the token. One primary-key read, or none when the key is cached.
    """
    key_id, digest = _parse(token)
    hit = _cache.get(engine, key_id, digest, clock.monotonic())
    if hit is not None:
        return hit
    generation = _cache.generation
    with db.read(engine) as conn:
        row = storage.service_key(conn, key_id)
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        raise AuthenticationFailed(_INVALID)
    if row.revoked_at is not None:
        # Said only to the holder of the right secret: they learn nothing they could misuse.
        raise AuthenticationFailed(
            f"API key '{key_id}' was revoked; ask an administrator for a new key"
        )
    account = _account(row)
    _cache.put(engine, key_id, digest, account, generation, clock.monotonic())
    return account


def cached(engine: Engine, token: str, *, clock: Clock = SYSTEM) -> ServiceAccount | None:
    """The account of ``token`` if the in-process cache holds it (no I/O), else ``None``.

    For asynchronous callers: on ``None``, run :func:`authenticate` in a worker thread.
    """
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    return _cache.get(engine, match[1], _hash(match[2]), clock.monotonic())


# -- helpers ------------------------------------------------------------------------------------


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def _new_id() -> str:
    return "mk_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def _parse(token: str) -> tuple[str, bytes]:
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise AuthenticationFailed(_MALFORMED)
    return match[1], _hash(match[2])


def _key_id(text: str) -> str:
    text = text.strip()
    if _KEY_ID.fullmatch(text):
        return text
    token = _TOKEN.fullmatch(text)
    if token is not None:
        return token[1]
    raise UserInputError(
        "not a key id: expected mk_ and 10 characters, as `mamori keys list` shows"
    )


def _check_name(name: str) -> None:
    if not (0 < len(name) <= _NAME_MAX and name.isprintable() and name.strip()):
        raise UserInputError(
            f"a key's name must be 1 to {_NAME_MAX} printable characters, not only spaces"
        )


def _echo(value: str) -> str:
    """``value`` quoted if it looks like an id, so that messages never echo arbitrary input."""
    return f"'{value}'" if _SAFE.fullmatch(value) else "(not an id)"


def _check_operations(operations: Iterable[str]) -> list[Operation]:
    wanted = {operations} if isinstance(operations, str) else set(operations)
    for operation in sorted(wanted):
        if operation not in OPERATIONS:
            raise UserInputError(f"unknown operation {_echo(operation)}: use read, write or delete")
    if not wanted:
        raise UserInputError("a key needs at least one operation: read, write or delete")
    return [op for op in OPERATIONS if op in wanted]


def _published_policy(engine: Engine) -> Policy:
    version = versions.current(engine)
    if version is None:
        raise PolicyNotPublished()
    return parse_policy(version.source_yaml, f"policy version {version.version}")


def _check_contractor(
    policy: Policy, contractor: str, purposes: Iterable[str], ops: Sequence[str]
) -> list[str]:
    """The purposes of a contractor's key (its entrusted ones when none are given)."""
    contractors = [r for r in policy.recipients if r.relationship is Relationship.contractor]
    found = next((r for r in contractors if r.id == contractor), None)
    if found is None:
        known = ", ".join(r.id for r in contractors) or "none"
        raise ContractorNotFound(
            f"{_echo(contractor)} is not a contractor of the published policy"
            f" (its contractors: {known})"
        )
    if list(ops) != ["read"]:
        raise UserInputError(
            f"a contractor's key may only read: create the key for '{found.id}' without"
            " --operation (or with --operation read)"
        )
    wanted = [purposes] if isinstance(purposes, str) else list(purposes)
    if not wanted:
        return list(found.purposes)
    for purpose in wanted:
        if purpose not in found.purposes:
            raise UserInputError(
                f"contractor '{found.id}' is not entrusted with purpose {_echo(purpose)}"
                f" (the policy entrusts it with {', '.join(found.purposes)})"
            )
    return wanted


def _check_purposes(policy: Policy, purposes: Iterable[str]) -> list[str]:
    wanted = sorted({purposes} if isinstance(purposes, str) else set(purposes))
    if not wanted:
        raise UserInputError("a key needs at least one purpose of the published policy")
    declared = [purpose.id for purpose in policy.purposes]
    for purpose in wanted:
        if purpose not in declared:
            close = difflib.get_close_matches(purpose, declared, n=1, cutoff=0.6)
            hint = (
                f" (did you mean '{close[0]}'?)"
                if close
                else f"; the published policy declares {', '.join(declared)}"
            )
            raise UnknownPurpose(f"unknown purpose {_echo(purpose)}{hint}")
    return wanted


def _packed(key: str, ids: Sequence[str]) -> dict[str, str]:
    """``ids`` joined by '.', split over ``key``, ``key.2``, ... to fit audit detail values."""
    chunks: list[str] = []
    for value in ids:
        if chunks and len(chunks[-1]) + 1 + len(value) <= _DETAIL_MAX:
            chunks[-1] += "." + value
        else:
            chunks.append(value)
    return {key if n == 1 else f"{key}.{n}": chunk for n, chunk in enumerate(chunks, 1)}


def _account(row: storage.ServiceKeyRow) -> ServiceAccount:
    return ServiceAccount(
        id=row.id,
        name=row.name,
        purposes=frozenset(orjson.loads(row.purposes)),
        operations=frozenset(orjson.loads(row.operations)),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        contractor_id=row.contractor_id,
    )


class _Cache:
    """Verified accounts per database, keyed by key id and the hash of the presented secret.

    An entry exists only after the hashes matched in :func:`authenticate`, so a hit proves the
    secret. Reads take no lock; writes do, so that an account read from the database before a
    revocation in this process is never stored after it (``generation`` says whether one came).
    """

    def __init__(self) -> None:
        self._by_engine: weakref.WeakKeyDictionary[
            Engine, dict[tuple[str, bytes], tuple[float, ServiceAccount]]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, engine: Engine, key_id: str, digest: bytes, now: float) -> ServiceAccount | None:
        entries = self._by_engine.get(engine)
        hit = entries.get((key_id, digest)) if entries is not None else None
        if hit is None or hit[0] <= now:
            return None
        return hit[1]

    def put(
        self,
        engine: Engine,
        key_id: str,
        digest: bytes,
        account: ServiceAccount,
        generation: int,
        now: float,
    ) -> None:
        with self._lock:
            if generation != self.generation:
                return
            entries = self._by_engine.setdefault(engine, {})
            if len(entries) >= _CACHE_SIZE:
                entries.clear()
            entries[(key_id, digest)] = (now + CACHE_TTL, account)

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._by_engine.clear()


_cache = _Cache()
