"""The gate every provision passes (APPI 27-29): a decision per person and item, values only
for what is allowed, a record of every provision the law asks to be recorded.

:func:`provide` plans the call from the policy (:func:`mamori.provisions.rules.plan`), then for
each person refuses what they did not consent to (when consent is the basis), what a granted
provision stop covers (for a third party, or anyone abroad), and reads the rest through the
vault, which refuses what the purpose may not use, what the person stopped and everything of a
withdrawn person, and audits the read. An entrustment the register of contractors suspends
(:mod:`mamori.contractors.register`: the contract is not in force, or the last supervision check
failed) is refused for everyone (``entrustment_suspended``). Every provision that released
something is recorded, with what its basis requires (the consent relied on, or the stated reason
of an exception): APPI 29 asks records of provisions by consent, and the ledger keeps the others
too, so that every release to a recipient can be answered for. The records of a call are written
in one transaction with its audit entry (``provision.provide``, ids and counts only) before any
value is returned; a consent the call relies on is checked again in that transaction, so a
person who revoked it while the values were read is given nothing. A record is kept three years
(:data:`RETENTION`), or one year where a contract with the person stands in for it
(``contract``), then deleted by :func:`purge_records` with the records of data received.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from mamori.contractors import register as contractor_register
from mamori.errors import NotFound, PermissionDenied, UserInputError
from mamori.policy.model import Relationship
from mamori.policy.rules import Rules
from mamori.provisions import storage
from mamori.provisions.confirmations import Confirmation, confirmed
from mamori.provisions.rules import RETENTION, Basis, Plan, ProvisionRefusal, plan, retain_until
from mamori.provisions.storage import RecordRow
from mamori.requests.decisions import provision_stops
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.storage import subjects

__all__ = [
    "MAX_SUBJECTS",
    "PURGE_JOB",
    "RETENTION",
    "Provided",
    "Provision",
    "Purged",
    "provide",
    "purge_records",
]

MAX_SUBJECTS: Final = 1000
"""People in one call."""


@dataclass(frozen=True)
class Provided:
    """One person's part of a provision."""

    subject_id: str
    items: Mapping[str, Any]
    """The values provided."""
    refused: Mapping[str, str]
    """item -> why it was not provided (a provision or a vault reason code)."""
    missing: tuple[str, ...]
    """Items allowed but not held for the person."""
    record_id: str | None
    """The record of this provision (None when nothing was provided)."""


@dataclass(frozen=True)
class Provision:
    """The result of one call."""

    id: str
    recipient_id: str
    purpose: str
    basis: Basis
    provided_at: dt.datetime
    people: tuple[Provided, ...]


def _check_people(conn: Connection, subject_ids: Sequence[str]) -> None:
    for subject_id in subject_ids:
        if subjects.record(conn, subject_id) is None:
            raise NotFound(f"no subject '{subject_id}'")


def entrustment_suspended(vault: Vault, conn: Connection, rules: Rules, recipient: str) -> bool:
    """Whether the register suspends the entrustment to ``recipient`` today (a contractor whose
    contract is not in force or whose last check failed); False for anyone else."""
    if rules.contractor(recipient) is None:
        return False
    return contractor_register.suspended(conn, recipient, vault.today())


def stopped_items(
    plan_: Plan, conn: Connection, subject_ids: Sequence[str]
) -> dict[str, frozenset[str]]:
    """subject id -> the items a granted provision stop covers for this call (empty: all),
    for the people who have one. A stop covers provision to a third party and to anyone
    abroad, not a contractor's, joint user's or successor's use in Japan."""
    if plan_.recipient.relationship is not Relationship.third_party and not plan_.abroad:
        return {}
    covered: dict[str, frozenset[str]] = {}
    for subject_id, stops in provision_stops(conn, subject_ids).items():
        items: set[str] = set()
        for _request_id, stopped in stops:
            if not stopped:
                items = set()
                break
            items.update(stopped)
        covered[subject_id] = frozenset(items)
    return covered


def declared(plan_: Plan) -> dict[str, object]:
    """The recipient as the policy declares it, as its records keep it (APPI 29: name,
    address, representative)."""
    return plan_.recipient.model_dump(
        mode="json", include={"name", "address", "representative", "country", "relationship"}
    )


def record_row(
    plan_: Plan,
    recipient: dict[str, object],
    *,
    batch_id: str,
    subject_id: str | None,
    items: Sequence[str],
    consent_id: str | None,
    reason: str | None,
    actor: str,
    policy_version: int,
    at: dt.datetime,
    contract: bool = False,
    confirmation: Confirmation | None = None,
    people: int = 1,
) -> RecordRow:
    """The record of one person's provision, with what its basis requires (and, to a
    recipient that links person-related information, how their consent was confirmed); with
    ``subject_id`` None, a batch record of ``people`` people (listed beside it)."""
    return RecordRow(
        id=f"pr_{secrets.token_hex(12)}",
        batch_id=batch_id,
        provided_at=at,
        recipient_id=plan_.recipient.id,
        recipient=recipient,
        subject_id=subject_id,
        items=tuple(items),
        purpose_id=plan_.purpose,
        basis=plan_.basis.value,
        consent_id=consent_id,
        reason=reason,
        policy_version=policy_version,
        actor=actor,
        contract=contract,
        retain_until=retain_until(at, contract=contract),
        confirmation=confirmation,
        people=people,
    )


_Result = tuple[str, dict[str, Any], dict[str, str], tuple[str, ...]]
"""(subject id, values, refused, missing) of one person, before it is recorded."""


def _unless_revoked(
    result: _Result, live: Mapping[str, object], reason: ProvisionRefusal
) -> _Result:
    subject_id, values, refused, missing = result
    if not values or subject_id in live:
        return result
    return subject_id, {}, {**refused, **dict.fromkeys(values, reason.value)}, missing


def provide(
    vault: Vault,
    caller: Caller,
    *,
    recipient: str,
    subjects_: Sequence[str],
    items: Sequence[str],
    purpose: str,
    basis: str | None = None,
    reason: str | None = None,
    contract: bool = False,
) -> Provision:
    """Provide ``items`` of each of ``subjects_`` to ``recipient`` for ``purpose``.

    ``contract``: the provision is made under a contract with the person for goods or services
    whose document stands in for the record (APPI rule 19(3)); its records are kept one year
    instead of three (rule 21)."""
    caller.require("provide")
    if caller.purposes is not None and purpose not in caller.purposes:
        raise PermissionDenied(f"'{caller.actor_id}' is not granted purpose '{purpose}'")
    if not subjects_ or len(subjects_) > MAX_SUBJECTS:
        raise UserInputError(f"give between 1 and {MAX_SUBJECTS:,} subjects")
    if not items:
        raise UserInputError("give at least one item")
    people = list(dict.fromkeys(subjects_))
    wanted = tuple(dict.fromkeys(items))
    rules = vault.rules()
    reader = Caller(caller.actor_id, caller.purposes, frozenset({"read"}))
    with db.read(vault.engine) as conn:
        plan_ = plan(
            rules,
            recipient,
            purpose,
            wanted,
            basis,
            reason,
            vault.clock.now(),
            entrustment_suspended=entrustment_suspended(vault, conn, rules, recipient),
        )
        _check_people(conn, people)
        consents = (
            storage.live_consents(conn, people, recipient, purpose) if plan_.needs_consent else {}
        )
        stopped = stopped_items(plan_, conn, people)
        confirmations = (
            confirmed(plan_, conn, people, vault.clock.now()) if plan_.person_related else {}
        )
    results: list[_Result] = []
    for subject_id in people:
        refused: dict[str, str] = {i: r.value for i, r in plan_.refused.items()}
        open_ = [i for i in wanted if i not in refused]
        if plan_.needs_consent and subject_id not in consents:
            refused.update({i: ProvisionRefusal.no_consent.value for i in open_})
        covered = stopped.get(subject_id)
        if covered is not None:
            refused.update(
                {
                    i: ProvisionRefusal.provision_stopped.value
                    for i in open_
                    if i not in refused and (not covered or i in covered)
                }
            )
        open_ = [i for i in wanted if i not in refused]
        if open_ and plan_.person_related and subject_id not in confirmations:
            refused.update({i: ProvisionRefusal.cookie_consent_missing.value for i in open_})
            open_ = []
        values: dict[str, Any] = {}
        missing: tuple[str, ...] = ()
        if open_:
            read = vault.read(reader, subject_id, purpose, open_)
            values = dict(read.items)
            refused.update({i: r.value for i, r in read.refused.items()})
            missing = read.missing
        results.append(
            (subject_id, values, {i: refused[i] for i in wanted if i in refused}, missing)
        )
    now = vault.clock.now()
    batch_id = f"pv_{secrets.token_hex(12)}"
    recipient_declared = declared(plan_)
    with db.write(vault.engine) as conn:
        # A consent revoked (or a cookie choice withdrawn) while the values were read: that
        # person gets nothing.
        released = [subject_id for subject_id, values, _, _ in results if values]
        if plan_.needs_consent:
            consents = storage.live_consents(conn, released, recipient, purpose)
            results = [_unless_revoked(r, consents, ProvisionRefusal.no_consent) for r in results]
        if plan_.person_related:
            confirmations = confirmed(plan_, conn, released, now)
            results = [
                _unless_revoked(r, confirmations, ProvisionRefusal.cookie_consent_missing)
                for r in results
            ]
        records: list[RecordRow] = []
        people_out: list[Provided] = []
        for subject_id, values, refused, missing in results:
            record_id = None
            if values:
                consent = consents.get(subject_id)
                row = record_row(
                    plan_,
                    recipient_declared,
                    batch_id=batch_id,
                    subject_id=subject_id,
                    items=tuple(values),
                    consent_id=consent.id if consent is not None else None,
                    reason=reason,
                    actor=caller.actor_id,
                    policy_version=rules.version,
                    at=now,
                    contract=contract,
                    confirmation=confirmations.get(subject_id),
                )
                record_id = row.id
                records.append(row)
            people_out.append(Provided(subject_id, values, refused, missing, record_id))
        storage.insert_records(conn, records)
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="provision.provide",
            targets=[f"recipient:{recipient}", f"provision:{batch_id}"],
            details={
                "purpose": purpose,
                "basis": plan_.basis.value,
                "people": len(people),
                "provided": sum(1 for p in people_out if p.items),
                "records": len(records),
                "contract": contract,
                **{f"item.{i}": sum(1 for p in people_out if i in p.items) for i in wanted},
            },
        )
    return Provision(batch_id, recipient, purpose, plan_.basis, now, tuple(people_out))


PURGE_JOB: Final = "provisions.purge"


@dataclass(frozen=True)
class Purged:
    """What one run of the purge deleted."""

    records: int
    """Provision records (APPI 29)."""
    acquisitions: int
    """Records of data received (APPI 30)."""


def purge_records(vault: Vault, *, now: dt.datetime | None = None) -> Purged:
    """Delete the provision records and the records of data received whose retention ended
    (and only those). Audited with the counts. Run as the periodic job :data:`PURGE_JOB`."""
    now = now or vault.clock.now()
    with db.write(vault.engine) as conn:
        purged = Purged(storage.purge_records(conn, now), storage.purge_acquisitions(conn, now))
        if purged.records or purged.acquisitions:
            vault.audit.append(
                conn,
                actor="system:retention",
                action="provision.records_purge",
                targets=[],
                details={"records": purged.records, "acquisitions": purged.acquisitions},
            )
    return purged
