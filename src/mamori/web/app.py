"""The ASGI application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamori import __version__
from mamori.app import Runtime, open_runtime
from mamori.config import Settings, load_settings
from mamori.tasks.background import start_background
from mamori.web import access_log, errors, metrics
from mamori.web.admin import alerts as admin_alerts
from mamori.web.admin import audit as admin_audit
from mamori.web.admin import console as admin_console
from mamori.web.admin import contractors as admin_contractors
from mamori.web.admin import incident_report as admin_incident_report
from mamori.web.admin import incidents as admin_incidents
from mamori.web.admin import outbox as admin_outbox
from mamori.web.admin import provisions as admin_provisions
from mamori.web.admin import requests as admin_requests
from mamori.web.admin import statistics as admin_statistics
from mamori.web.admin import training as admin_training
from mamori.web.admin import webhooks as admin_webhooks
from mamori.web.api import changes as api_changes
from mamori.web.api import consent as api_consent
from mamori.web.api import document as api_document
from mamori.web.api import policy as api_policy
from mamori.web.api import provisions as api_provisions
from mamori.web.api import requests as api_requests
from mamori.web.api import statistics as api_statistics
from mamori.web.api import vault as api_vault
from mamori.web.body_limit import BodyLimit, api_body_limit
from mamori.web.center import changes as center_changes
from mamori.web.center import cookies as center_cookies
from mamori.web.center import home as center_home
from mamori.web.center import provisions as center_provisions
from mamori.web.center import requests as center_requests
from mamori.web.public import banner, pages, probes
from mamori.web.public import mail as mail_pages

__all__ = ["create_app", "create_app_from_env"]

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


_HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
"""Sent on every response over https (RFC 6797; two years, as the HSTS preload list asks):
directly, or behind a proxy that says so with ``X-Forwarded-Proto: https`` (which uvicorn
trusts from the addresses in ``FORWARDED_ALLOW_IPS``). Never over plain http, where it means
nothing and would be spoofable."""


def _raw(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())


_RAW_HEADERS = _raw(_SECURITY_HEADERS)
_RAW_HEADERS_HTTPS = _raw({**_SECURITY_HEADERS, _HSTS[0]: _HSTS[1]})


class SecurityHeaders:
    """Adds :data:`_SECURITY_HEADERS` to every HTTP response that does not set them itself,
    and :data:`_HSTS` to every response over https.

    Plain ASGI rather than ``@app.middleware("http")`` (Starlette's ``BaseHTTPMiddleware``),
    which costs an extra task and memory streams on every request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        wanted = _RAW_HEADERS_HTTPS if scope.get("scheme") == "https" else _RAW_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Raw (name, value) pairs, encoded once: a MutableHeaders and a scan of the list
                # per header cost more than the rest of a bare request's middleware.
                raw = list(message.get("headers", ()))
                present = {name.lower() for name, _ in raw}
                raw.extend(pair for pair in wanted if pair[0] not in present)
                message["headers"] = raw
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
        # Operation ids are the route functions' names (read_items, file_request, ...): short
        # and stable for clients generated from the document. They are unique (a test checks).
        generate_unique_id_function=lambda route: route.name,
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
    # Each surface's routers: the REST API, the public pages, the privacy center, the console.
    # A request is matched against the routes in this order, one by one (about 0.1 ms to pass
    # every page route on the way to the vault's, on this machine's 2 cores): the routes the
    # host service calls most come first. No two routers share a path, so the order changes
    # nothing else.
    for router in (
        api_vault.router,
        api_consent.router,
        pages.router,
        probes.router,
        banner.router,
        mail_pages.router,
        api_policy.router,
        api_changes.router,
        api_requests.router,
        api_provisions.router,
        api_statistics.router,
        center_home.router,
        center_cookies.router,
        center_changes.router,
        center_provisions.router,
        center_requests.router,
        admin_requests.router,
        admin_contractors.router,
        admin_incident_report.router,
        admin_incidents.router,
        admin_alerts.router,
        admin_training.router,
        admin_statistics.router,
        admin_webhooks.router,
        admin_outbox.router,
        admin_provisions.router,
        admin_audit.router,
    ):
        app.include_router(router)
    admin_console.install(app)  # the admin console: its routers, sign-in redirect, no-store

    app.add_middleware(BodyLimit, limit=api_body_limit(settings.max_document_bytes))
    app.add_middleware(SecurityHeaders)
    observe = settings.metrics_token is not None
    log_json = settings.log_format == "json"
    if observe or log_json:  # outermost: times everything; absent, it costs nothing
        app.add_middleware(metrics.RequestObserver, metrics=observe, log=log_json)
    errors.install(app)
    api_document.install(app)

    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory mamori.web.app:create_app_from_env` (several workers)."""
    return create_app(load_settings())
