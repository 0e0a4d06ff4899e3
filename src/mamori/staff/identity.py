"""Who a staff account is: login IDs and display names, kept out of the database in clear.

A staff member's login ID and name are personal data (of the staff member), so the database holds
them encrypted (AES-256-GCM under the ``staff-names`` system key, bound to the account's id and
the field), and finds an account by a keyed HMAC of its normalised login ID (``staff-login``
system key). The same HMAC, under another label, stands for a client address in the lockout
counters. Audit entries and logs name accounts by their id (``staff:st_...``) only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Final

from mamori.errors import InvalidValue
from mamori.vault import crypto
from mamori.vault.system_keys import SystemKeys

__all__ = ["LOGIN_PATTERN", "StaffKeys", "normal_login", "normal_name"]

LOGIN_PATTERN: Final = r"[a-z0-9][a-z0-9._@-]{1,99}"
"""A login ID after normalisation: 2-100 lower-case letters, digits and ``. _ @ -``."""
_LOGIN = re.compile(LOGIN_PATTERN)
_LOGIN_LABEL: Final = b"mamori:staff-login\x00"
_CLIENT_LABEL: Final = b"mamori:staff-client\x00"
_FINGERPRINT_LABEL: Final = b"mamori:staff-fingerprint\x00"
_FAMILIES: Final = ("Edg/", "Firefox/", "Chrome/", "Safari/", "curl/", "python-httpx/")
_NAME_MAX: Final = 100


def normal_login(text: str) -> str:
    """The login ID as compared: NFKC, trimmed, lower case. Raises :class:`InvalidValue`."""
    login = unicodedata.normalize("NFKC", text).strip().lower()
    if not _LOGIN.fullmatch(login):
        raise InvalidValue(
            "login ID: use 2 to 100 letters (a-z), digits and . _ @ -, starting with a letter "
            "or a digit"
        )
    return login


def normal_name(text: str) -> str:
    """A display name: NFC, trimmed, 1-100 characters, no control characters."""
    name = unicodedata.normalize("NFC", text).strip()
    if not name or len(name) > _NAME_MAX:
        raise InvalidValue(f"display name: give 1 to {_NAME_MAX} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidValue("display name: control characters are not allowed")
    return name


class StaffKeys:
    """The keyed hashes and the encryption of staff identities, from the system keys."""

    def __init__(self, system_keys: SystemKeys) -> None:
        self.system_keys = system_keys

    def warm(self) -> None:
        """Load (or create) both system keys now: creating one takes its own transaction, so
        it must not happen for the first time inside another write transaction."""
        self.system_keys.get("staff-login")
        self.system_keys.get("staff-names")

    def _mac(self, label: bytes, text: str) -> bytes:
        key = self.system_keys.get("staff-login")
        return hmac.new(key, label + text.encode("utf-8"), hashlib.sha256).digest()

    def login_hash(self, typed: str) -> bytes:
        """The HMAC of a login ID as typed (normalised leniently: never raises).

        Used for lookups and for counting failures, also of logins that name no account.
        """
        return self._mac(_LOGIN_LABEL, unicodedata.normalize("NFKC", typed).strip().lower())

    def client_hash(self, address: str) -> bytes:
        return self._mac(_CLIENT_LABEL, address)

    def client_fingerprint(self, address: str, agent: str) -> str:
        """A coarse, keyed fingerprint of a sign-in's client: the browser family of the user
        agent and the network of the address (IPv4 /24, IPv6 /48). Not personal data on its
        own; it tells a new client from a known one (the ``new_client`` anomaly rule)."""
        family = next((f for f in _FAMILIES if f in agent), "other")
        if ":" in address:
            network = ":".join(address.split(":")[:3])
        else:
            network = ".".join(address.split(".")[:3])
        return self._mac(_FINGERPRINT_LABEL, f"{family}\x00{network}").hex()[:16]

    def seal(self, staff_id: str, field: str, text: str) -> bytes:
        key = self.system_keys.get("staff-names")
        return crypto.encrypt(
            key, text.encode("utf-8"), subject_id=f"staff:{staff_id}", item_id=field
        )

    def open(self, staff_id: str, field: str, sealed: bytes) -> str:
        key = self.system_keys.get("staff-names")
        plain = crypto.decrypt(key, sealed, subject_id=f"staff:{staff_id}", item_id=field)
        return plain.decode("utf-8")
