"""Pseudonymised exports (仮名加工情報, APPI 41): what a purpose declares, as CSV or Parquet.

:func:`plan` reads the purpose's declaration: the items kept as they are, those replaced by a
keyed pseudonym (:mod:`mamori.statistics.pseudonyms`) and every other item of the purpose
dropped, each with why (``direct_identifier``, ``identifier_code``, ``financial_risk`` by the
items' kinds and flags, or ``not_declared``). :func:`export` writes one row per person the
purpose may use (withdrawn people and those who stopped the purpose are not there; an item a
person stopped is left empty): the person's pseudonym, then the kept and pseudonymised items.
It is written a page of people at a time, as CSV or as Parquet (one row group a page,
:mod:`mamori.statistics.parquet`, when pyarrow is installed), so memory does not grow with the
number of people. The export is recorded (``pseudonymised_exports``: purpose, format, columns,
rows, key generation, SHA-256 of the file) and audited (``statistics.export``, with the format)
in one transaction after it is written. Such a purpose is never provided to a third party: the
provision gate refuses it (``pseudonymised``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

import orjson

from mamori.errors import UserInputError
from mamori.policy.processing import must_drop
from mamori.policy.rules import Rules
from mamori.statistics import parquet, pseudonyms, storage
from mamori.store import db
from mamori.vault import aggregate
from mamori.vault.access import Caller
from mamori.vault.core import Vault

__all__ = ["FORMATS", "Plan", "check_format", "export", "pages", "plan"]

FORMATS: Final = ("csv", "parquet")
"""Parquet needs pyarrow (the ``parquet`` extra; :mod:`mamori.statistics.parquet`)."""


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


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


class _Hashing:
    """``sink``, hashing (SHA-256) what goes through."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.digest = hashlib.sha256()

    @property
    def closed(self) -> bool:  # asked by pyarrow's stream around a file object
        return self.sink.closed

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.sink.write(data)
        return len(data)

    def flush(self) -> None:
        self.sink.flush()


def pages(
    vault: Vault, caller: Caller, the_plan: Plan, key: bytes
) -> Iterator[list[list[str | None]]]:
    """The export's rows, a page of people at a time: the pseudonym, kept, pseudonymised."""
    items = [*the_plan.kept, *the_plan.pseudonymised]
    for page in aggregate.people(vault, caller, the_plan.purpose, items):
        rows: list[list[str | None]] = []
        for person in page:
            row: list[str | None] = [pseudonyms.pseudonym(key, "subject", person.id)]
            row += [_text(person.values.get(i)) for i in the_plan.kept]
            for i in the_plan.pseudonymised:
                value = _text(person.values.get(i))
                row.append(None if value is None else pseudonyms.pseudonym(key, i, value))
            rows.append(row)
        yield rows


def _write_csv(sink: _Hashing, header: list[str], pages: Iterator[list[list[str | None]]]) -> int:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")  # None is written as an empty cell
    out.writerow(header)
    rows = 0
    for page in pages:
        out.writerows(page)
        rows += len(page)
        sink.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()
    sink.write(buffer.getvalue().encode("utf-8"))
    return rows


def check_format(format: str) -> None:
    """A UserInputError unless ``format`` is one of :data:`FORMATS` that can be written here
    (Parquet: pyarrow installed), so that a caller can refuse it before opening a file."""
    if format not in FORMATS:
        raise UserInputError(f"format: use {' or '.join(FORMATS)}, not '{format[:20]}'")
    if format == "parquet":
        parquet.require()


def export(
    vault: Vault,
    caller: Caller,
    purpose: str,
    sink: BinaryIO,
    *,
    format: str = "csv",
    compression: bool = True,
) -> storage.ExportRow:
    """Write the purpose's pseudonymised export to ``sink`` as ``format``; its record.

    ``compression`` is Parquet's (zstd); off, the values are in the file as they are."""
    check_format(format)
    rules = vault.rules()
    aggregate.check(rules, caller, purpose)
    the_plan = plan(rules, purpose)
    generation, key = pseudonyms.current(vault, purpose, caller.actor_id)
    export_id = "px_" + secrets.token_hex(12)
    header = ["pseudonym", *the_plan.kept, *the_plan.pseudonymised]
    pages_ = pages(vault, caller, the_plan, key)
    hashing = _Hashing(sink)
    if format == "csv":
        rows = _write_csv(hashing, header, pages_)
    else:
        about = {"purpose": purpose, "export": export_id, "key_generation": str(generation)}
        rows = parquet.write(hashing, header, pages_, metadata=about, compression=compression)
    record = storage.ExportRow(
        id=export_id,
        purpose_id=purpose,
        actor=caller.actor_id,
        format=format,
        rows=rows,
        key_generation=generation,
        columns=orjson.dumps(the_plan.columns()).decode(),
        sha256=hashing.digest.hexdigest(),
        created_at=vault.clock.now(),
    )
    with db.write(vault.engine) as conn:
        storage.insert_export(conn, record)
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="statistics.export",
            targets=[f"purpose:{purpose}", f"pseudonymised_export:{record.id}"],
            details={"purpose": purpose, "rows": rows, "generation": generation, "format": format},
        )
    return record
