"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamori import __version__
from mamori.app import Runtime, open_runtime
from mamori.config import Settings, load_settings
from mamori.errors import MamoriError
from mamori.tasks.background import start_background
from mamori.web import (
    access_log,
    admin,
    admin_outbox,
    admin_requests,
    api,
    api_changes,
    api_requests,
    api_vault,
    center,
    center_changes,
    center_requests,
    consent,
    mail_pages,
    pages,
)
from mamori.web.errors import headers_for, status_for
from mamori.web.rendering import error_page, wants_html

__all__ = ["create_app", "create_app_from_env"]

log = logging.getLogger("mamori.web")

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds :data:`_SECURITY_HEADERS` to every HTTP response that does not set them itself.

    Plain ASGI rather than ``@app.middleware("http")`` (Starlette's ``BaseHTTPMiddleware``),
    which costs an extra task and memory streams on every request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app. With no runtime given, one is opened (and initialised) at startup."""
    settings = settings or (runtime.settings if runtime else load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        app.state.runtime = runtime or open_runtime(settings, actor="system:serve")
        # As many request threads as pooled connections: a thread never waits for a new one.
        to_thread.current_default_thread_limiter().total_tokens = settings.database_pool_size
        # Periodic jobs (the retention purge among them) and mail delivery: a thread here, or
        # the broker (mamori.tasks).
        stop_background = start_background(app.state.runtime)
        try:
            yield
        finally:
            await asyncio.to_thread(stop_background)
            if owned:
                app.state.runtime.close()

    app = FastAPI(
        title="mamori",
        version=__version__,
        description=(
            "mamori publishes a declared privacy policy and enforces it. "
            "This document describes the REST API under /api/v1."
        ),
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads scripts from a CDN; /openapi.json is served instead.
        redoc_url=None,
    )
    app.state.settings = settings
    access_log.install()  # query strings (e-mail look-ups, tokens) never reach the access log
    if runtime is not None:
        app.state.runtime = runtime

    app.mount(
        "/static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="static",
    )
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(api_vault.router)
    app.include_router(center.router)
    app.include_router(consent.router)
    app.include_router(consent.center_router)
    app.include_router(consent.api_router)
    app.include_router(center_changes.router)
    app.include_router(api_changes.router)
    app.include_router(mail_pages.router)
    app.include_router(center_requests.router)
    app.include_router(api_requests.router)
    app.include_router(admin_requests.router)
    app.include_router(admin_outbox.router)
    admin.install(app)  # the admin console: its routers, sign-in redirect, no-store

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(MamoriError)
    async def on_mamori_error(request: Request, exc: MamoriError) -> Response:
        status = status_for(exc)
        if status >= 500:
            log.error("request failed: %s %s: %s", request.method, request.url.path, type(exc))
        return _error(request, status, exc.message, headers=headers_for(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                loc = err.get("loc", ())
                at = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
                reason = str((err.get("ctx") or {}).get("error", "")).strip()
                detail = f": {reason}" if reason else ""
                return _error(request, 422, f"the body is not valid JSON{at}{detail}")
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg"))
        return _error(request, 422, "; ".join(str(p) for p in parts) or "invalid request")

    return app


def _error(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    headers = dict(headers) if headers else None
    if wants_html(request):
        return error_page(request, status, message, headers=headers)
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory mamori.web.app:create_app_from_env` (several workers)."""
    return create_app(load_settings())
