"""Published versions of the policy declaration (``policy_versions``, through
:mod:`~mamori.publication.storage`).

Publishing stores a new version only when the content differs from the current version, and
records ``policy.publish`` in the audit log in the same transaction: a version is never
published without its audit entry, nor the other way round. A policy may be reverted to an
earlier content; that is a new version with an old content hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mamori.audit.log import AuditLog
from mamori.clock import SYSTEM, Clock
from mamori.errors import NotFound
from mamori.policy.loader import LoadedPolicy
from mamori.publication import storage
from mamori.publication.storage import PolicyVersion
from mamori.store import db
from mamori.store.db import Connection, Engine

__all__ = [
    "OnPublish",
    "PolicyVersion",
    "PublishResult",
    "current",
    "get",
    "publish",
    "versions",
]


@dataclass(frozen=True, slots=True)
class PublishResult:
    version: int
    """The version now current."""
    created: bool
    """``False`` when the content was already the current version's (nothing was written)."""
    details: Mapping[str, str | int | bool | None] | None = field(default=None, compare=False)
    """What ``on_publish`` returned (also recorded in the audit entry)."""


OnPublish = Callable[
    [Connection, int, "PolicyVersion | None", dt.datetime],
    Mapping[str, str | int | bool | None],
]
"""Called inside the publishing transaction with the new version number, the version it
replaces (None for the first) and the publication time; returns details for the audit entry.
:mod:`mamori.changes` records what the change requires this way."""


def publish(
    engine: Engine,
    *,
    policy_id: str,
    source_yaml: str,
    canonical_json: str,
    content_hash: str,
    effective_date: dt.date,
    actor: str,
    on_publish: OnPublish | None = None,
    audit: AuditLog | None = None,
    clock: Clock = SYSTEM,
) -> PublishResult:
    """Publish the policy as a new version unless its content is already the current one.

    ``content_hash`` must be the SHA-256 (hex) of ``canonical_json`` encoded as UTF-8.
    ``actor`` is an audit actor ID such as ``cli:root`` (see :mod:`mamori.audit.entry`).
    """
    if hashlib.sha256(canonical_json.encode()).hexdigest() != content_hash:
        raise ValueError("content_hash is not the SHA-256 (hex) of canonical_json")
    with db.write(engine) as conn:
        db.lock(conn, "policy")
        latest = storage.latest_version(conn)
        if latest is not None and latest.content_hash == content_hash:
            return PublishResult(latest.version, created=False)
        version = latest.version + 1 if latest is not None else 1
        published_at = clock.now()
        storage.insert_version(
            conn,
            version=version,
            policy_id=policy_id,
            content_hash=content_hash,
            effective_date=effective_date,
            published_at=published_at,
            source_yaml=source_yaml,
            canonical_json=canonical_json,
        )
        extra: Mapping[str, str | int | bool | None] = {}
        if on_publish is not None:
            extra = on_publish(conn, version, latest, published_at)
        (audit or AuditLog(engine)).append(
            conn,
            actor=actor,
            action="policy.publish",
            targets=[f"policy:{policy_id}", f"policy_version:{version}"],
            details={
                "content_hash": content_hash,
                "effective_date": effective_date.isoformat(),
                **extra,
            },
        )
    return PublishResult(version, created=True, details=extra)


def current(engine: Engine) -> PolicyVersion | None:
    """The current (latest) version, or ``None`` before the first publication."""
    with db.read(engine) as conn:
        return storage.latest_version(conn)


_MAX_VERSION = 2**31 - 1
"""Versions are a 32-bit ``INTEGER`` column on PostgreSQL."""


def get(engine: Engine, version: int) -> PolicyVersion:
    """Version ``version``; :class:`~mamori.errors.NotFound` if it was never published."""
    if not 1 <= version <= _MAX_VERSION:  # beyond the column's range: never published either
        raise NotFound(f"policy version {version} does not exist")
    with db.read(engine) as conn:
        found = storage.find_version(conn, version)
    if found is None:
        raise NotFound(f"policy version {version} does not exist")
    return found


def versions(engine: Engine) -> list[PolicyVersion]:
    """Every published version, oldest first."""
    with db.read(engine) as conn:
        return storage.all_versions(conn)


def publish_loaded(
    engine: Engine,
    loaded: LoadedPolicy,
    *,
    actor: str,
    on_publish: OnPublish | None = None,
    audit: AuditLog | None = None,
    clock: Clock = SYSTEM,
) -> PublishResult:
    """Publish a policy read by :func:`mamori.policy.loader.read_policy`."""
    return publish(
        engine,
        policy_id=loaded.policy.id,
        source_yaml=loaded.source,
        canonical_json=loaded.canonical_json,
        content_hash=loaded.content_hash,
        effective_date=loaded.policy.effective_date,
        actor=actor,
        on_publish=on_publish,
        audit=audit,
        clock=clock,
    )
