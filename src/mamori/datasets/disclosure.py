"""The person's rows in the connected databases as a section of their disclosure package
(``connected_datasets``): one row per value, named by dataset, table, the row's key and the
policy's data item the column holds, streamed page by page.

Listed in the built-in parts (:data:`mamori.app.parts.BUILT_IN`); bound to the running
application (:meth:`mamori.requests.sections.Section.bound`), which it needs for the vault's
values of the person's identities and for the settings naming each database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Final

from mamori.datasets import sources, traversal
from mamori.store.db import Connection

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext
    from mamori.requests.sections import SectionRows

__all__ = ["SECTION", "rows_of"]

SECTION: Final = "connected_datasets"


def rows_of(ctx: RequestContext) -> SectionRows:
    """The section's rows for ``ctx``'s datasets (none declared: no rows)."""

    def rows(conn: Connection, subject_id: str) -> Iterator[Mapping[str, object]]:
        loaded = sources.declared(ctx.settings)
        if not loaded:
            return
        seeds = traversal.identities(ctx.vault, conn, subject_id, traversal.seed_items(loaded))
        if not any(seeds.values()):
            return
        for item in loaded:
            with sources.connected(item) as connected:
                for page in traversal.walk(connected, seeds):
                    declared = page.node.table.columns
                    for row in page.rows:
                        key = "/".join(str(v) for v in page.key(row))
                        for column, value in page.values(row).items():
                            spec = declared.get(column)
                            if spec is None:
                                continue
                            yield {
                                "dataset": item.dataset.id,
                                "table": page.node.name,
                                "row": key,
                                "item": spec.item,
                                "value": value if value is None else _plain(value),
                            }

    return rows


def _plain(value: object) -> object:
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, bytes):
        return value.hex()
    return value if hasattr(value, "isoformat") else str(value)
