"""A provision to everyone a purpose may use, streamed (issue 11: "everyone a purpose may use").

:func:`provide_everyone` provides one item of every person the vault's bulk read releases for
the purpose (withdrawn people, usage stops, pending policy-change consents and marketing
opt-outs left out as there) to one recipient, deciding per person like :func:`gate.provide`:
people without a live consent (when consent is the basis) and people a granted provision stop
covers are left out in the read's own transaction, before anything of theirs is decrypted.
Pages of people are recorded as they go: each page's records are written, with a consent
relied on checked again and an audit entry (``provision.provide``, ids and counts), before any
value of the page is handed on. Memory stays flat: one page at a time.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Generator
from dataclasses import dataclass
from typing import Any

from mamori.errors import Conflict, PermissionDenied, UserInputError
from mamori.provisions import storage
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
    page: int = 500,
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
    plan_ = plan(rules, recipient, purpose, (item,), basis, reason, entrustment_suspended=suspended)
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
    if refused is not None:
        raise UserInputError(
            f"recipient '{recipient}' may not receive '{item}' for '{purpose}' on basis"
            f" '{plan_.basis.value}' ({refused.value})"
        )
    batch_id = f"pv_{secrets.token_hex(12)}"
    recipient_declared = declared(plan_)

    def keep(conn: Connection, subject_ids: list[str]) -> Collection[str]:
        kept = set(subject_ids)
        if plan_.needs_consent:
            kept &= storage.live_consent_ids(conn, subject_ids, recipient, purpose).keys()
        for subject_id, covered in stopped_items(plan_, conn, subject_ids).items():
            if not covered or item in covered:
                kept.discard(subject_id)
        return kept

    reader = Caller(caller.actor_id, caller.purposes, frozenset({"read"}))
    # The read checks itself (a statistics-only purpose, an item the purpose may not use) when
    # first asked for a line: the API asks for the first line before it answers.
    rows = vault.bulk_read(reader, purpose, item, batch=page, keep=keep)

    def record(values: list[tuple[str, Any]]) -> list[StreamedLine]:
        now = vault.clock.now()
        with db.write(vault.engine) as conn:
            consents = (
                storage.live_consent_ids(conn, [s for s, _ in values], recipient, purpose)
                if plan_.needs_consent
                else {}
            )
            lines: list[StreamedLine] = []
            records = []
            for subject_id, value in values:
                consent_id = consents.get(subject_id)
                if plan_.needs_consent and consent_id is None:
                    continue  # revoked while the page was read: nothing goes
                row = record_row(
                    plan_,
                    recipient_declared,
                    batch_id=batch_id,
                    subject_id=subject_id,
                    items=(item,),
                    consent_id=consent_id,
                    reason=reason,
                    actor=caller.actor_id,
                    policy_version=rules.version,
                    at=now,
                    contract=contract,
                )
                records.append(row)
                lines.append(StreamedLine(subject_id, value, row.id))
            storage.insert_records(conn, records)
            vault.audit.append(
                conn,
                actor=caller.actor_id,
                action="provision.provide",
                targets=[f"recipient:{recipient}", f"provision:{batch_id}"],
                details={
                    "purpose": purpose,
                    "basis": plan_.basis.value,
                    "people": len(values),
                    "provided": len(lines),
                    "records": len(records),
                    f"item.{item}": len(lines),
                    "mode": "stream",
                },
            )
        return lines

    def lines() -> Generator[StreamedLine, None, None]:
        try:
            pending: list[tuple[str, Any]] = []
            for found in rows:
                pending.append(found)
                if len(pending) >= page:
                    yield from record(pending)
                    pending = []
            if pending:
                yield from record(pending)
        finally:
            rows.close()

    return Streamed(batch_id, plan_, lines())
