"""People's consents to a provision: to one recipient, for one purpose (APPI 27(1), 28(1)).

A consent names the published version whose recipient the person was shown, so that what they
agreed to can be read back. A recipient abroad can be consented to only when the policy gives
its APPI 28 information (the person must see it first). A consent is revoked, never deleted:
the records of provisions made under it point to it. Every consent and revocation is audited
with ids only.
"""

from __future__ import annotations

import secrets
from typing import Literal

from mamori.errors import Conflict, NotFound, SubjectWithdrawn, UserInputError
from mamori.policy.rules import nearest
from mamori.provisions import storage
from mamori.provisions.rules import foreign_information_missing
from mamori.provisions.storage import ConsentRow
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.storage import subjects

__all__ = ["Channel", "ConsentRow", "active_person", "give", "of_subject", "revoke"]

Channel = Literal["center", "api"]


def active_person(conn: Connection, subject_id: str) -> None:
    """:class:`NotFound` for an unknown person, :class:`SubjectWithdrawn` for one who withdrew."""
    found = subjects.record(conn, subject_id)
    if found is None:
        raise NotFound(f"no subject '{subject_id}'")
    if found.status == "withdrawn":
        raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")


def give(
    vault: Vault,
    caller: Caller,
    subject_id: str,
    recipient_id: str,
    purpose_id: str,
    *,
    channel: Channel,
) -> ConsentRow:
    """Record the person's consent to ``recipient_id`` for ``purpose_id``; idempotent (the live
    consent is returned when there is one). Audited."""
    caller.require("write")
    rules = vault.rules()
    recipient = rules.recipients.get(recipient_id)
    if recipient is None:
        raise NotFound(
            f"no recipient '{recipient_id}' in the policy{nearest(recipient_id, rules.recipients)}"
        )
    if purpose_id not in recipient.purposes:
        raise UserInputError(
            f"recipient '{recipient_id}' receives data for {', '.join(recipient.purposes)},"
            f" not for '{purpose_id}'"
        )
    if foreign_information_missing(recipient, rules.home_country):
        raise Conflict(
            f"recipient '{recipient_id}' is in {recipient.country} and the policy does not give"
            " its APPI 28 information: no consent can be asked until it does"
        )
    now = vault.clock.now()
    with db.write(vault.engine) as conn:
        # Check and insert as one step: two live consents would leave one behind a revocation.
        key = f"{subject_id}\x00{recipient_id}\x00{purpose_id}".encode()
        db.lock_keys(conn, "provision-consent", [key])
        active_person(conn, subject_id)
        live = storage.live_consents(conn, [subject_id], recipient_id, purpose_id)
        if subject_id in live:
            return live[subject_id]
        row = ConsentRow(
            id=f"pc_{secrets.token_hex(12)}",
            subject_id=subject_id,
            recipient_id=recipient_id,
            purpose_id=purpose_id,
            policy_version=rules.version,
            consented_at=now,
            revoked_at=None,
            channel=channel,
        )
        storage.insert_consent(conn, row)
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="provision_consent.give",
            targets=[f"subject:{subject_id}", f"recipient:{recipient_id}", f"consent:{row.id}"],
            details={"purpose": purpose_id, "channel": channel, "policy_version": rules.version},
        )
    return row


def revoke(
    vault: Vault, caller: Caller, subject_id: str, consent_id: str, *, channel: Channel
) -> ConsentRow:
    """Revoke a live consent of the person; :class:`NotFound` when there is none. Audited."""
    caller.require("write")
    now = vault.clock.now()
    with db.write(vault.engine) as conn:
        active_person(conn, subject_id)
        row = storage.revoke_consent(conn, subject_id, consent_id, now)
        if row is None:
            raise NotFound(f"subject '{subject_id}' has no live consent '{consent_id}'")
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="provision_consent.revoke",
            targets=[f"subject:{subject_id}", f"recipient:{row.recipient_id}", f"consent:{row.id}"],
            details={"purpose": row.purpose_id, "channel": channel},
        )
    return row


def of_subject(vault: Vault, subject_id: str) -> list[ConsentRow]:
    """Every consent of the person, revoked ones too, newest first."""
    with db.read(vault.engine) as conn:
        if subjects.record(conn, subject_id) is None:
            raise NotFound(f"no subject '{subject_id}'")
        return storage.consents_of(conn, subject_id)
