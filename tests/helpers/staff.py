"""Helpers for tests of the admin console: staff accounts, and a client signed in as one.

``create_staff(runtime, login, password, role)`` makes an account (display name ``職員 <login>``)
and returns its id; unless ``totp=False`` it also enrols an authenticator whose secret is
:func:`totp_secret` of the login. ``admin_client(app_or_client, login, password)`` signs a
TestClient in through the real sign-in forms (CSRF cookie and field included): the password,
then the code computed from that secret, or, for an account without an authenticator that the
console takes to enrolment, the enrolment page with the secret it shows. The client then sends
``Accept: text/html`` like a browser. ``csrf_token(client)`` reads the session's token from a
console page, for tests that send forms.

A TOTP code is accepted once, for a step later than the last one accepted. Many sign-ins
within one 30-second step (or under a frozen test clock) would run out of steps in the window,
so :func:`totp_code` takes the next unused step in the window and, when there is none, moves the
account's last used step back, as if the member had waited for the next code.
"""

from __future__ import annotations

import base64
import hashlib
import re

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.staff import SecondFactors, StaffDirectory
from mamori.staff import storage as staff_storage
from mamori.staff import totp as otp
from mamori.store import db, tables

__all__ = [
    "PASSWORD",
    "admin_client",
    "create_staff",
    "csrf_token",
    "directory",
    "enrol",
    "form_token",
    "sign_in_code",
    "totp_code",
    "totp_secret",
]

PASSWORD = "correct horse battery"
"""A password that passes the staff password rules."""

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')


def directory(runtime: Runtime) -> StaffDirectory:
    return StaffDirectory(
        runtime.engine, runtime.audit, runtime.vault.system_keys, clock=runtime.clock
    )


def totp_secret(login: str) -> str:
    """The TOTP secret :func:`create_staff` enrols for ``login`` (32 base32 characters)."""
    digest = hashlib.sha256(f"mamori-test:{login}".encode()).digest()[:20]
    return base64.b32encode(digest).decode("ascii")


def enrol(runtime: Runtime, staff_id: str, secret: str) -> list[str]:
    """Enrol an authenticator with ``secret`` for the account; its recovery codes.

    The confirming code is the one of the step before the current one, which leaves the
    current and the next step for sign-ins.
    """
    factors = SecondFactors(directory(runtime))
    factors.begin(staff_id, secret=secret)
    step = otp.step_at(runtime.clock.now()) - 1
    return factors.confirm(staff_id, otp.code_at(secret, step), actor="test")


def create_staff(
    runtime: Runtime, login: str, password: str, role: str, *, totp: bool = True
) -> str:
    """A new active staff account, with an authenticator (secret :func:`totp_secret`) unless
    ``totp`` is false; its id (``st_...``)."""
    staff_id = directory(runtime).create(login, f"職員 {login}", role, password, actor="test").id
    if totp:
        enrol(runtime, staff_id, totp_secret(login))
    return staff_id


def totp_code(runtime: Runtime, staff_id: str, secret: str) -> str:
    """A code the console will accept now for the account (see the module's description)."""
    current = otp.step_at(runtime.clock.now())
    with db.read(runtime.engine) as conn:
        row = staff_storage.totp_row(conn, staff_id)
    last = row.last_step if row is not None else None
    if last is not None and last >= current + 1:
        with db.write(runtime.engine) as conn:
            conn.execute(
                sa.update(tables.staff_totp)
                .where(tables.staff_totp.c.staff_id == staff_id)
                .values(last_step=current - 2)
            )
        last = current - 2
    step = current - 1 if last is None or last < current - 1 else last + 1
    return otp.code_at(secret, step)


def sign_in_code(runtime: Runtime, login: str) -> str:
    """The code to type on the code page for an account :func:`create_staff` made."""
    return totp_code(runtime, directory(runtime).find(login).id, totp_secret(login))


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
    location = response.headers["location"]
    if location.startswith("/admin/login/code"):
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        staff_id = directory(runtime).find(login).id
        page = client.get(location)
        assert page.status_code == 200, page.text
        response = client.post(
            "/admin/login/code",
            data={
                "code": totp_code(runtime, staff_id, totp_secret(login)),
                "csrf_token": form_token(page.text),
            },
            follow_redirects=False,
        )
        if response.status_code != 303:
            raise AssertionError(f"the code of {login!r} failed with {response.status_code}")
    elif location.startswith("/admin/login/enrol"):
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        page = client.get(location)
        assert page.status_code == 200, page.text
        shown = _SECRET.search(page.text)
        assert shown is not None, "the enrolment page shows no secret"
        secret = shown[1].replace(" ", "")
        step = otp.step_at(runtime.clock.now())
        response = client.post(
            "/admin/login/enrol",
            data={"code": otp.code_at(secret, step), "csrf_token": form_token(page.text)},
            follow_redirects=False,
        )
        if response.status_code != 200:
            raise AssertionError(f"enrolment of {login!r} failed with {response.status_code}")
    return client


def csrf_token(client: TestClient) -> str:
    """The CSRF token of the client's session (from the dashboard's sign-out form)."""
    page = client.get("/admin")
    assert page.status_code == 200, page.status_code
    return form_token(page.text)
