"""Cookie consent in the REST API: the receipts as JSON Lines (a key with ``read``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from mamori.vault.service_keys import ServiceAccount
from mamori.web.api.auth import require_operation
from mamori.web.api.document import errors
from mamori.web.consent import consent_of

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["consent"])


@router.get(
    "/consent/receipts",
    summary="Every consent receipt, as JSON Lines",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One receipt per line, oldest first.",
            "content": {"application/x-ndjson": {"schema": {"type": "object"}}},
        },
        **errors(401, 403, 422, 503),
    },
)
def export_receipts(
    request: Request,
    account: Annotated[ServiceAccount, Depends(require_operation("read"))],
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> StreamingResponse:
    """Receipts after sequence number ``after``, oldest first, one JSON object per line."""
    receipts = consent_of(request).receipts.export(actor=f"service:{account.id}", after=after)
    first = next(receipts, None)  # the audit entry is written before the response starts

    def lines() -> Iterator[bytes]:
        if first is not None:
            yield orjson.dumps(first.to_json()) + b"\n"
            for receipt in receipts:
                yield orjson.dumps(receipt.to_json()) + b"\n"

    return StreamingResponse(iterate_in_threadpool(lines()), media_type="application/x-ndjson")
