"""What operators' machines ask: readiness (``/readyz``) and Prometheus metrics (``/metrics``).

Liveness stays at ``/healthz``. ``/readyz`` answers 200 only when this process can serve: the
database answers, its migrations are at the head this mamori ships and the master key is
loaded; otherwise 503 with the check that failed, so a load balancer stops sending requests
without the process being restarted. ``/metrics`` answers 404 unless MAMORI_METRICS_TOKEN is
set, exactly as a path that does not exist (the API's JSON error, or the error page), and then
only to ``Authorization: Bearer <token>`` (compared in constant time; otherwise 401, the API's
JSON error with ``WWW-Authenticate``).
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mamori.app.status import readiness
from mamori.web import deps, metrics
from mamori.web.errors import error_response

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    found = readiness(deps.runtime(request))
    return JSONResponse(
        {"status": "ready" if found.ready else "unavailable", "checks": found.checks},
        200 if found.ready else 503,
        headers={"Cache-Control": "no-store"},
    )


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@router.get("/metrics")
async def metrics_page(request: Request) -> Response:
    settings = deps.settings(request)
    if settings.metrics_token is None:
        raise StarletteHTTPException(404)  # answered as any path that does not exist
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    expected = _digest(settings.metrics_token.get_secret_value())
    if scheme.lower() != "bearer" or not hmac.compare_digest(_digest(token.strip()), expected):
        return error_response(
            request,
            401,
            "send the metrics token as Authorization: Bearer <MAMORI_METRICS_TOKEN>",
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    state = request.app.state
    found = getattr(state, "metrics_registry", None)
    if found is None:
        found = state.metrics_registry = metrics.registry(deps.runtime(request))
    body = await run_in_threadpool(generate_latest, found)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
