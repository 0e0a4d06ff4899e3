"""A provision to everyone a purpose may use, streamed (issue 11: "everyone a purpose may use").

:func:`provide_everyone` provides one item of every person the vault's bulk read releases for
the purpose (withdrawn people, usage stops, pending policy-change consents and marketing
opt-outs left out as there) to one recipient, deciding per person like :func:`gate.provide`:
people without a live consent (when consent is the basis) and people a granted provision stop
covers are left out in the read's own transaction, before anything of theirs is decrypted.
Pages of people are recorded as they go: each page is read, checked (consents, provision
stops, for a recipient that links person-related information the cookie choices), decrypted and
recorded with an audit entry (``provision.provide``, ids and counts) in one write transaction,
before any value of the page is handed on; on PostgreSQL the consents relied on are locked
(``FOR SHARE``) until then, so a revocation waits for the page or comes before it. Memory stays
flat: one page at a time.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Generator
from dataclasses import dataclass
from typing import Any

from mamori.errors import Conflict, PermissionDenied, UserInputError
from mamori.provisions import storage
from mamori.provisions.confirmations import Confirmation, confirmed_receipts
from mamori.provisions.gate import declared, entrustment_suspended, record_row, stopped_items
from mamori.provisions.rules import Plan, ProvisionRefusal, plan
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.access import Caller
from mamori.vault.core import Vault

__all__ = ["Streamed", "StreamedLine", "provide_everyone"]


@dataclass(frozen=True)
class StreamedLine:
    """One person's part: the value provided and the record of it."""

    subject_id: str
    value: Any
    record_id: str


@dataclass(frozen=True)
class Streamed:
    """A streamed provision: its id (shared by its records) and its lines, produced as read."""

    id: str
    plan: Plan
    lines: Generator[StreamedLine, None, None]


def provide_everyone(
    vault: Vault,
    caller: Caller,
    *,
    recipient: str,
    item: str,
    purpose: str,
    basis: str | None = None,
    reason: str | None = None,
    contract: bool = False,
    page: int = 2000,
) -> Streamed:
    """Provide ``item`` of everyone ``purpose`` may use to ``recipient``. What holds for the
    whole call (an undeclared item, a basis that does not fit, a recipient abroad without its
    APPI 28 information) is an error raised here, before anything is read."""
    caller.require("provide")
    if caller.purposes is not None and purpose not in caller.purposes:
        raise PermissionDenied(f"'{caller.actor_id}' is not granted purpose '{purpose}'")
    rules = vault.rules()
    with db.read(vault.engine) as conn:
        suspended = entrustment_suspended(vault, conn, rules, recipient)
    plan_ = plan(
        rules,
        recipient,
        purpose,
        (item,),
        basis,
        reason,
        vault.clock.now(),
        entrustment_suspended=suspended,
    )
    refused = plan_.refused.get(item)
    if refused is ProvisionRefusal.entrustment_suspended:
        raise Conflict(
            f"the entrustment to contractor '{recipient}' is suspended in the register (its"
            " contract is not in force, or its last supervision check failed): nothing can be"
            f" provided ({refused.value})"
        )
    if refused is ProvisionRefusal.overseas_info_missing:
        raise Conflict(
            f"recipient '{recipient}' is abroad and the policy does not give its APPI 28"
            f" information: nothing can be provided ({refused.value})"
        )
    if refused is ProvisionRefusal.pseudonymised:
        raise PermissionDenied(
            f"purpose '{purpose}' uses data only as pseudonymised information (仮名加工情報):"
            f" it is never provided to a third party (APPI 41(6)) ({refused.value})"
        )
    if refused is not None:
        raise UserInputError(
            f"recipient '{recipient}' may not receive '{item}' for '{purpose}' on basis"
            f" '{plan_.basis.value}' ({refused.value})"
        )
    batch_id = f"pv_{secrets.token_hex(12)}"
    recipient_declared = declared(plan_)
    # What a page's transaction found, for its records (one page at a time).
    consents: dict[str, str] = {}
    receipts: dict[str, int | None] = {}
    page_record: list[str] = []
    # What every person's confirmation shares (APPI 31); each one's receipt is theirs.
    services: Confirmation | None = (
        {"services": list(plan_.recipient.cookie_services)} if plan_.person_related else None
    )

    def keep(conn: Connection, subject_ids: list[str]) -> Collection[str]:
        kept = set(subject_ids)
        consents.clear()
        receipts.clear()
        if plan_.needs_consent:
            consents.update(
                storage.live_consent_ids(conn, subject_ids, recipient, purpose, lock=True)
            )
            kept &= consents.keys()
        for subject_id, covered in stopped_items(plan_, conn, subject_ids).items():
            if not covered or item in covered:
                kept.discard(subject_id)
        if plan_.person_related and kept:
            receipts.update(confirmed_receipts(plan_, conn, list(kept), vault.clock.now()))
            kept &= receipts.keys()
        return kept

    def record(conn: Connection, values: list[tuple[str, Any]]) -> None:
        """The page's batch record (APPI rule 19(2): a provision made continuously to one
        recipient may be recorded together) with its people, each with the consent and the
        cookie choice relied on, and its audit entry, in the transaction that read and checked
        the page."""
        page_record.clear()
        if not values:
            return
        row = record_row(
            plan_,
            recipient_declared,
            batch_id=batch_id,
            subject_id=None,
            people=len(values),
            items=(item,),
            consent_id=None,
            reason=reason,
            actor=caller.actor_id,
            policy_version=rules.version,
            at=vault.clock.now(),
            contract=contract,
            confirmation=services,
        )
        storage.insert_batch_record(
            conn,
            row,
            [
                (subject_id, consents.get(subject_id), receipts.get(subject_id))
                for subject_id, _ in values
            ],
        )
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="provision.provide",
            targets=[f"recipient:{recipient}", f"provision:{batch_id}", f"record:{row.id}"],
            details={
                "purpose": purpose,
                "basis": plan_.basis.value,
                "people": len(values),
                "provided": len(values),
                "records": 1,
                f"item.{item}": len(values),
                "mode": "stream",
            },
        )
        page_record.append(row.id)

    reader = Caller(caller.actor_id, caller.purposes, frozenset({"read"}))
    # The read checks itself (a statistics-only purpose, an item the purpose may not use) when
    # first asked for a line: the API asks for the first line before it answers.
    rows = vault.bulk_read(reader, purpose, item, batch=page, keep=keep, on_page=record)

    def lines() -> Generator[StreamedLine, None, None]:
        try:
            for subject_id, value in rows:
                yield StreamedLine(subject_id, value, page_record[0])
        finally:
            rows.close()

    return Streamed(batch_id, plan_, lines())
