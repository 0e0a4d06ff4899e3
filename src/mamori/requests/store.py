"""Requests as the workflow handles them: sealed details, loading, and the audit of every change.

Functions here take a connection in the caller's transaction (:func:`mamori.store.db.write`),
so a change and its audit entry commit together; the queries are in
:mod:`mamori.requests.storage` (:func:`open_requests`, :func:`of_subject` and :func:`update` are
its own, named here for the interfaces that call them). Personal details are sealed
(AES-256-GCM) under the ``requests`` system key, bound to the request id; the agent's proof
likewise. The audit log gets IDs and codes only: ``request:<id>``, ``subject:<id>``, types and
outcomes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import replace
from typing import Final, cast

import orjson

from mamori.audit.log import AuditLog
from mamori.errors import RequestNotFound
from mamori.requests import storage
from mamori.requests.model import Request
from mamori.requests.storage import of_subject, open_requests, update
from mamori.store.db import Connection
from mamori.vault import crypto
from mamori.vault.core import Erasure
from mamori.vault.system_keys import SystemKeys

__all__ = [
    "ERASURES",
    "KEY_NAME",
    "SealKeys",
    "audit",
    "load",
    "load_proof",
    "of_subject",
    "open_requests",
    "update",
]

KEY_NAME: Final = "requests"
"""The system key that seals details, proofs, and keys the hashes of codes and addresses."""


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
        if sealed == storage.REDACTED:  # the person withdrew: nothing personal is left
            return {}
        value = orjson.loads(self.unseal(request_id, "details", sealed))
        return cast(dict[str, object], value)

    def mac(self, label: str, text: str) -> bytes:
        """A keyed hash of ``text`` (a code, an address, a client) under ``label``."""
        return hmac.new(self.key, f"mamori:{label}\x00{text}".encode(), hashlib.sha256).digest()


ERASURES: Final = (Erasure("requests", storage.redact_of_subject),)
"""What withdrawal takes of the person's requests (listed in the built-in parts)."""


def load(conn: Connection, request_id: str, keys: SealKeys | None = None) -> Request:
    """The request ``request_id``; its details unsealed when ``keys`` are given."""
    found = storage.find(conn, request_id)
    if found is None:
        raise RequestNotFound(f"no request '{request_id}'")
    if keys is None:
        return found.request
    request = found.request
    return replace(request, details=keys.unseal_details(request.id, found.sealed))


def load_proof(conn: Connection, request_id: str, keys: SealKeys) -> tuple[bytes, str] | None:
    found = storage.find_proof(conn, request_id)
    if found is None:
        raise RequestNotFound(f"no request '{request_id}'")
    if found.proof is None:
        return None
    return (
        keys.unseal(request_id, "proof", found.proof),
        found.proof_type or "application/octet-stream",
    )


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
