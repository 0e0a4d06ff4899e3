"""Statistics over the REST API: ``POST /api/v1/statistics`` counts people or usage events of a
statistics-only purpose, grouped by up to two of its declared dimensions, with small cells
suppressed (:mod:`mamori.statistics`). It needs a key with ``read`` granted the purpose; a
query whose people differ from an earlier query's by fewer than k is refused with 409."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from mamori.statistics import queries
from mamori.statistics.disclosure import Entry
from mamori.vault.access import Caller
from mamori.vault.service_keys import ServiceAccount
from mamori.web import deps
from mamori.web.api.auth import require_operation
from mamori.web.api.document import errors
from mamori.web.api.schemas import StatisticsEntryOut, StatisticsIn, StatisticsOut

__all__ = ["answer_out", "router"]

router = APIRouter(prefix="/api/v1", tags=["statistics"], responses=errors(401, 403, 422, 503))

ReadKey = Annotated[ServiceAccount, Depends(require_operation("read"))]


def _entry(entry: Entry) -> StatisticsEntryOut:
    hidden = entry.suppressed is not None
    return StatisticsEntryOut(
        groups=entry.groups,
        value=None if hidden else entry.value,
        sum=None if hidden else entry.sum,
        mean=None if hidden else entry.mean,
        suppressed=entry.suppressed,
    )


def answer_out(answer: queries.Answer) -> StatisticsOut:
    """The API's form of an answer (suppressed values left out)."""
    query = answer.query
    return StatisticsOut(
        query=answer.id,
        purpose=query.purpose,
        measure=query.measure,
        by=list(query.by),
        since=query.since,
        until=query.until,
        min_cell=answer.min_cell,
        cells=[_entry(e) for e in answer.table.cells],
        totals=[_entry(e) for e in answer.table.totals],
        suppressed=answer.table.suppressed,
    )


@router.post(
    "/statistics",
    response_model=StatisticsOut,
    summary="Count people or events of a statistics-only purpose, small cells suppressed",
    responses=errors(400, 409, 413),
)
async def statistics(body: StatisticsIn, account: ReadKey, request: Request) -> StatisticsOut:
    vault = deps.runtime(request).vault

    def run() -> StatisticsOut:
        query = queries.parse(
            vault.rules(),
            body.purpose,
            measure=body.measure,
            by=body.by,
            since=body.since,
            until=body.until,
        )
        return answer_out(queries.run(vault, Caller.of_key(account), query))

    return await run_in_threadpool(run)
