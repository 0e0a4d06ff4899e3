"""Tying a browser's cookie choices to a person: the host says which person made the choices
under a consent ID (the random ID of the ``mamori_consent`` cookie), so that a provision of
person-related information can confirm that person's consent (APPI 31,
:mod:`mamori.provisions.confirmations`). Choices made signed in to the privacy center carry
the person already."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.consent import storage
from mamori.consent.choice import CONSENT_ID
from mamori.errors import Conflict, NotFound, UserInputError
from mamori.store import db
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.storage import subjects

__all__ = ["Linked", "link"]


@dataclass(frozen=True)
class Linked:
    subject_id: str
    consent_id: str
    receipt: int
    """The sequence number of the newest receipt under the consent ID."""
    created: bool
    """False when the link was already there."""


def link(vault: Vault, caller: Caller, subject_id: str, consent_id: str) -> Linked:
    """Note that ``subject_id`` made the cookie choices of ``consent_id`` (idempotent).

    :class:`UserInputError` for a malformed consent ID, :class:`NotFound` for an unknown
    person or a consent ID under which no choice was recorded, :class:`Conflict` for a person
    who withdrew. Audited (``cookie_consent.link``)."""
    caller.require("write")
    if not CONSENT_ID.fullmatch(consent_id):
        raise UserInputError(
            "consent_id: give the 22 base64url characters of the person's mamori_consent cookie"
        )
    now = vault.clock.now()
    with db.write(vault.engine) as conn:
        record = subjects.record(conn, subject_id)
        if record is None:
            raise NotFound(f"no subject '{subject_id}'")
        if record.status == "withdrawn":
            raise Conflict(f"subject '{subject_id}' has withdrawn: nothing is linked to them")
        latest = storage.latest(conn, consent_id)
        if latest is None:
            raise NotFound("no cookie choice was recorded under this consent ID")
        created = storage.insert_link(conn, consent_id, subject_id, now, caller.actor_id)
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="cookie_consent.link",
            targets=[f"subject:{subject_id}"],
            details={"receipt": latest.seq, "created": created},
        )
    return Linked(subject_id, consent_id, latest.seq, created)
