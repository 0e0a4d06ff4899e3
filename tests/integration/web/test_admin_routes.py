"""Every route under /admin against every role, found in the app itself.

Each route must name exactly one permission (``need(Permission.X)``); anonymous users are sent
to sign in (or get 401); and, signed in as each role of :mod:`mamori.staff.permissions`, a
route whose permission the role lacks answers 403 and changes nothing in the database, while
one it holds does not refuse. The routes are read from the application at test time, so a
route someone adds later is checked without touching this file. Only the sign-in form and
sign-out are exempt, by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.staff.permissions import PERMISSIONS, Permission, Role
from mamori.store import db, tables
from mamori.web.admin.auth import Need, need
from mamori.web.app import create_app
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import admin_client, create_staff, csrf_token

PASSWORD = "correct horse battery"
SAFE = {"GET", "HEAD", "OPTIONS"}
PUBLIC = {
    ("GET", "/admin/login"),
    ("POST", "/admin/login"),
    ("GET", "/admin/login/code"),
    ("POST", "/admin/login/code"),
    ("GET", "/admin/login/enrol"),
    ("POST", "/admin/login/enrol"),
}
"""Reachable without a session: the sign-in form and its second step (code or enrolment)."""
ANY_ROLE = {("POST", "/admin/logout")}
"""State-changing, and open to every role: signing out."""
Route = tuple[str, str, Permission | None]


def _needs(dependant: Any) -> list[Permission]:
    found = []
    for sub in getattr(dependant, "dependencies", ()):
        if isinstance(sub.call, Need):
            found.append(sub.call.permission)
        found.extend(_needs(sub))
    return found


def admin_routes(app: FastAPI) -> list[Route]:
    """(method, path, the permission it names) of every route of ``app`` under /admin; the
    permission is None when the route names none or more than one."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers
        contexts: list[Any] = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    found = []
    for context in contexts:
        path = getattr(context, "path", None) or ""
        if path != "/admin" and not path.startswith("/admin/"):
            continue
        needs = _needs(getattr(context, "dependant", None))
        permission = needs[0] if len(needs) == 1 else None
        for method in getattr(context, "methods", None) or ():
            if method != "HEAD":
                found.append((method, path, permission))
    return sorted(found, key=lambda r: (r[1], r[0]))


def concrete(path: str) -> str:
    """The path with every parameter filled in (``{id}`` and ``{p:path}`` alike)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def unguarded(routes: list[Route]) -> list[str]:
    return [
        f"{method} {path}: names no single permission"
        for method, path, permission in routes
        if permission is None and (method, path) not in PUBLIC | ANY_ROLE
    ]


def anonymous_problems(client: TestClient, routes: list[Route]) -> list[str]:
    problems = []
    for method, path, _ in routes:
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


def fingerprint(runtime: Runtime) -> dict[str, int]:
    """How many rows each table holds (sessions aside: reading a page may touch one)."""
    with db.read(runtime.engine) as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in tables.metadata.sorted_tables
            if table.name != "staff_sessions"
        }


def role_problems(
    client: TestClient, runtime: Runtime, role: Role, routes: Sequence[Route]
) -> list[str]:
    """Signed in as ``role`` (with a valid CSRF token): a route whose permission the role lacks
    answers 403 and changes nothing; one it holds answers anything but 401 or 403, and a page
    without parameters answers 200."""
    token = csrf_token(client)
    held = PERMISSIONS[role]
    problems = []
    for method, path, permission in routes:
        if permission is None:
            continue
        denied = permission not in held
        before = fingerprint(runtime) if denied else None
        answer = client.request(
            method,
            concrete(path),
            data={"csrf_token": token} if method not in SAFE else None,
            headers={"Accept": "application/json", "X-CSRF-Token": token},
        )
        if denied:
            body = (
                answer.json()
                if answer.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            if answer.status_code != 403 or permission.value not in str(body.get("error", "")):
                problems.append(f"{role} {method} {path}: {answer.status_code}, not 403")
            if fingerprint(runtime) != before:
                problems.append(f"{role} {method} {path}: refused, yet the database changed")
        elif answer.status_code in (401, 403):
            problems.append(f"{role} {method} {path}: refused ({answer.status_code})")
        elif method == "GET" and "{" not in path and answer.status_code != 200:
            problems.append(f"{role} GET {path}: {answer.status_code}, not 200")
    return problems


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    for role in Role:
        create_staff(runtime, role.value, PASSWORD, role.value)
    yield runtime
    runtime.close()


def test_every_admin_route_names_a_permission_and_every_role_gets_what_the_table_says(
    runtime: Runtime,
) -> None:
    app = create_app(runtime=runtime)
    routes = admin_routes(app)
    pairs = {(method, path) for method, path, _ in routes}
    assert ("GET", "/admin") in pairs and ("POST", "/admin/staff") in pairs
    assert pairs >= PUBLIC | ANY_ROLE, "the exemptions must name real routes"
    assert unguarded(routes) == []
    guarding = {p for _, _, p in routes if p is not None}
    # Every permission of the table guards some route: none is declared and forgotten.
    assert guarding == set(Permission), f"guarding no route: {set(Permission) - guarding}"
    with TestClient(app, follow_redirects=False) as client:
        assert anonymous_problems(client, routes) == []
    for role in Role:
        with TestClient(app, follow_redirects=False) as client:
            admin_client(client, role.value, PASSWORD)
            assert role_problems(client, runtime, role, routes) == [], role
            out = client.post("/admin/logout", data={"csrf_token": csrf_token(client)})
            assert out.status_code == 303  # signing out is open to every role


def test_the_menu_shows_each_role_only_what_it_may_open(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    with TestClient(app, follow_redirects=False) as client:
        admin_client(client, "viewer", PASSWORD)
        menu = client.get("/admin").text.split('class="admin-nav"', 1)[1].split("</nav>", 1)[0]
        assert 'href="/admin/requests' in menu
        for hidden in ("/admin/audit", "/admin/staff", "/admin/outbox", "/admin/provisions"):
            assert f'href="{hidden}' not in menu, hidden
    with TestClient(app, follow_redirects=False) as client:
        admin_client(client, "auditor", PASSWORD)
        menu = client.get("/admin").text.split('class="admin-nav"', 1)[1].split("</nav>", 1)[0]
        assert 'href="/admin/audit' in menu and 'href="/admin/provisions' in menu
        assert 'href="/admin/outbox' not in menu  # mail bodies are personal values


def test_a_refused_page_is_the_consoles_own_in_the_members_language(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    with TestClient(app, follow_redirects=False) as client:
        admin_client(client, "viewer", PASSWORD)
        page = client.get("/admin/audit")
        assert page.status_code == 403 and 'class="admin-nav"' in page.text
        assert "あなたの権限(閲覧者)では使えません(必要な権限: audit.view)" in page.text
        english = client.get("/admin/audit?lang=en")
        assert "not open to your role (Viewer)" in english.text
        assert client.get("/admin/audit", headers={"Accept": "application/json"}).json() == {
            "error": "your staff role (viewer) does not allow this: it needs the permission"
            " 'audit.view'",
            "status": 403,
        }


def test_the_checks_catch_an_unguarded_or_wrongly_guarded_route(runtime: Runtime) -> None:
    """The checks above can fail: a route guarded by nothing, and one guarded by a permission
    its body does not enforce are both reported."""
    app = create_app(runtime=runtime)
    extra = APIRouter(prefix="/admin/extra")

    @extra.get("/open")
    def open_page() -> dict[str, str]:
        return {"ok": "yes"}

    @extra.post("/{thing_id}/act", dependencies=[Depends(need(Permission.staff_manage))])
    def act(thing_id: str) -> dict[str, str]:
        return {"acted": thing_id}

    app.include_router(extra)
    routes = [r for r in admin_routes(app) if r[1].startswith("/admin/extra")]
    assert routes == [
        ("GET", "/admin/extra/open", None),
        ("POST", "/admin/extra/{thing_id}/act", Permission.staff_manage),
    ]
    assert unguarded(routes) == ["GET /admin/extra/open: names no single permission"]
    with TestClient(app, follow_redirects=False) as client:
        assert anonymous_problems(client, routes) == [
            "GET /admin/extra/open: 200 without a session, not 401",
            "GET /admin/extra/open: a browser is not sent to sign in",
        ]
    # The walk compares answers with the table: a route that refuses what the table grants is
    # reported, and so is one that grants what the table refuses.
    as_granted = [("POST", "/admin/extra/{thing_id}/act", Permission.console_view)]
    act_open = [("GET", "/admin/extra/open", Permission.staff_manage)]
    with TestClient(app, follow_redirects=False) as client:
        admin_client(client, "viewer", PASSWORD)
        assert role_problems(client, runtime, Role.viewer, as_granted) == [
            "viewer POST /admin/extra/{thing_id}/act: refused (403)"
        ]
        assert role_problems(client, runtime, Role.viewer, act_open) == [
            "viewer GET /admin/extra/open: 200, not 403"
        ]
        real = [("POST", "/admin/extra/{thing_id}/act", Permission.staff_manage)]
        assert role_problems(client, runtime, Role.viewer, real) == []
