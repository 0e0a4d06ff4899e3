"""The rules of statistics and pseudonymised exports that look at items (pure, no I/O): what a
pseudonymised export must drop (APPI rule 31), and the checks of a purpose's declarations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mamori.i18n import t
from mamori.policy.model import DataItem, Purpose, ValueKind
from mamori.policy.statistics import Derive

__all__ = ["DIRECT_KINDS", "must_drop", "problems", "published_note"]

DIRECT_KINDS = frozenset({ValueKind.name, ValueKind.email, ValueKind.phone, ValueKind.address})
"""Kinds whose values describe who a person is (規則31(1)): never kept in a pseudonymised export
(they may be replaced by a keyed pseudonym)."""

_KINDS_OF: Mapping[Derive, frozenset[ValueKind]] = {
    Derive.prefecture: frozenset({ValueKind.address}),
    Derive.age_band: frozenset({ValueKind.date}),
    Derive.value: frozenset({ValueKind.text}),
}


def must_drop(item: DataItem) -> str | None:
    """Why ``item`` may not be kept as it is in a pseudonymised export, or None: an identifier
    code (``identifier_code``), data whose leak could cause financial loss
    (``financial_risk``), or a description that identifies the person (``direct_identifier``:
    names, e-mail addresses, phone numbers, addresses; documents, which may show any of them)."""
    if item.identifier_code:
        return "identifier_code"
    if item.financial_risk:
        return "financial_risk"
    if set(item.value_kinds) & (DIRECT_KINDS | {ValueKind.document}):
        return "direct_identifier"
    return None


def problems(
    purpose: Mapping[str, Any], items: Mapping[str, DataItem]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """The problems of one purpose's ``statistics`` and ``pseudonymised`` declarations
    (relative paths and messages); ``items``: the policy's items by id."""
    allowed = [i for i in purpose.get("items") or () if isinstance(i, str)]
    stats = purpose.get("statistics")
    if isinstance(stats, Mapping):
        if purpose.get("statistics_only") is not True:
            yield ("statistics",), "only a statistics_only purpose declares statistics"
        seen: set[str] = set()
        for n, dim in enumerate(stats.get("dimensions") or ()):
            if not isinstance(dim, Mapping):
                continue
            where: tuple[str | int, ...] = ("statistics", "dimensions", n)
            ident, derive, item_id = dim.get("id"), dim.get("derive"), dim.get("item")
            if ident in seen:
                yield (*where, "id"), f"duplicate dimension '{ident}'"
            seen.add(str(ident))
            if derive == "month":
                if item_id is not None:
                    yield (*where, "item"), "a month dimension names no item"
                continue
            if not isinstance(item_id, str):
                yield (*where, "item"), f"a {derive} dimension names the item it derives from"
                continue
            if item_id not in allowed:
                yield (*where, "item"), f"item '{item_id}' is not among the purpose's items"
                continue
            kinds = (
                _KINDS_OF.get(Derive(derive))
                if isinstance(derive, str) and derive in Derive.__members__
                else None
            )
            if kinds and item_id in items and items[item_id].kind not in kinds:
                wanted = ", ".join(sorted(k.value for k in kinds))
                yield (
                    (*where, "item"),
                    f"a {derive} dimension derives from an item of kind {wanted}",
                )
    pseudo = purpose.get("pseudonymised")
    if isinstance(pseudo, Mapping):
        if purpose.get("statistics_only") is True:
            yield ("pseudonymised",), "a statistics_only purpose cannot be pseudonymised too"
        for field in ("keep", "pseudonymise"):
            for n, item_id in enumerate(pseudo.get(field) or ()):
                where = ("pseudonymised", field, n)
                if item_id not in allowed:
                    yield where, f"item '{item_id}' is not among the purpose's items"
                    continue
                item = items.get(item_id)
                if item is None:
                    continue
                if item.kind is ValueKind.events:
                    yield where, f"item '{item_id}' holds usage events, not one value"
                reason = must_drop(item)
                if field == "keep" and reason is not None:
                    yield where, f"item '{item_id}' must be dropped or pseudonymised ({reason})"
                if field == "pseudonymise" and reason in ("identifier_code", "financial_risk"):
                    yield where, f"item '{item_id}' must be dropped ({reason}, APPI rule 31)"
        both = set(pseudo.get("keep") or ()) & set(pseudo.get("pseudonymise") or ())
        for item_id in sorted(str(i) for i in both):
            yield ("pseudonymised",), f"item '{item_id}' is both kept and pseudonymised"


def published_note(lang: str, purpose: Purpose) -> str:
    """What the published policy adds to a purpose's words: that it uses the data as
    pseudonymised information (APPI 41(4) asks its purpose published), or nothing."""
    if purpose.pseudonymised is None:
        return ""
    return t("en" if lang == "en" else "ja", "policy.purpose_pseudonymised")
