"""Helpers for tests of the admin console: staff accounts, and a client signed in as one.

``create_staff(runtime, login, password, role)`` makes an account (display name ``職員 <login>``)
and returns its id. ``admin_client(app_or_client, login, password)`` signs a TestClient in
through the real sign-in form (CSRF cookie and field included) and returns it; the client then
sends ``Accept: text/html`` like a browser. ``csrf_token(client)`` reads the session's token
from a console page, for tests that send forms.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.staff import StaffDirectory

__all__ = ["PASSWORD", "admin_client", "create_staff", "csrf_token", "directory", "form_token"]

PASSWORD = "correct horse battery"
"""A password that passes the staff password rules."""

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def directory(runtime: Runtime) -> StaffDirectory:
    return StaffDirectory(
        runtime.engine, runtime.audit, runtime.vault.system_keys, clock=runtime.clock
    )


def create_staff(runtime: Runtime, login: str, password: str, role: str) -> str:
    """A new active staff account; its id (``st_...``)."""
    return directory(runtime).create(login, f"職員 {login}", role, password, actor="test").id


def form_token(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    found = _TOKEN.search(html)
    if found is None:
        raise AssertionError("the page has no form with a CSRF token")
    return found[1]


def admin_client(
    app_or_client: FastAPI | TestClient, login: str, password: str, *, lang: str = "ja"
) -> TestClient:
    """A client signed in to the admin console as ``login`` (raises if sign-in fails)."""
    client = (
        app_or_client
        if isinstance(app_or_client, TestClient)
        else TestClient(app_or_client, follow_redirects=False)
    )
    client.headers["Accept"] = "text/html"
    client.headers["Accept-Language"] = lang
    page = client.get("/admin/login")
    assert page.status_code == 200, page.text
    response = client.post(
        "/admin/login",
        data={"login": login, "password": password, "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise AssertionError(f"sign-in as {login!r} failed with {response.status_code}")
    return client


def csrf_token(client: TestClient) -> str:
    """The CSRF token of the client's session (from the dashboard's sign-out form)."""
    page = client.get("/admin")
    assert page.status_code == 200, page.status_code
    return form_token(page.text)
