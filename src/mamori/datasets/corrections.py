"""A granted correction reaching the connected databases: every column declared to hold a
corrected item is updated on the person's rows (found through the graph, by the values the
vault holds before its own write), one transaction per database, audited
(``datasets.correct``: counts only).

Listed in the built-in parts (:data:`mamori.app.parts.BUILT_IN`); called by the decision
(:func:`mamori.requests.decisions.apply`) before the vault writes the new values. A database
that refuses stops the decision with :class:`~mamori.errors.DatasetStepFailed`, before the
vault changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from mamori.datasets import sources, storage, traversal
from mamori.errors import DatasetStepFailed
from mamori.store import db
from mamori.store.db import SQLAlchemyError

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext

__all__ = ["NAME", "correct"]

NAME: Final = "datasets"
BATCH: Final = 500


def correct(ctx: RequestContext, subject_id: str, values: Mapping[str, Any], actor: str) -> int:
    """Write ``values`` (item id -> new value) into the person's rows; the rows changed."""
    scalars = {k: v for k, v in values.items() if isinstance(v, (str, int, float)) or v is None}
    loaded = sources.declared(ctx.settings)
    wanted = [
        item
        for item in loaded
        if any(c.item in scalars for t in item.dataset.tables.values() for c in t.columns.values())
    ]
    if not wanted:
        return 0
    with db.read(ctx.engine) as conn:
        seeds = traversal.identities(ctx.vault, conn, subject_id, traversal.seed_items(loaded))
    changed = 0
    tables = 0
    for item in wanted:
        with sources.connected(item) as connected:
            keys: dict[str, list[tuple[Any, ...]]] = {}
            for page in traversal.walk(connected, seeds):
                keys.setdefault(page.node.name, []).extend(page.key(r) for r in page.rows)
            try:
                with connected.engine.begin() as conn:
                    for name, found in keys.items():
                        node = connected.graph.nodes[name]
                        new = {
                            column: scalars[spec.item]
                            for column, spec in node.table.columns.items()
                            if spec.item in scalars
                        }
                        if not new:
                            continue
                        tables += 1
                        for start in range(0, len(found), BATCH):
                            changed += storage.update_by_keys(
                                conn,
                                item.dataset.namespace,
                                name,
                                node.primary_key,
                                found[start : start + BATCH],
                                new,
                            )
            except SQLAlchemyError as exc:
                raise DatasetStepFailed(
                    f"dataset {item.dataset.id}: the correction was refused "
                    f"({type(getattr(exc, 'orig', None) or exc).__name__}); nothing was changed"
                ) from None
    with db.write(ctx.engine) as conn:
        ctx.audit.append(
            conn,
            actor=actor,
            action="datasets.correct",
            targets=[f"subject:{subject_id}"],
            details={"rows": changed, "tables": tables, "items": len(scalars)},
        )
    return changed
