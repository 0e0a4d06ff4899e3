"""The keys of pseudonymised exports: one per purpose at a time, sealed, replaceable, destroyable.

A pseudonym is ``HMAC-SHA-256(key, label || 0x00 || value)``, the first 16 bytes in hex: the same
person (or value) has the same pseudonym in every export made with one key, and nothing links
it back without the key. The key is 32 random bytes wrapped by the master key (context
``pseudonym:<purpose>:<generation>``) in ``pseudonym_keys``; it is made on the first export.
:func:`replace` destroys it and makes the next generation (pseudonyms change, earlier exports
link to nothing new); :func:`destroy` only destroys it (the wrapped key is overwritten with
NULL, so no copy of the database can give it back). Both are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from mamori.statistics import storage
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault import crypto
from mamori.vault.core import Vault

__all__ = ["current", "destroy", "pseudonym", "replace"]


def _context(purpose: str, generation: int) -> str:
    return f"pseudonym:{purpose}:{generation}"


def _new(vault: Vault, conn: Connection, purpose: str, actor: str) -> tuple[int, bytes]:
    generation = storage.last_generation(conn, purpose) + 1
    key = os.urandom(32)
    wrapped = crypto.wrap_key(vault.keys, key, context=_context(purpose, generation))
    storage.insert_key(conn, purpose, generation, wrapped, actor, vault.clock.now())
    return generation, key


def current(vault: Vault, conn: Connection, purpose: str, actor: str) -> tuple[int, bytes]:
    """(generation, key) of the purpose's live key, made now if there is none (on ``conn``'s
    write transaction)."""
    found = storage.current_key(conn, purpose)
    if found is None or found.wrapped_key is None:
        return _new(vault, conn, purpose, actor)
    key = crypto.unwrap_key(
        vault.keys, found.wrapped_key, context=_context(purpose, found.generation)
    )
    return found.generation, key


def replace(vault: Vault, purpose: str, actor: str) -> int:
    """Destroy the purpose's key and make the next generation; the new generation."""
    vault.rules().purpose(purpose)
    with db.write(vault.engine) as conn:
        destroyed = storage.destroy_keys(conn, purpose, actor, vault.clock.now())
        generation, _key = _new(vault, conn, purpose, actor)
        vault.audit.append(
            conn,
            actor=actor,
            action="statistics.pseudonym_key_replace",
            targets=[f"purpose:{purpose}"],
            details={"generation": generation, "destroyed": destroyed},
        )
    return generation


def destroy(vault: Vault, purpose: str, actor: str) -> int:
    """Destroy the purpose's key (the next export makes a new one); how many were live."""
    vault.rules().purpose(purpose)
    with db.write(vault.engine) as conn:
        destroyed = storage.destroy_keys(conn, purpose, actor, vault.clock.now())
        vault.audit.append(
            conn,
            actor=actor,
            action="statistics.pseudonym_key_destroy",
            targets=[f"purpose:{purpose}"],
            details={"destroyed": destroyed},
        )
    return destroyed


def pseudonym(key: bytes, label: str, value: str) -> str:
    """The keyed pseudonym of ``value`` under ``label`` (``subject``, or an item's id)."""
    mac = hmac.new(key, label.encode() + b"\x00" + value.encode(), hashlib.sha256)
    return mac.digest()[:16].hex()
