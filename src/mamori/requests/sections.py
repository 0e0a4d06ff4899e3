"""Sections of the disclosure package that other domains contribute (consent receipts,
third-party provision records, ...), listed in the built-in parts (:mod:`mamori.app.parts`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from mamori.store.db import Connection

__all__ = ["PROVISIONS", "Section", "SectionRows", "ordered_sections"]

PROVISIONS: Final = "third_party_provisions"
"""The section every package has (empty until a provision ledger gives it)."""

SectionRows = Callable[[Connection, str], Iterable[Mapping[str, object]]]
"""``rows(conn, subject_id)``: a section's rows for one person, in a read transaction."""


@dataclass(frozen=True)
class Section:
    """A section of every package: ``sections/<name>.csv`` and a key of ``package.json``."""

    name: str
    rows: SectionRows

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum() or not self.name.islower():
            raise ValueError(f"a section name is lower-case letters, digits and '_': {self.name!r}")


def _no_rows(conn: Connection, subject_id: str) -> Iterable[Mapping[str, object]]:
    return ()


def ordered_sections(sections: Iterable[Section]) -> dict[str, SectionRows]:
    """name -> rows of ``sections``, ``third_party_provisions`` first (empty when none gives
    it), then by name; a later section of the same name replaces an earlier one."""
    found: dict[str, SectionRows] = {PROVISIONS: _no_rows}
    for section in sections:
        found[section.name] = section.rows
    names = sorted(found, key=lambda n: (n != PROVISIONS, n))
    return {name: found[name] for name in names}
