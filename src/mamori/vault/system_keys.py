"""System keys: random keys of the installation, stored wrapped by the master key.

A system key (``blind-index``, ``external-ref``, ``center-link``, ...) is 32 random bytes made on
first use and kept in ``system_keys`` wrapped like a data key (context ``system:<name>``, see
:mod:`mamori.vault.crypto`). Random keys rather than keys derived from the master key: master-key
rotation rewraps them and changes nothing they protect (blind indexes, external references and
signed links all stay valid).

Two processes creating the same key at once both insert; the loser's insert violates the primary
key, and it reads and uses the winner's key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import unicodedata
from typing import Final

from mamori.clock import SYSTEM, Clock
from mamori.errors import InvalidValue
from mamori.store import db
from mamori.store.db import Connection, Engine
from mamori.vault import crypto
from mamori.vault.storage import keys as storage

__all__ = ["NAME_PATTERN", "SystemKeys"]

NAME_PATTERN: Final = r"[a-z][a-z0-9-]{0,62}"
_NAME = re.compile(NAME_PATTERN)
_EXTERNAL_REF_LABEL: Final = b"mamori:external-ref\x00"


def _context(name: str) -> str:
    return f"system:{name}"


class SystemKeys:
    """The system keys in ``engine``'s database, unwrapped once and kept in memory."""

    def __init__(
        self, engine: Engine, keys: crypto.MasterKeySource, *, clock: Clock = SYSTEM
    ) -> None:
        self.clock = clock
        self.engine = engine
        self.keys = keys
        self._cache: dict[str, bytes] = {}
        self._macs: dict[str, hmac.HMAC] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> bytes:
        """The 32-byte key ``name``, created (and stored wrapped) on first use."""
        key = self._cache.get(name)
        if key is not None:
            return key
        if not _NAME.fullmatch(name):
            raise ValueError(f"a system key name matches {NAME_PATTERN}, not {name!r}")
        with self._lock:
            key = self._cache.get(name)
            if key is None:
                key = self._load_or_create(name)
                self._cache[name] = key
        return key

    def _load_or_create(self, name: str) -> bytes:
        with db.read(self.engine) as conn:
            wrapped = storage.system_key(conn, name)
        if wrapped is not None:
            return crypto.unwrap_key(self.keys, wrapped, context=_context(name))
        key = crypto.new_data_key()
        wrapped = crypto.wrap_key(self.keys, key, context=_context(name))
        with db.write(self.engine) as conn:
            added = storage.insert_system_key(
                conn,
                name=name,
                wrapped=wrapped,
                master_version=crypto.wrapped_version(wrapped),
                now=self.clock.now(),
            )
            if not added:  # another process made it first: use theirs
                theirs = storage.system_key(conn, name)
                assert theirs is not None
                return crypto.unwrap_key(self.keys, theirs, context=_context(name))
        return key

    def external_ref(self, subject_type: str, external_id: str) -> bytes:
        """A 32-byte keyed HMAC of the host service's own ID of a person, to find them by it.

        Both inputs are NFKC-normalised and trimmed; the ID itself is never stored.
        """
        text = unicodedata.normalize("NFKC", external_id).strip()
        if not text:
            raise InvalidValue("external_id: the host service's ID is empty")
        kind = unicodedata.normalize("NFKC", subject_type).strip().encode()
        mac = self._macs.get("external-ref")
        if mac is None:
            mac = hmac.new(self.get("external-ref"), _EXTERNAL_REF_LABEL, hashlib.sha256)
            self._macs["external-ref"] = mac
        mac = mac.copy()
        mac.update(len(kind).to_bytes(2, "big") + kind + text.encode())
        return mac.digest()

    def destroy(self, conn: Connection, name: str) -> bool:
        """Delete the key ``name`` inside ``conn``'s transaction and forget it here: nothing can
        unwrap it again (a keyed pseudonym's key, destroyed). Whether it existed."""
        with self._lock:
            self._cache.pop(name, None)
            self._macs.pop(name, None)
        return storage.delete_system_key(conn, name)

    def rewrap_all(self, conn: Connection) -> list[str]:
        """Rewrap, inside ``conn``'s transaction, every system key not under the current master
        version; returns their names. A key changed by someone else meanwhile is left alone."""
        current = self.keys.current_version
        done: list[str] = []
        for name, wrapped in storage.system_keys_to_rewrap(conn, current):
            new = crypto.rewrap_key(self.keys, wrapped, context=_context(name))
            if storage.rewrap_system_key(conn, name, wrapped, new, crypto.wrapped_version(new)):
                done.append(name)
        return done
