"""Pseudonymised exports (仮名加工情報, APPI 41): what a purpose declares, written as CSV.

:func:`plan` reads the purpose's declaration: the items kept as they are, those replaced by a
keyed pseudonym (:mod:`mamori.statistics.pseudonyms`) and every other item of the purpose
dropped, each with why (``direct_identifier``, ``identifier_code``, ``financial_risk`` by the
items' kinds and flags, or ``not_declared``). :func:`export` writes one row per person the
purpose may use (withdrawn people and those who stopped the purpose are not there; an item a
person stopped is left empty): the person's pseudonym, then the kept and pseudonymised items.
The export is recorded (``pseudonymised_exports``: purpose, columns, rows, key generation,
SHA-256 of the file) and audited (``statistics.export``) in one transaction after it is
written. Such a purpose is never provided to a third party: the provision gate refuses it
(``pseudonymised``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

import orjson

from mamori.errors import UserInputError
from mamori.policy.processing import must_drop
from mamori.policy.rules import Rules
from mamori.statistics import pseudonyms, storage
from mamori.store import db
from mamori.vault import aggregate
from mamori.vault.access import Caller
from mamori.vault.core import Vault

__all__ = ["FORMATS", "Plan", "export", "plan"]

FORMATS: Final = ("csv",)
"""Parquet needs pyarrow, which mamori does not depend on."""


@dataclass(frozen=True)
class Plan:
    purpose: str
    kept: tuple[str, ...]
    pseudonymised: tuple[str, ...]
    dropped: Mapping[str, str]
    """item -> why it is not in the export."""

    def columns(self) -> dict[str, Any]:
        return {
            "kept": list(self.kept),
            "pseudonymised": list(self.pseudonymised),
            "dropped": dict(self.dropped),
        }


def plan(rules: Rules, purpose: str) -> Plan:
    found = rules.purpose(purpose)
    declared = found.pseudonymised
    if declared is None:
        raise UserInputError(
            f"purpose '{purpose}' declares no pseudonymised export (pseudonymised: in the policy)"
        )
    dropped = {}
    for item_id in found.items:
        if item_id in declared.keep or item_id in declared.pseudonymise:
            continue
        dropped[item_id] = must_drop(rules.item(item_id)) or "not_declared"
    return Plan(purpose, tuple(declared.keep), tuple(declared.pseudonymise), dropped)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def export(
    vault: Vault, caller: Caller, purpose: str, sink: BinaryIO, *, format: str = "csv"
) -> storage.ExportRow:
    """Write the purpose's pseudonymised export to ``sink``; its record."""
    if format not in FORMATS:
        raise UserInputError(f"format: use {' or '.join(FORMATS)} (Parquet needs pyarrow)")
    rules = vault.rules()
    aggregate.check(rules, caller, purpose)
    the_plan = plan(rules, purpose)
    generation, key = pseudonyms.current(vault, purpose, caller.actor_id)
    digest = hashlib.sha256()
    rows = 0

    def write(text: str) -> None:
        data = text.encode("utf-8")
        digest.update(data)
        sink.write(data)

    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(["pseudonym", *the_plan.kept, *the_plan.pseudonymised])
    items = [*the_plan.kept, *the_plan.pseudonymised]
    for page in aggregate.people(vault, caller, purpose, items):
        for person in page:
            row = [pseudonyms.pseudonym(key, "subject", person.id)]
            row += [_text(person.values.get(i)) for i in the_plan.kept]
            row += [
                pseudonyms.pseudonym(key, i, _text(person.values[i]))
                if person.values.get(i) is not None
                else ""
                for i in the_plan.pseudonymised
            ]
            out.writerow(row)
            rows += 1
        write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    write(buffer.getvalue())
    record = storage.ExportRow(
        id="px_" + secrets.token_hex(12),
        purpose_id=purpose,
        actor=caller.actor_id,
        format=format,
        rows=rows,
        key_generation=generation,
        columns=orjson.dumps(the_plan.columns()).decode(),
        sha256=digest.hexdigest(),
        created_at=vault.clock.now(),
    )
    with db.write(vault.engine) as conn:
        storage.insert_export(conn, record)
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="statistics.export",
            targets=[f"purpose:{purpose}", f"pseudonymised_export:{record.id}"],
            details={"purpose": purpose, "rows": rows, "generation": generation},
        )
    return record
