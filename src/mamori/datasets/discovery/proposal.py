"""From findings to a draft dataset declaration: the policy's item each column seems to hold,
written as YAML for the operator to review. Pure: it reads the policy model, not files."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mamori.datasets.discovery.columns import ColumnFinding
from mamori.datasets.discovery.kinds import Kind
from mamori.policy.model import DataItem, Policy, ValueKind

__all__ = ["DATASET_FORMAT", "Proposal", "propose", "render_yaml"]

DATASET_FORMAT = "mamori-dataset/1"

_VALUE_KINDS: dict[Kind, tuple[ValueKind, ...]] = {
    Kind.email: (ValueKind.email,),
    Kind.phone: (ValueKind.phone,),
    Kind.address: (ValueKind.address,),
    Kind.postal_code: (ValueKind.postal_code, ValueKind.address),
    Kind.person_name: (ValueKind.name,),
    Kind.birth_date: (ValueKind.date,),
}
_WORDS: dict[Kind, str] = {
    Kind.birth_date: r"birth|dob|生年月日|誕生",
    Kind.my_number: r"my_?number|individual_number|マイナンバー|個人番号",
    Kind.card_number: r"card|カード",
}
_MISSING: dict[Kind, str] = {
    Kind.birth_date: "no item of the policy holds dates of birth: declare one (kind: date)",
    Kind.my_number: "My Number (特定個人情報) is not in the policy: declare an item"
    " (identifier_code: true) or remove the column",
    Kind.card_number: "no item of the policy holds card numbers: declare one"
    " (financial_risk: true) or keep cards with the payment processor",
    Kind.corporate_number: "a corporate number (法人番号) is public and names a company, not a"
    " person: usually no item",
}
_IDENTITIES = {Kind.email: "email", Kind.phone: "phone"}


@dataclass(frozen=True, slots=True)
class Proposal:
    """The item proposed for a column (``None``: none is obvious) and why."""

    finding: ColumnFinding
    item: str | None
    alternatives: tuple[str, ...] = ()
    note: str | None = None


def _words(*names: str) -> set[str]:
    words = (w for name in names for w in re.split(r"[^0-9a-z]+", name.lower()) if w)
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words}


def _candidates(policy: Policy, kind: Kind) -> list[DataItem]:
    wanted = _VALUE_KINDS.get(kind, ())
    items: list[DataItem] = []
    for value_kind in wanted:
        items += [i for i in policy.items if i.kind is value_kind and i not in items]
    if kind in _WORDS:
        pattern = re.compile(_WORDS[kind])
        named = [i for i in items if pattern.search(i.id)]
        if kind is not Kind.birth_date or named:
            items = named or [
                i for i in policy.items if pattern.search(i.id) or pattern.search(i.label.en or "")
            ]
        else:
            items = []
    return items


def propose(policy: Policy, findings: Sequence[ColumnFinding]) -> list[Proposal]:
    """A proposal for every column that holds a kind: the item whose kind matches, the one
    whose id shares most words with the table and column names first (``contact_email`` in a
    table of business contacts), else the first declared."""
    proposals = []
    for finding in findings:
        if finding.kind is None:
            continue
        items = _candidates(policy, finding.kind)
        if not items:
            missing = _MISSING.get(finding.kind, f"no item of the policy holds {finding.kind}")
            proposals.append(Proposal(finding, None, note=missing))
            continue
        near = _words(finding.table, finding.column)
        ranked = sorted(items, key=lambda i: -len(_words(i.id) & near))
        note: str | None = None
        if finding.kind is Kind.postal_code and ranked[0].kind is ValueKind.address:
            note = "a postal code is part of the address"
        proposals.append(
            Proposal(finding, ranked[0].id, tuple(i.id for i in ranked[1:]), note=note)
        )
    return proposals


def _describe(finding: ColumnFinding) -> str:
    parts = [
        f"{finding.kind}: {finding.matched}/{finding.non_empty} sampled values",
        f"confidence {finding.confidence:.2f} ({finding.level})",
    ]
    if finding.hinted:
        parts.append("name agrees")
    if finding.check_digits is not None:
        ok, bad = finding.check_digits
        parts.append(f"check digit holds for {ok}, fails for {bad}")
    return ", ".join(parts)


def render_yaml(
    *,
    dataset_id: str,
    connection: str,
    proposals: Sequence[Proposal],
    findings: Sequence[ColumnFinding],
    rows: int,
    names: str | None,
) -> str:
    """The draft declaration: tables and columns with their proposed items, each with its
    confidence as a comment; columns with no obvious item and free text that mentions
    personal data, as comments to act on. Contains no sampled value."""
    lines = [
        "# Draft proposed by `mamori datasets scan`: review every column before use.",
        f"# The first {rows} rows of each table sampled; confidence = share of a column's"
        " values recognised x their mean score.",
        "# Person names: "
        + (
            f"{names} (名詞,固有名詞,人名)"
            if names
            else "NLP off (column names only; install mamori[ja-nlp])"
        ),
        f"schema: {DATASET_FORMAT}",
        f"id: {dataset_id}",
        f"connection: {connection}",
        "tables:",
    ]
    by_table: dict[str, list[Proposal]] = {}
    for proposal in proposals:
        by_table.setdefault(proposal.finding.table, []).append(proposal)
    mentions: dict[str, list[ColumnFinding]] = {}
    for finding in findings:
        if finding.kind is None and finding.mentions:
            mentions.setdefault(finding.table, []).append(finding)
    tables = sorted(set(by_table) | set(mentions))
    if not tables:
        lines.append("  {}  # no column of the sample holds personal data that discovery knows")
    for table in tables:
        chosen = [p for p in by_table.get(table, []) if p.item is not None]
        lines.append(f"  {table}:" if chosen else f"  {table}: {{}}")
        if chosen:
            lines.append("    columns:")
        for proposal in chosen:
            f = proposal.finding
            lines.append(f"      {f.column}: {{item: {proposal.item}}}  # {_describe(f)}")
            if proposal.alternatives:
                lines.append(f"        # or: {', '.join(proposal.alternatives)}")
            if proposal.note:
                lines.append(f"        # {proposal.note}")
        for proposal in by_table.get(table, []):
            if proposal.item is None:
                f = proposal.finding
                lines.append(f"    # {f.column}: {_describe(f)}")
                lines.append(f"    #   {proposal.note}")
        for finding in mentions.get(table, []):
            said = ", ".join(f"{kind} in {n}" for kind, n in finding.mentions.items())
            lines.append(
                f"    # {finding.column}: free text that mentions {said} of"
                f" {finding.non_empty} values"
            )
        identities = [p for p in chosen if p.finding.kind in _IDENTITIES]
        if identities:
            lines.append("    identities:")
            for proposal in identities:
                kind = _IDENTITIES[proposal.finding.kind]  # type: ignore[index]
                lines.append(f"      {proposal.finding.column}: {kind}")
    return "\n".join(lines) + "\n"
