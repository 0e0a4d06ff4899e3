"""Mail opt-outs (seed §10(3)): signed unsubscribe tokens, and the list of opted-out addresses.

Every marketing mail carries a link ``/mail/unsubscribe/<token>`` (RFC 8058). The token is
``<payload>.<mac>`` in base64url: the payload is a format byte, the address's keyed hash
(:func:`mamori.vault.addresses.address_hash`) and the ID of the person the mail was sent to, if
any; the MAC is HMAC-SHA256 of the payload under the ``mail-unsubscribe`` system key. The token
alone authorises the opt-out, as RFC 8058 wants (no cookie, no CSRF token): whoever holds the
mail may stop it. Tokens never expire, so a link in an old mail keeps working.

Opted-out addresses are stored as their keyed hash only, with the person's ID when known:
``Mailer.queue(..., marketing=True)`` skips them, and the vault's bulk reads for a purpose the
policy marks ``marketing`` leave them out. Audited: ``mail.optout`` and ``mail.optin``, with
the person's ID when known (an opt-out of an unknown person names nobody).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final, Literal

from mamori.audit.log import AuditLog
from mamori.errors import UnsubscribeLinkInvalid
from mamori.mail import storage
from mamori.store.db import Connection
from mamori.vault.system_keys import SystemKeys

__all__ = [
    "KEY_NAME",
    "Optout",
    "Source",
    "is_opted_out",
    "make_token",
    "opt_in",
    "opt_out",
    "opted_out_among",
    "read_token",
]

KEY_NAME: Final = "mail-unsubscribe"
_LABEL: Final = b"mamori:mail-unsubscribe\x00"
_FORMAT: Final = 1
_TOKEN = re.compile(r"([A-Za-z0-9_-]{44,120})\.([A-Za-z0-9_-]{43})")
_SUBJECT_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")

Source = Literal["one-click", "page", "staff"]


@dataclass(frozen=True)
class Optout:
    """Whom a valid token names: an address (by its hash) and, maybe, a person."""

    address_hash: bytes
    subject_id: str | None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(keys: SystemKeys, payload: bytes) -> bytes:
    return hmac.new(keys.get(KEY_NAME), _LABEL + payload, hashlib.sha256).digest()


def make_token(keys: SystemKeys, address_hash: bytes, subject_id: str | None) -> str:
    """The token of the unsubscribe link for this address (and person)."""
    if len(address_hash) != 32:
        raise ValueError("an address hash has 32 bytes")
    payload = bytes((_FORMAT,)) + address_hash + (subject_id or "").encode("ascii")
    return f"{_b64(payload)}.{_b64(_mac(keys, payload))}"


def read_token(keys: SystemKeys, token: str) -> Optout:
    """What ``token`` names; :class:`UnsubscribeLinkInvalid` if it is malformed or forged."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise UnsubscribeLinkInvalid("the unsubscribe link is malformed")
    try:
        payload, mac = _unb64(match[1]), _unb64(match[2])
    except (binascii.Error, ValueError):
        raise UnsubscribeLinkInvalid("the unsubscribe link is malformed") from None
    if not hmac.compare_digest(mac, _mac(keys, payload)):
        raise UnsubscribeLinkInvalid("the unsubscribe link's signature does not verify")
    if len(payload) < 33 or payload[0] != _FORMAT:
        raise UnsubscribeLinkInvalid("the unsubscribe link is of an unknown format")
    subject = payload[33:].decode("ascii")
    if subject and not _SUBJECT_ID.fullmatch(subject):
        raise UnsubscribeLinkInvalid("the unsubscribe link is of an unknown format")
    return Optout(payload[1:33], subject or None)


def is_opted_out(conn: Connection, address_hash: bytes) -> bool:
    return storage.address_opted_out(conn, address_hash)


def opted_out_among(conn: Connection, hashes: set[bytes]) -> set[bytes]:
    """Those of ``hashes`` that opted out (one query)."""
    if not hashes:
        return set()
    return storage.opted_out_among(conn, hashes)


def _targets(optout: Optout) -> list[str]:
    return [f"subject:{optout.subject_id}"] if optout.subject_id else []


def opt_out(
    conn: Connection,
    audit: AuditLog,
    optout: Optout,
    *,
    source: Source,
    actor: str,
    now: dt.datetime,
) -> bool:
    """Record the opt-out in ``conn``'s transaction; False if it was recorded already."""
    added = storage.insert_optout(
        conn,
        address_hash=optout.address_hash,
        subject_id=optout.subject_id,
        source=source,
        now=now,
    )
    exists = not added  # two clicks at once: one inserts, the other finds it there
    audit.append(
        conn,
        actor=actor,
        action="mail.optout",
        targets=_targets(optout),
        details={"source": source, "already": exists},
    )
    return not exists


def opt_in(conn: Connection, audit: AuditLog, optout: Optout, *, actor: str) -> bool:
    """Remove the opt-out (the person asked for mail again); False if there was none."""
    removed = storage.delete_optout(conn, optout.address_hash)
    audit.append(
        conn,
        actor=actor,
        action="mail.optin",
        targets=_targets(optout),
        details={"removed": bool(removed)},
    )
    return bool(removed)
