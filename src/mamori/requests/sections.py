"""Sections of the disclosure package that other domains contribute (consent receipts,
third-party provision records, ...), listed in the built-in parts (:mod:`mamori.app.parts`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from mamori.store.db import Connection

__all__ = ["PROVISIONS", "Section", "SectionRows", "no_rows", "ordered_sections"]

PROVISIONS: Final = "third_party_provisions"
"""The section every package has (empty until a provision ledger gives it)."""

SectionRows = Callable[[Connection, str], Iterable[Mapping[str, object]]]
"""``rows(conn, subject_id)``: a section's rows for one person, in a read transaction."""


@dataclass(frozen=True)
class Section:
    """A section of every package: ``sections/<name>.csv`` and a key of ``package.json``."""

    name: str
    rows: SectionRows
    bind: Callable[[Any], SectionRows] | None = None
    """For a section that needs the running application (the vault, the settings): its rows
    for a :class:`~mamori.requests.context.RequestContext` (not named here: the context names
    this module), in place of ``rows``."""

    def bound(self, ctx: object) -> Section:
        """This section with its rows for ``ctx``."""
        return self if self.bind is None else replace(self, rows=self.bind(ctx), bind=None)

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum() or not self.name.islower():
            raise ValueError(f"a section name is lower-case letters, digits and '_': {self.name!r}")


def no_rows(conn: Connection, subject_id: str) -> Iterable[Mapping[str, object]]:
    return ()


def ordered_sections(sections: Iterable[Section]) -> dict[str, SectionRows]:
    """name -> rows of ``sections``, ``third_party_provisions`` first (empty when none gives
    it), then by name; a later section of the same name replaces an earlier one."""
    found: dict[str, SectionRows] = {PROVISIONS: no_rows}
    for section in sections:
        found[section.name] = section.rows
    names = sorted(found, key=lambda n: (n != PROVISIONS, n))
    return {name: found[name] for name in names}
