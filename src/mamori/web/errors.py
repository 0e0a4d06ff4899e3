"""The one table that maps domain errors to HTTP statuses, for every surface, and the answers.

Domain errors carry no status (:mod:`mamori.errors`); this table gives each its status, the
same in the API, the privacy center, the request pages and the admin console. The API answers
``{"error": message, "status": status}``; a page request (``Accept: text/html``) gets the
site's error page, and the center's surfaces show their own problem pages with the same
status (:mod:`mamori.web.center.common`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from mamori.errors import (
    AuthenticationFailed,
    CenterLinkExpired,
    CenterSessionRequired,
    ConfigError,
    Conflict,
    DatabaseUnavailable,
    DatasetStepFailed,
    DatasetUnavailable,
    DownloadUnavailable,
    MamoriError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ReportUnavailable,
    RequestSessionRequired,
    SignInFailed,
    StaffSessionRequired,
    UnsupportedMediaType,
    UserInputError,
    ValueTooLarge,
)
from mamori.web.rendering import error_page, wants_html

__all__ = [
    "allowed_methods",
    "error_response",
    "for_error",
    "headers_for",
    "install",
    "log_server_error",
    "status_for",
]

log = logging.getLogger("mamori.web")

# First match wins: a subclass before its base.
_STATUS: tuple[tuple[type[MamoriError], int], ...] = (
    (AuthenticationFailed, 401),
    (StaffSessionRequired, 401),
    (CenterSessionRequired, 401),
    (RequestSessionRequired, 401),
    (SignInFailed, 401),
    (RateLimited, 429),
    (CenterLinkExpired, 410),
    (DownloadUnavailable, 410),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (ValueTooLarge, 413),
    (UnsupportedMediaType, 415),
    (ConfigError, 500),
    (UserInputError, 400),
    (DatabaseUnavailable, 503),
    (DatasetUnavailable, 503),
    (DatasetStepFailed, 502),
    (ReportUnavailable, 503),
)


def status_for(error: MamoriError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


# RFC 6750 section 3: a 401 names the scheme the client must use.
_HEADERS: tuple[tuple[type[MamoriError], Mapping[str, str]], ...] = (
    (AuthenticationFailed, {"WWW-Authenticate": "Bearer"}),
)


def headers_for(error: MamoriError) -> dict[str, str] | None:
    """Headers the response to ``error`` must carry, if any."""
    for kind, headers in _HEADERS:
        if isinstance(error, kind):
            return dict(headers)
    return None


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(app: FastAPI, request: Request) -> str:
    """Every method some route of ``request``'s path answers (RFC 9110 section 15.5.6).

    Starlette's 405 names only the methods of the first route that matched the path, while
    several routes (``GET`` and ``PATCH`` of one path) may share it. Each method is tried
    against the app's routes (:meth:`BaseRoute.matches`, which included routers answer too).
    """
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def log_server_error(request: Request, exc: BaseException) -> None:
    """A 5xx is logged by the error's type and the route, never its text (it may hold data)."""
    log.error("request failed: %s %s: %s", request.method, request.url.path, type(exc))


def error_response(
    request: Request,
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    error: MamoriError | None = None,
) -> Response:
    """The error as the client wants it: the site's error page, or the API's JSON.

    A message that quotes what the client sent may hold what UTF-8 cannot encode (a lone
    surrogate from JSON); it is escaped, so that the answer to bad input is never a 500.
    """
    headers = dict(headers) if headers else None
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    if wants_html(request):
        return error_page(request, status, message, headers=headers, error=error)
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


def for_error(request: Request, exc: MamoriError) -> Response:
    """The answer to a domain error outside the pages that show their own problems."""
    status = status_for(exc)
    if status >= 500:
        log_server_error(request, exc)
    elif status == 403:  # a whole call refused: counted by the error's type, never its text
        from mamori.web.metrics import count_refusals

        count_refusals("call", [type(exc).__name__])
    return error_response(request, status, exc.message, headers=headers_for(exc), error=exc)


def install(app: FastAPI) -> None:
    """Answer domain errors, HTTP errors and invalid requests with :func:`error_response`."""

    @app.exception_handler(MamoriError)
    async def on_mamori_error(request: Request, exc: MamoriError) -> Response:
        return for_error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(app, request)}
        return error_response(request, exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                loc = err.get("loc", ())
                at = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
                reason = str((err.get("ctx") or {}).get("error", "")).strip()
                detail = f": {reason}" if reason else ""
                return error_response(request, 422, f"the body is not valid JSON{at}{detail}")
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg"))
        return error_response(request, 422, "; ".join(str(p) for p in parts) or "invalid request")
