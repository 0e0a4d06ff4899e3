"""People's consents to policy changes, and the change notices they have read.

A change that needs consent (:class:`mamori.policy.diff.Level`) gates its new uses for every
person who was there before it was published, until that person consents: in the privacy
center or through the API (the host service recording a consent it obtained). The vault checks
the consents inside each read (:meth:`mamori.vault.core.Vault.read`), so a consent takes effect
on the very next read. Every consent and every notice read is audited with ids only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from mamori.changes import storage
from mamori.changes.storage import GivenConsent
from mamori.errors import NotFound, SubjectWithdrawn
from mamori.publication import records
from mamori.publication.records import ChangeRecord
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.storage import subjects

__all__ = [
    "Channel",
    "GivenConsent",
    "PersonChanges",
    "consent",
    "given",
    "mark_read",
    "person_changes",
]

Channel = Literal["center", "api"]


@dataclass(frozen=True)
class PersonChanges:
    """The policy changes that concern one person."""

    pending: tuple[ChangeRecord, ...]
    """Changes that need this person's consent, not given yet."""
    unread: tuple[ChangeRecord, ...]
    """Changes this person is to be told of, whose notice they have not read (newest first)."""
    given: tuple[GivenConsent, ...]

    @property
    def attention(self) -> bool:
        return bool(self.pending or self.unread)


def _created_at(conn: Connection, subject_id: str) -> tuple[dt.datetime, str]:
    found = subjects.record(conn, subject_id)
    if found is None:
        raise NotFound(f"no subject '{subject_id}'")
    return found.created_at, found.status


def _given(conn: Connection, subject_id: str) -> tuple[GivenConsent, ...]:
    return tuple(storage.consents_of(conn, subject_id))


def person_changes(vault: Vault, subject_id: str) -> PersonChanges:
    """Pending consents, unread notices and given consents of one person."""
    all_changes = records.records(vault.engine)
    with db.read(vault.engine) as conn:
        created_at, _status = _created_at(conn, subject_id)
        given_consents = _given(conn, subject_id)
        read = storage.read_versions(conn, subject_id)
    consented = {g.version for g in given_consents}
    concerning = [c for c in all_changes if c.published_at > created_at]
    pending = tuple(c for c in concerning if c.needs_consent and c.version not in consented)
    unread = tuple(
        c
        for c in reversed(concerning)
        if c.needs_notice and c.version not in read and c not in pending
    )
    return PersonChanges(pending, unread, given_consents)


def given(vault: Vault, subject_id: str) -> tuple[GivenConsent, ...]:
    with db.read(vault.engine) as conn:
        _created_at(conn, subject_id)
        return _given(conn, subject_id)


def consent(
    vault: Vault, caller: Caller, subject_id: str, version: int, *, channel: Channel
) -> GivenConsent:
    """Record the person's consent to the change of ``version``; idempotent. Audited."""
    caller.require("write")
    change = records.get(vault.engine, version)
    if change is None or not change.needs_consent:
        raise NotFound(f"policy version {version} has no change that needs consent")
    now = vault.clock.now()
    with db.write(vault.engine) as conn:
        _created, status = _created_at(conn, subject_id)
        if status == "withdrawn":
            raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
        existing = storage.consent_of(conn, subject_id, version)
        if existing is not None:
            return existing
        storage.insert_consent(
            conn, subject_id=subject_id, version=version, now=now, channel=channel
        )
        storage.mark_read(conn, subject_id, version, now)
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="policy_change.consent",
            targets=[f"subject:{subject_id}", f"policy_version:{version}"],
            details={"channel": channel, "uses": len(change.consent_uses)},
        )
    return GivenConsent(version, now, channel)


def mark_read(vault: Vault, caller: Caller, subject_id: str, version: int) -> None:
    """The person has read the notice of the change of ``version``. Audited once."""
    change = records.get(vault.engine, version)
    if change is None or not change.needs_notice:
        raise NotFound(f"policy version {version} has no change notice")
    with db.write(vault.engine) as conn:
        _created_at(conn, subject_id)
        if storage.mark_read(conn, subject_id, version, vault.clock.now()):
            vault.audit.append(
                conn,
                actor=caller.actor_id,
                action="policy_change.notice_read",
                targets=[f"subject:{subject_id}", f"policy_version:{version}"],
                details={},
            )
