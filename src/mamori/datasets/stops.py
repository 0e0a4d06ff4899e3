"""A granted stop reaching the connected databases: mamori cannot stop a use inside the
operator's own database, so it records, for each dataset whose columns hold a stopped item on
the person's rows (found through the graph, as disclosure finds them), what the host must
stop: an audit entry on the request (``datasets.stop_recorded``) naming the dataset, its
tables and the items, with the rows found (names and counts, never a value). The decision's
notice names those datasets (:mod:`mamori.requests.notices`).

Listed in the built-in parts (:data:`mamori.app.parts.BUILT_IN`); called by the decision of a
usage stop or a stop of third-party provision (:func:`mamori.requests.decisions.apply`), and
by its preview with no actor (then nothing is recorded).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from mamori.datasets import sources, traversal
from mamori.datasets.loader import Loaded
from mamori.store import db

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext

__all__ = ["NAME", "record"]

NAME: Final = "datasets"


def _columns(item: Loaded, stopped: set[str]) -> dict[str, list[str]]:
    """table -> its columns that hold a stopped item (every declared item when none named)."""
    out: dict[str, list[str]] = {}
    for name, table in item.dataset.tables.items():
        found = [c for c, spec in table.columns.items() if not stopped or spec.item in stopped]
        if found:
            out[name] = found
    return out


def _details(
    dataset_id: str, rows: dict[str, int], held: set[str]
) -> dict[str, str | int | bool | None]:
    """The audit entry's details: the dataset, the rows found per table (``rows.<table>``) and
    the stopped items it holds (``item.<id>``): names from the declaration, and counts."""
    out: dict[str, str | int | bool | None] = {"dataset": dataset_id, "rows": sum(rows.values())}
    out.update({f"rows.{t}".replace("$", "-"): n for t, n in sorted(rows.items())})
    out.update({f"item.{i}": True for i in sorted(held)})
    return out


def record(
    ctx: RequestContext,
    subject_id: str,
    items: Sequence[str],
    request_id: str,
    actor: str | None,
) -> list[str]:
    """Record the stop of ``items`` (empty: every item) for the person where the connected
    datasets hold them; the ids of those datasets, in declaration order."""
    stopped = set(items)
    wanted = [
        (item, cols) for item in sources.declared(ctx.settings) if (cols := _columns(item, stopped))
    ]
    if not wanted:
        return []
    with db.read(ctx.engine) as conn:
        seeds = traversal.identities(
            ctx.vault, conn, subject_id, traversal.seed_items([i for i, _ in wanted])
        )
    if not seeds:
        return []
    found: list[tuple[str, dict[str, int], set[str]]] = []
    for item, columns in wanted:
        rows: dict[str, int] = {}
        with sources.connected(item) as connected:
            for page in traversal.walk(connected, seeds):
                if page.node.name in columns and page.rows:
                    rows[page.node.name] = rows.get(page.node.name, 0) + len(page.rows)
        if rows:
            held = {item.dataset.tables[t].columns[c].item for t in rows for c in columns[t]}
            found.append((item.dataset.id, rows, held))
    if actor is not None and found:
        with db.write(ctx.engine) as conn:
            for dataset_id, rows, held in found:
                ctx.audit.append(
                    conn,
                    actor=actor,
                    action="datasets.stop_recorded",
                    targets=[f"request:{request_id}", f"subject:{subject_id}"],
                    details=_details(dataset_id, rows, held),
                )
    return [dataset_id for dataset_id, _, _ in found]
