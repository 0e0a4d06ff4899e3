"""The keys of pseudonymised exports: one per purpose at a time, sealed, replaceable, destroyable.

A pseudonym is ``HMAC-SHA-256(key, label || 0x00 || value)``, the first 16 bytes in hex: the same
person (or value) has the same pseudonym in every export made with one key, and nothing links
it back without the key. Each generation's key is a system key of the vault
(``pseudonym-<hash of the purpose>-<generation>``: 32 random bytes wrapped by the master key,
so master-key rotation rewraps it and a version still wrapping it cannot be retired);
``pseudonym_keys`` records which generation is live, who made it and who destroyed it. It is
made on the first export. :func:`replace` destroys the live key and makes the next generation
(every pseudonym changes); :func:`destroy` only destroys it: the wrapped key is deleted, so no
copy of the database made afterwards can give it back. Both are audited.
"""

from __future__ import annotations

import hashlib
import hmac

from mamori.statistics import storage
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.core import Vault

__all__ = ["current", "destroy", "key_name", "pseudonym", "replace"]


def key_name(purpose: str, generation: int) -> str:
    """The system key of a generation (a name of at most 63 characters, whatever the purpose)."""
    return f"pseudonym-{hashlib.sha256(purpose.encode()).hexdigest()[:24]}-{generation}"


def _next(vault: Vault, conn: Connection, purpose: str, actor: str) -> int:
    db.lock_keys(conn, "pseudonym", [purpose.encode()])
    generation = storage.last_generation(conn, purpose) + 1
    storage.insert_key(conn, purpose, generation, actor, vault.clock.now())
    return generation


def _destroy_live(vault: Vault, conn: Connection, purpose: str, actor: str) -> int:
    live = storage.live_generations(conn, purpose)
    for generation in live:
        vault.system_keys.destroy(conn, key_name(purpose, generation))
    storage.mark_destroyed(conn, purpose, actor, vault.clock.now())
    return len(live)


def current(vault: Vault, purpose: str, actor: str) -> tuple[int, bytes]:
    """(generation, key) of the purpose's live key, made now if there is none."""
    with db.read(vault.engine) as conn:
        generation = storage.current_generation(conn, purpose)
    if generation is None:
        with db.write(vault.engine) as conn:
            generation = storage.current_generation(conn, purpose)
            if generation is None:
                generation = _next(vault, conn, purpose, actor)
    # Made (or loaded) outside the transaction above: the vault writes a new key in its own.
    return generation, vault.system_keys.get(key_name(purpose, generation))


def replace(vault: Vault, purpose: str, actor: str) -> int:
    """Destroy the purpose's key and make the next generation; the new generation."""
    vault.rules().purpose(purpose)
    with db.write(vault.engine) as conn:
        destroyed = _destroy_live(vault, conn, purpose, actor)
        generation = _next(vault, conn, purpose, actor)
        vault.audit.append(
            conn,
            actor=actor,
            action="statistics.pseudonym_key_replace",
            targets=[f"purpose:{purpose}"],
            details={"generation": generation, "destroyed": destroyed},
        )
    vault.system_keys.get(key_name(purpose, generation))
    return generation


def destroy(vault: Vault, purpose: str, actor: str) -> int:
    """Destroy the purpose's key (the next export makes a new one); how many were live."""
    vault.rules().purpose(purpose)
    with db.write(vault.engine) as conn:
        destroyed = _destroy_live(vault, conn, purpose, actor)
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
