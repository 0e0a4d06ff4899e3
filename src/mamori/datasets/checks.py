"""``mamori datasets check``: every problem of the declared datasets, in the policy's style
(``file:line: path: message``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mamori.datasets import graph as graphs
from mamori.datasets import sources
from mamori.errors import DatasetError, Problem

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext

__all__ = ["check"]


def check(ctx: RequestContext, where: Path | None = None) -> list[Problem]:
    """Every problem of the declared datasets: the files' own (unknown items, shapes), then
    each database's (missing tables and columns, unreachable tables, erasures that would break
    a constraint). Empty: all is well."""
    try:
        loaded = sources.declared(ctx.settings, ctx.vault.rules().items, where)
    except DatasetError as exc:
        return list(exc.problems)
    found: list[Problem] = []
    for item in loaded:
        with sources.connected(item) as connected:
            found.extend(item.problem(p, m) for p, m in graphs.problems(connected.graph))
    return found
