"""Ways into the privacy center: single-use signed links, and the sessions they open.

**Links.** The host service asks for a link for one person (``POST /api/v1/subjects/{id}/
center-link``). Its token is ``<nonce>.<mac>``, both base64url without padding: 32 random bytes,
and HMAC-SHA256 of them under the ``center-link`` system key. Only SHA-256 of the nonce is
stored (``center_links``), with the subject and the expiry. The MAC refuses a forged or
mistyped token before the database is touched; the stored hash makes the link single-use: it is
marked used by the same transaction that opens the session, with ``WHERE used_at IS NULL``, so
two requests racing with one link open at most one session.

**Sessions.** Following a link sets the ``mamori_center`` cookie to 32 random bytes; only their
SHA-256 is stored (``center_sessions``), with a random CSRF token for the forms and an expiry
that slides forward on every use. An expired session is deleted when it is presented. A
withdrawal deletes every link and session of the person (:data:`ERASURES`, steps of
:meth:`mamori.vault.core.Vault.withdraw`).

Audited: ``center.link`` (issued), ``center.enter`` (opened, or refused for a known link that
was used or expired), ``center.leave`` (signed out). IDs only.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Final

from mamori.center import storage
from mamori.errors import (
    CenterActionNotAllowed,
    CenterLinkExpired,
    CenterLinkInvalid,
    CenterSessionRequired,
    CsrfRejected,
    SubjectWithdrawn,
)
from mamori.store import db
from mamori.vault.access import Caller
from mamori.vault.core import Erasure, Vault

__all__ = [
    "COOKIE",
    "ERASURES",
    "KEY_NAME",
    "Entered",
    "Link",
    "Session",
    "check_csrf",
    "current_session",
    "end_session",
    "enter",
    "issue_link",
]

COOKIE: Final = "mamori_center"
"""The session cookie (HttpOnly, SameSite=Lax, Path=/center, Secure over https)."""
KEY_NAME: Final = "center-link"
"""The system key that signs links."""

_MAC_LABEL: Final = b"mamori:center-link\x00"
_B64 = r"[A-Za-z0-9_-]{43}"  # 32 bytes, base64url without padding
_LINK_TOKEN = re.compile(rf"({_B64})\.({_B64})")
_SESSION_TOKEN = re.compile(_B64)


@dataclass(frozen=True)
class Link:
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Session:
    """A signed-in person. ``csrf_token`` goes into every form; the cookie is not kept here.

    ``operations`` are those of the service key that asked for the link the session came from:
    the session allows the person, for their own data, what that key could do itself
    (:meth:`allows`).
    """

    subject_id: str
    csrf_token: str = field(repr=False)
    expires_at: dt.datetime
    token_hash: bytes = field(repr=False)
    operations: frozenset[str] = frozenset({"write"})

    def allows(self, operation: str) -> bool:
        """Whether the issuing key could ``read``, ``write`` or ``delete``."""
        return operation in self.operations

    def require(self, operation: str) -> None:
        """Raise :class:`CenterActionNotAllowed` unless the session allows ``operation``."""
        if not self.allows(operation):
            raise CenterActionNotAllowed(
                f"this privacy-center session may not {operation}: the service's link does "
                "not allow it"
            )


@dataclass(frozen=True)
class Entered:
    cookie: str = field(repr=False)
    """The new session token, for the cookie (never stored)."""
    session: Session


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=")


def _sha256(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()


def _mac(key: bytes, nonce: bytes) -> bytes:
    return hmac.new(key, _MAC_LABEL + nonce, hashlib.sha256).digest()


def _verified_nonce(key: bytes, token: str | None) -> bytes:
    match = _LINK_TOKEN.fullmatch(token or "")
    if match is None:
        raise CenterLinkInvalid("the privacy-center link is malformed")
    nonce, mac = _unb64(match[1]), _unb64(match[2])
    if not hmac.compare_digest(mac, _mac(key, nonce)):
        raise CenterLinkInvalid("the privacy-center link's signature does not verify")
    return nonce


def issue_link(vault: Vault, caller: Caller, subject_id: str, *, minutes: int) -> Link:
    """A new single-use link for ``subject_id``, valid for ``minutes``. Audited."""
    caller.require("write")
    # Fetched before the write transaction: creating the key on first use takes its own.
    key = vault.system_keys.get(KEY_NAME)
    nonce = secrets.token_bytes(32)
    now = vault.clock.now()
    expires = now + dt.timedelta(minutes=minutes)
    with db.write(vault.engine) as conn:
        if vault.load(conn, subject_id).status == "withdrawn":
            raise SubjectWithdrawn(
                f"subject '{subject_id}' has withdrawn: there is no privacy center to open"
            )
        storage.prune_links(conn, now)
        operations = _pack(caller.operations)
        storage.insert_link(
            conn,
            nonce_hash=_sha256(nonce),
            subject_id=subject_id,
            expires_at=expires,
            operations=operations,
        )
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="center.link",
            targets=[f"subject:{subject_id}"],
            details={"minutes": minutes, "operations": operations},
        )
    return Link(f"{_b64(nonce)}.{_b64(_mac(key, nonce))}", expires)


def enter(
    vault: Vault, token: str | None, *, minutes: int, replacing: str | None = None
) -> Entered:
    """Spend a link and open a session of ``minutes``; end the session ``replacing``, if any.

    Raises :class:`CenterLinkInvalid` for a malformed, forged or unknown token,
    :class:`CenterLinkExpired` for a used or expired one, :class:`SubjectWithdrawn` when the
    person has withdrawn. Refusals of a known link are audited (with the reason), others not:
    an unknown token names nobody.
    """
    nonce_hash = _sha256(_verified_nonce(vault.system_keys.get(KEY_NAME), token))
    now = vault.clock.now()
    refused: str | None = None
    cookie = _b64(secrets.token_bytes(32))
    with db.write(vault.engine) as conn:
        link = storage.find_link(conn, nonce_hash)
        if link is None:  # never issued, purged after expiry, or deleted by a withdrawal
            raise CenterLinkInvalid("the privacy-center link is unknown")
        subject_id: str = link.subject_id
        if link.used_at is not None:
            refused = "used"
        elif link.expires_at <= now:
            refused = "expired"
        elif not storage.claim_link(conn, nonce_hash, now):  # another request spent it first
            refused = "used"
        status = vault.load(conn, subject_id).status
        if refused is None and status != "active":
            refused = "withdrawn"
        target = [f"subject:{subject_id}"]
        if refused is not None:
            vault.audit.append(
                conn,
                actor="system:center",
                action="center.enter",
                targets=target,
                details={"result": "refused", "reason": refused},
            )
        else:
            session = Session(
                subject_id=subject_id,
                csrf_token=secrets.token_urlsafe(32),
                expires_at=now + dt.timedelta(minutes=minutes),
                token_hash=_sha256(cookie.encode("ascii")),
                operations=_unpack(link.operations),
            )
            storage.open_session(
                conn,
                token_hash=session.token_hash,
                subject_id=subject_id,
                csrf_token=session.csrf_token,
                now=now,
                expires_at=session.expires_at,
                replacing=_sha256(replacing.encode()) if replacing is not None else None,
                operations=link.operations,
            )
            vault.audit.append(
                conn,
                actor=Caller.person(subject_id).actor_id,
                action="center.enter",
                targets=target,
                details={"result": "ok"},
            )
    if refused == "withdrawn":
        raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
    if refused is not None:
        raise CenterLinkExpired(f"the privacy-center link was refused: {refused}")
    return Entered(cookie, session)


def current_session(vault: Vault, cookie: str | None, *, minutes: int) -> Session:
    """The session ``cookie`` names, its expiry moved to ``minutes`` from now.

    Raises :class:`CenterSessionRequired` when there is no cookie, or it names no session, or the
    session has expired (which is then deleted).
    """
    if cookie is None or not _SESSION_TOKEN.fullmatch(cookie):
        raise CenterSessionRequired()
    token_hash = _sha256(cookie.encode("ascii"))
    now = vault.clock.now()
    with db.write(vault.engine) as conn:
        row = storage.find_session(conn, token_hash)
        if row is not None and row.expires_at > now:
            expires = now + dt.timedelta(minutes=minutes)
            storage.slide_session(conn, token_hash, expires)
            return Session(
                row.subject_id, row.csrf_token, expires, token_hash, _unpack(row.operations)
            )
        if row is not None:
            storage.delete_session(conn, token_hash)
    raise CenterSessionRequired(
        "the privacy-center session has expired" if row is not None else None
    )


def end_session(vault: Vault, session: Session) -> None:
    """Sign the person out: the session is deleted (audited as ``center.leave``)."""
    with db.write(vault.engine) as conn:
        storage.delete_session(conn, session.token_hash)
        vault.audit.append(
            conn,
            actor=Caller.person(session.subject_id).actor_id,
            action="center.leave",
            targets=[f"subject:{session.subject_id}"],
        )


ERASURES: Final = (
    Erasure("links", storage.delete_links_of),
    Erasure("sessions", storage.delete_sessions_of),
)
"""What withdrawal deletes of the privacy center (listed in the built-in parts)."""


_OPERATIONS: Final = ("read", "write", "delete")


def _pack(operations: frozenset[str]) -> str:
    return ".".join(op for op in _OPERATIONS if op in operations)


def _unpack(packed: str) -> frozenset[str]:
    return frozenset(op for op in packed.split(".") if op in _OPERATIONS)


def check_csrf(session: Session, submitted: str | None) -> None:
    """Raise :class:`CsrfRejected` unless ``submitted`` is the session's CSRF token."""
    expected = session.csrf_token.encode("ascii")
    given = (submitted or "").encode("utf-8", "replace")
    if not hmac.compare_digest(given, expected):
        raise CsrfRejected()
