"""Every route under /admin, found in the app itself: anonymous users are sent to sign in (or
get 401), and a viewer gets 403 on every state-changing one.

The routes are read from the application at test time, so a route someone adds later is
checked without touching this file. Only the sign-in form and sign-out are exempt, by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.web.admin.auth import require_staff
from mamori.web.app import create_app
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import admin_client, create_staff, csrf_token

PASSWORD = "correct horse battery"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC = {("GET", "/admin/login"), ("POST", "/admin/login")}
"""Reachable without a session: the sign-in form."""
ANY_ROLE = {("POST", "/admin/logout")}
"""State-changing, and open to every role: signing out."""
EXPORTS = {("GET", "/admin/provisions.csv"), ("GET", "/admin/acquisitions.csv")}
"""Reads that take records out of the console: handlers and admins only (403 for a viewer)."""


def admin_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route of ``app`` under /admin."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers
        found = [(r.path, r.methods or set()) for r in app.routes if isinstance(r, APIRoute)]
    else:
        found = [(c.path or "", c.methods or set()) for c in iter_route_contexts(app.routes)]
    return sorted(
        (method, path)
        for path, methods in found
        if path == "/admin" or path.startswith("/admin/")
        for method in methods
        if method != "HEAD"
    )


def concrete(path: str) -> str:
    """The path with every parameter filled in (``{id}`` and ``{p:path}`` alike)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def anonymous_problems(client: TestClient, routes: list[tuple[str, str]]) -> list[str]:
    problems = []
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        url = concrete(path)
        answer = client.request(method, url, headers={"Accept": "application/json"})
        if (method, path) in ANY_ROLE:  # signing out when signed out: back to the sign-in page
            if answer.status_code != 303 or not answer.headers["location"].startswith(
                "/admin/login"
            ):
                problems.append(f"{method} {path}: {answer.status_code} without a session")
            continue
        if answer.status_code != 401 or answer.json().get("status") != 401:
            problems.append(f"{method} {path}: {answer.status_code} without a session, not 401")
        if method == "GET":
            page = client.get(url, headers={"Accept": "text/html"})
            location = page.headers.get("location", "")
            if page.status_code != 303 or not location.startswith("/admin/login?next="):
                problems.append(f"GET {path}: a browser is not sent to sign in")
    return problems


def viewer_problems(
    client: TestClient, runtime: Runtime, routes: list[tuple[str, str]]
) -> list[str]:
    """A viewer, with a valid CSRF token, must get 403 for its role and change nothing."""
    token = csrf_token(client)
    before = runtime.audit.size()
    problems = []
    for method, path in routes:
        if method not in STATE_CHANGING or (method, path) in PUBLIC | ANY_ROLE:
            continue
        answer = client.request(
            method,
            concrete(path),
            data={"csrf_token": token} if method != "DELETE" else None,
            headers={"Accept": "application/json", "X-CSRF-Token": token},
        )
        body = (
            answer.json()
            if answer.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        if answer.status_code != 403 or "staff role" not in str(body.get("error", "")):
            problems.append(f"{method} {path}: a viewer got {answer.status_code}, not 403")
    if runtime.audit.size() != before:
        problems.append("a viewer's request wrote to the audit log")
    return problems


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    create_staff(runtime, "viewer", PASSWORD, "viewer")
    yield runtime
    runtime.close()


def test_every_admin_route_needs_a_session_and_viewers_cannot_act(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    routes = admin_routes(app)
    assert ("GET", "/admin") in routes and ("POST", "/admin/staff") in routes
    assert set(routes) >= PUBLIC | ANY_ROLE | EXPORTS, "the exemptions must name real routes"
    with TestClient(app, follow_redirects=False) as client:
        assert anonymous_problems(client, routes) == []
        admin_client(client, "viewer", PASSWORD)
        assert viewer_problems(client, runtime, routes) == []
        for method, path in routes:  # and a viewer reads every page
            if method == "GET" and "{" not in path and (method, path) not in PUBLIC:
                expected = 403 if (method, path) in EXPORTS else 200
                assert client.get(path).status_code == expected, path
        out = client.post("/admin/logout", data={"csrf_token": csrf_token(client)})
        assert out.status_code == 303  # signing out is open to every role


def test_the_checks_catch_an_unguarded_route(runtime: Runtime) -> None:
    """The checks above can fail: a route guarded by nothing, or by require_staff alone."""
    app = create_app(runtime=runtime)
    extra = APIRouter(prefix="/admin/extra")

    @extra.get("/open")
    def open_page() -> dict[str, str]:
        return {"ok": "yes"}

    @extra.post("/{thing_id}/act")
    def act(thing_id: str, request: Request) -> dict[str, str]:
        require_staff(request)  # signed in, but any role
        return {"acted": thing_id}

    app.include_router(extra)
    routes = [r for r in admin_routes(app) if r[1].startswith("/admin/extra")]
    assert routes == [("GET", "/admin/extra/open"), ("POST", "/admin/extra/{thing_id}/act")]
    with TestClient(app, follow_redirects=False) as client:
        assert anonymous_problems(client, routes) == [
            "GET /admin/extra/open: 200 without a session, not 401",
            "GET /admin/extra/open: a browser is not sent to sign in",
        ]
        admin_client(client, "viewer", PASSWORD)
        assert viewer_problems(client, runtime, routes) == [
            "POST /admin/extra/{thing_id}/act: a viewer got 200, not 403"
        ]
