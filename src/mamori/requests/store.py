"""Requests in the database: rows in and out, sealed details, and the audit of every change.

Functions here take a connection in the caller's transaction (:func:`mamori.store.db.write`),
so a change and its audit entry commit together. Personal details are sealed (AES-256-GCM)
under the ``requests`` system key, bound to the request id; the agent's proof likewise. The
audit log gets IDs and codes only: ``request:<id>``, ``subject:<id>``, types and outcomes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Final, cast

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.audit.log import AuditLog
from mamori.errors import RequestNotFound
from mamori.requests.model import (
    Agent,
    Delivery,
    Ground,
    Outcome,
    Request,
    RequestType,
    Status,
    Verification,
)
from mamori.store import tables
from mamori.vault import crypto
from mamori.vault.system_keys import SystemKeys

__all__ = [
    "KEY_NAME",
    "SealKeys",
    "audit",
    "load",
    "load_proof",
    "open_requests",
    "requests_t",
    "update",
]

KEY_NAME: Final = "requests"
"""The system key that seals details, proofs, and keys the hashes of codes and addresses."""

requests_t = tables.data_requests


class SealKeys:
    """The ``requests`` system key, fetched before a write transaction begins (creating it on
    first use takes a write transaction of its own)."""

    def __init__(self, system_keys: SystemKeys) -> None:
        self.key = system_keys.get(KEY_NAME)

    def seal(self, request_id: str, part: str, plaintext: bytes) -> bytes:
        return crypto.encrypt(self.key, plaintext, subject_id=f"request:{request_id}", item_id=part)

    def unseal(self, request_id: str, part: str, sealed: bytes) -> bytes:
        return crypto.decrypt(self.key, sealed, subject_id=f"request:{request_id}", item_id=part)

    def seal_details(self, request_id: str, details: Mapping[str, object]) -> bytes:
        return self.seal(request_id, "details", orjson.dumps(dict(details)))

    def unseal_details(self, request_id: str, sealed: bytes) -> dict[str, object]:
        value = orjson.loads(self.unseal(request_id, "details", sealed))
        return cast(dict[str, object], value)

    def mac(self, label: str, text: str) -> bytes:
        """A keyed hash of ``text`` (a code, an address, a client) under ``label``."""
        return hmac.new(self.key, f"mamori:{label}\x00{text}".encode(), hashlib.sha256).digest()


def _request(row: Any, details: dict[str, object]) -> Request:
    return Request(
        id=row.id,
        type=RequestType(row.type),
        status=Status(row.status),
        language=row.language,
        created_at=row.created_at,
        due_at=row.due_at,
        subject_id=row.subject_id,
        outcome=Outcome(row.outcome) if row.outcome else None,
        verified_by=Verification(row.verified_by) if row.verified_by else None,
        agent=Agent(row.agent) if row.agent else None,
        delivery=Delivery(row.delivery) if row.delivery else None,
        ground=Ground(row.ground) if row.ground else None,
        items=tuple(orjson.loads(row.item_ids)),
        fee=row.fee,
        substitute=bool(row.substitute),
        has_proof=row.has_proof,
        handler=row.handler,
        decided_at=row.decided_at,
        notified_at=row.notified_at,
        closed_at=row.closed_at,
        reminded_at=row.reminded_at,
        download_until=row.download_until,
        downloads_left=row.downloads_left,
        details=details,
    )


_COLUMNS = [c for c in requests_t.c if c.name not in ("sealed", "proof", "session_hash")]


def _select() -> sa.Select[Any]:
    return sa.select(
        *_COLUMNS,
        requests_t.c.sealed,
        requests_t.c.proof.is_not(None).label("has_proof"),
    )


def load(conn: Connection, request_id: str, keys: SealKeys | None = None) -> Request:
    """The request ``request_id``; its details unsealed when ``keys`` are given."""
    row = conn.execute(_select().where(requests_t.c.id == request_id)).one_or_none()
    if row is None:
        raise RequestNotFound(f"no request '{request_id}'")
    details = keys.unseal_details(row.id, row.sealed) if keys is not None else {}
    return _request(row, details)


def load_proof(conn: Connection, request_id: str, keys: SealKeys) -> tuple[bytes, str] | None:
    row = conn.execute(
        sa.select(requests_t.c.proof, requests_t.c.proof_type).where(requests_t.c.id == request_id)
    ).one_or_none()
    if row is None:
        raise RequestNotFound(f"no request '{request_id}'")
    if row.proof is None:
        return None
    return keys.unseal(request_id, "proof", row.proof), row.proof_type or "application/octet-stream"


def open_requests(
    conn: Connection, *, include_closed: bool = False, limit: int = 500
) -> list[Request]:
    """Requests by due date, earliest first (open ones only unless ``include_closed``)."""
    query = _select().order_by(requests_t.c.due_at, requests_t.c.id).limit(limit)
    if not include_closed:
        query = query.where(requests_t.c.status != Status.closed.value)
    return [_request(row, {}) for row in conn.execute(query)]


def of_subject(conn: Connection, subject_id: str, *, limit: int = 100) -> list[Request]:
    """The requests about ``subject_id``, newest first (without details)."""
    query = (
        _select()
        .where(requests_t.c.subject_id == subject_id)
        .order_by(requests_t.c.created_at.desc(), requests_t.c.id)
        .limit(limit)
    )
    return [_request(row, {}) for row in conn.execute(query)]


def update(conn: Connection, request_id: str, *, now: dt.datetime, **values: object) -> None:
    """Set ``values`` on the request; ``updated_at`` is ``now`` unless given."""
    values.setdefault("updated_at", now)
    conn.execute(requests_t.update().where(requests_t.c.id == request_id).values(**values))


def audit(
    log: AuditLog,
    conn: Connection,
    request: Request,
    action: str,
    *,
    actor: str,
    subject_id: str | None = None,
    extra: Mapping[str, str | int | bool | None] | None = None,
    **details: str | int | bool | None,
) -> None:
    """An audit entry ``request.<action>`` naming the request (and its subject, if any)."""
    subject = subject_id if subject_id is not None else request.subject_id
    targets = [f"request:{request.id}"]
    if subject:
        targets.append(f"subject:{subject}")
    log.append(
        conn,
        actor=actor,
        action=f"request.{action}",
        targets=targets,
        details={"type": request.type.value, **details, **(extra or {})},
    )
