"""The ledger as files: CSV for people (spreadsheets), JSON Lines for programs.

**CSV** (RFC 4180, CRLF): a header of column names in the file's language, then one line per
record, with the same columns as the console's page and what else the record holds (the
recipient's address and representative, the batch). Times are in the operator's time zone,
named in the header; items and purposes by their labels in the policy (their ids when the
policy no longer has them); the basis and the flags in words. ``bom`` starts the file with a
UTF-8 byte order mark, so that Excel reads Japanese. A cell that a spreadsheet would take for a
formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with
``'`` (CSV injection).

**JSON Lines**: one object per line, codes and ids as stored, times in UTC (ISO 8601).

Both are generators of byte chunks (a few hundred records each), for a streamed response or a
file; they hold no more than a chunk.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Final
from zoneinfo import ZoneInfo

import orjson

from mamori.i18n import N_, Lang, t
from mamori.policy.rules import Rules
from mamori.provisions.storage import AcquisitionRow, RecordRow

__all__ = ["CHUNK", "FORMATS", "csv_chunks", "guard", "json_chunks", "label"]

FORMATS: Final = ("csv", "json")
CHUNK: Final = 500
"""Records per chunk of bytes."""

_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")

PROVISION_COLUMNS: Final = (
    N_("ledger.col_record"),
    N_("ledger.col_provided_at"),
    N_("ledger.col_recipient_id"),
    N_("ledger.col_recipient"),
    N_("ledger.col_address"),
    N_("ledger.col_representative"),
    N_("ledger.col_subject"),
    N_("ledger.col_items"),
    N_("ledger.col_purpose"),
    N_("ledger.col_basis"),
    N_("ledger.col_consent"),
    N_("ledger.col_reason"),
    N_("ledger.col_confirmation"),
    N_("ledger.col_contract"),
    N_("ledger.col_retain_until"),
    N_("ledger.col_batch"),
)
RECEIPT_COLUMNS: Final = (
    N_("ledger.col_record"),
    N_("ledger.col_received_at"),
    N_("ledger.col_subject"),
    N_("ledger.col_provider"),
    N_("ledger.col_address"),
    N_("ledger.col_representative"),
    N_("ledger.col_individual"),
    N_("ledger.col_keeps_records"),
    N_("ledger.col_how_obtained"),
    N_("ledger.col_items"),
    N_("ledger.col_contract"),
    N_("ledger.col_recorded_at"),
    N_("ledger.col_retain_until"),
)
_TIMES: Final = frozenset(
    {
        "ledger.col_provided_at",
        "ledger.col_received_at",
        "ledger.col_recorded_at",
        "ledger.col_retain_until",
    }
)
"""Columns of times, whose header names the zone they are in."""
_BASIS_WORDS: Final = (  # the basis of a record, by its code: ledger.basis_<code>
    N_("ledger.basis_consent"),
    N_("ledger.basis_entrustment"),
    N_("ledger.basis_business_succession"),
    N_("ledger.basis_joint_use"),
    N_("ledger.basis_laws_and_regulations"),
    N_("ledger.basis_life_body_property"),
    N_("ledger.basis_public_health"),
    N_("ledger.basis_public_authority"),
    N_("ledger.basis_academic_research"),
)


def guard(value: str) -> str:
    """``value`` made safe for a spreadsheet cell: never read as a formula."""
    return "'" + value if value.startswith(_FORMULA) else value


def label(rules: Rules, kind: str, id_: str, lang: Lang) -> str:
    """The policy's label of an item or a purpose, or its id when the policy has none."""
    found = (rules.items if kind == "item" else rules.purposes).get(id_)
    return found.label.get(lang) if found is not None else id_


def _text(value: object, lang: Lang) -> str:
    """A stored fact: text, or ``{"ja", "en"}`` (the other language when one is missing)."""
    if isinstance(value, dict):
        other = "ja" if lang == "en" else "en"
        return str(value.get(lang) or value.get(other) or "")
    return "" if value is None else str(value)


def _flag(value: bool | None, lang: Lang) -> str:
    if value is None:
        return ""
    return t(lang, "ledger.yes") if value else t(lang, "ledger.no")


def _local(at: dt.datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _provision_cells(row: RecordRow, rules: Rules, lang: Lang, zone: ZoneInfo) -> list[str]:
    sep = t(lang, "provision.list_separator")
    return [
        row.id,
        _local(row.provided_at, zone),
        row.recipient_id,
        _text(row.recipient.get("name"), lang),
        _text(row.recipient.get("address"), lang),
        _text(row.recipient.get("representative"), lang),
        row.subject_id or "",
        sep.join(label(rules, "item", i, lang) for i in row.items),
        label(rules, "purpose", row.purpose_id, lang),
        t(lang, f"ledger.basis_{row.basis}"),
        row.consent_id or "",
        row.reason or "",
        _confirmation(row.confirmation, lang),
        _flag(row.contract, lang),
        _local(row.retain_until, zone),
        row.batch_id,
    ]


def _confirmation(found: Mapping[str, object] | None, lang: Lang) -> str:
    """How the person's consent was confirmed before person-related information went (APPI
    31): the cookie choice's receipt and the services it allowed."""
    if found is None:
        return ""
    services = found.get("services")
    return t(
        lang,
        "ledger.confirmation",
        receipt=str(found.get("receipt", "-")),
        services=", ".join(str(s) for s in services) if isinstance(services, list) else "",
    )


def _receipt_cells(row: AcquisitionRow, rules: Rules, lang: Lang, zone: ZoneInfo) -> list[str]:
    sep = t(lang, "provision.list_separator")
    provider = row.provider
    keeps = provider.get("keeps_records")
    return [
        row.id,
        _local(row.received_at, zone),
        row.subject_id,
        _text(provider.get("name"), lang),
        _text(provider.get("address"), lang),
        _text(provider.get("representative"), lang),
        _flag(bool(provider.get("individual")), lang),
        _flag(keeps if isinstance(keeps, bool) else None, lang),
        _text(provider.get("how_obtained"), lang),
        sep.join(label(rules, "item", i, lang) for i in row.items),
        _flag(row.contract, lang),
        _local(row.recorded_at, zone),
        _local(row.retain_until, zone),
    ]


def csv_chunks(
    rows: Iterable[RecordRow | AcquisitionRow],
    *,
    receipts: bool,
    rules: Rules,
    lang: Lang,
    zone: str,
    bom: bool = False,
) -> Iterator[bytes]:
    """The CSV file of ``rows`` (all provisions, or all receipts), chunk by chunk."""
    where = ZoneInfo(zone)
    columns = RECEIPT_COLUMNS if receipts else PROVISION_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [guard(t(lang, key) + (f" ({zone})" if key in _TIMES else "")) for key in columns]
    )
    head = buffer.getvalue().encode("utf-8")
    yield (b"\xef\xbb\xbf" + head) if bom else head
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, 1):
        if isinstance(row, AcquisitionRow):
            cells = _receipt_cells(row, rules, lang, where)
        else:
            cells = _provision_cells(row, rules, lang, where)
        writer.writerow([guard(c) for c in cells])
        if count % CHUNK == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _json(row: RecordRow | AcquisitionRow) -> dict[str, object]:
    if isinstance(row, AcquisitionRow):
        return {
            "id": row.id,
            "subject_id": row.subject_id,
            "received_at": _utc(row.received_at),
            "provider": row.provider,
            "items": list(row.items),
            "contract": row.contract,
            "recorded_at": _utc(row.recorded_at),
            "retain_until": _utc(row.retain_until),
            "policy_version": row.policy_version,
            "actor": row.actor,
        }
    return {
        "id": row.id,
        "batch_id": row.batch_id,
        "provided_at": _utc(row.provided_at),
        "recipient_id": row.recipient_id,
        "recipient": row.recipient,
        "subject_id": row.subject_id,
        "items": list(row.items),
        "purpose": row.purpose_id,
        "basis": row.basis,
        "consent_id": row.consent_id,
        "reason": row.reason,
        "confirmation": row.confirmation,
        "contract": row.contract,
        "retain_until": _utc(row.retain_until),
        "policy_version": row.policy_version,
        "actor": row.actor,
    }


def json_chunks(rows: Iterable[RecordRow | AcquisitionRow]) -> Iterator[bytes]:
    """JSON Lines of ``rows``, one object per record, chunk by chunk."""
    lines: list[bytes] = []
    for row in rows:
        lines.append(orjson.dumps(_json(row)))
        if len(lines) == CHUNK:
            yield b"\n".join(lines) + b"\n"
            lines = []
    if lines:
        yield b"\n".join(lines) + b"\n"
