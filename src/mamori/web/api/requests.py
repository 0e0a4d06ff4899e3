"""People's requests over the REST API, for the host service: /api/v1/requests.

The host service files a request for one of its signed-in users (a subject it knows), so the
request counts as verified (``verified_by: service``), like a privacy-center session. It then
reads the request's status to show it in its own pages. Staff decide in the admin console.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from mamori.app import Runtime
from mamori.requests import service
from mamori.requests.intake import check_intake
from mamori.requests.model import Request as DataRequest
from mamori.requests.model import Verification
from mamori.vault.service_keys import ServiceAccount
from mamori.web import deps
from mamori.web.api.auth import require_operation
from mamori.web.api.document import errors
from mamori.web.api.schemas import RequestIn, RequestOut

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1/requests", tags=["requests"], responses=errors(401, 403, 422, 503)
)

WriteKey = Annotated[ServiceAccount, Depends(require_operation("write"))]
ReadKey = Annotated[ServiceAccount, Depends(require_operation("read"))]
RequestId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The request's id.")]


def _status(found: DataRequest) -> RequestOut:
    return RequestOut(
        id=found.id,
        type=found.type.value,
        status=found.status.value,
        outcome=found.outcome.value if found.outcome else None,
        subject_id=found.subject_id,
        verified_by=found.verified_by.value if found.verified_by else None,
        created_at=found.created_at,
        due_at=found.due_at,
        decided_at=found.decided_at,
        notified_at=found.notified_at,
        closed_at=found.closed_at,
        fee=found.fee,
    )


def _file(runtime: Runtime, body: RequestIn, account: ServiceAccount, base: str) -> DataRequest:
    subject = runtime.vault.get_subject(body.subject_id)  # 404 for an unknown person
    intake = check_intake(
        runtime.vault.rules(),
        type=body.type,
        subject_type=subject.type,  # only items held for people like them
        language=body.language,
        email=body.email,
        items=body.items,
        ground=body.ground,
        delivery=body.delivery,
        message=body.message,
        corrections=body.corrections,
        postal_address=body.postal_address,
    )
    return service.file_request(
        runtime,
        intake,
        actor=account.actor_id,
        client=f"key:{account.id}",
        base_url=base,
        subject_id=body.subject_id,
        verified_by=Verification.service,
    )


_STATUS_LINK = {
    "request_status": {
        "operationId": "request_status",
        "parameters": {"request_id": "$response.body#/id"},
        "description": "The request just filed.",
    }
}


@router.post(
    "",
    status_code=201,
    response_model=RequestOut,
    responses={201: {"links": _STATUS_LINK}, **errors(400, 404, 409, 413)},
)
async def file_request(request: Request, body: RequestIn, account: WriteKey) -> RequestOut:
    """File a request for a person the host service has signed in (verified by the service)."""
    runtime = deps.runtime(request)
    base = runtime.settings.public_url or str(request.base_url).rstrip("/")
    found = await run_in_threadpool(_file, runtime, body, account, base)
    return _status(found)


def _read(runtime: Runtime, request_id: str, account: ServiceAccount) -> DataRequest:
    from mamori.requests import store
    from mamori.store import db

    with db.write(runtime.engine) as conn:
        found = store.load(conn, request_id)
        store.audit(runtime.audit, conn, found, "status", actor=account.actor_id)
    return found


@router.get("/{request_id}", response_model=RequestOut, responses=errors(404))
async def request_status(request: Request, request_id: RequestId, account: ReadKey) -> RequestOut:
    """The status of a request: its step, outcome and dates (no personal details)."""
    found = await run_in_threadpool(_read, deps.runtime(request), request_id, account)
    return _status(found)
