"""The second factor in the admin console through the ASGI client: enrolment after the
password, the code page, replays, recovery codes, pending sign-ins that end, lockout,
re-authentication before sensitive actions, the setting off, resets, and the first account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.staff import SecondFactors, totp
from mamori.staff.permissions import Permission
from mamori.store import db, tables
from mamori.web.admin.auth import StaffUser, need_recent
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import (
    PASSWORD,
    admin_client,
    create_staff,
    csrf_token,
    directory,
    enrol,
    form_token,
    totp_code,
    totp_secret,
)

_SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')
_CODES = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


recent_probe = APIRouter()


@recent_probe.get("/admin/test-recent")
def _recent_page(user: Annotated[StaffUser, Depends(need_recent(Permission.console_view))]) -> str:
    """A page guarded like an export will be: a recent proof needed."""
    return "fresh"


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()


def _client(runtime: Runtime) -> TestClient:
    app = create_app(runtime=runtime)
    app.include_router(recent_probe)
    client = TestClient(app, follow_redirects=False)
    client.headers.update({"Accept": "text/html", "Accept-Language": "ja"})
    return client


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with _client(runtime) as client:
        yield client


def _password(client: TestClient, login: str, password: str = PASSWORD, **extra: str):
    token = form_token(client.get("/admin/login").text)
    return client.post(
        "/admin/login", data={"login": login, "password": password, "csrf_token": token, **extra}
    )


def _code_step(client: TestClient, code: str, *, token: str | None = None):
    page = client.get("/admin/login/code")
    assert page.status_code == 200, page.text
    return client.post(
        "/admin/login/code", data={"code": code, "csrf_token": token or form_token(page.text)}
    )


def _count(runtime: Runtime, table: sa.Table) -> int:
    with db.read(runtime.engine) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _actions(runtime: Runtime) -> list[tuple[str, str]]:
    with db.read(runtime.engine) as conn:
        rows = conn.execute(
            sa.select(tables.audit_entries.c.actor, tables.audit_entries.c.action).order_by(
                tables.audit_entries.c.seq
            )
        ).all()
    return [(r.actor, r.action) for r in rows]


def test_an_admin_without_an_authenticator_enrols_after_the_password(
    client: TestClient, runtime: Runtime
) -> None:
    staff_id = create_staff(runtime, "boss", PASSWORD, "manager", totp=False)
    answer = _password(client, "boss", next="/admin/staff")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login/enrol")
    assert "mamori_admin=" not in answer.headers.get("set-cookie", "")
    assert _count(runtime, tables.staff_sessions) == 0  # a pending sign-in, not a session
    assert client.get("/admin").status_code == 303  # no other page until enrolled
    page = client.get(answer.headers["location"])
    assert page.status_code == 200
    assert "<svg" in page.text and "二段階認証の設定" in page.text and "<script" not in page.text
    shown = _SECRET.search(page.text)
    assert shown is not None
    secret = shown[1].replace(" ", "")
    wrong = client.post(
        "/admin/login/enrol",
        data={"code": "000000", "csrf_token": form_token(page.text), "next": "/admin/staff"},
    )
    assert wrong.status_code == 400 and "コードが違う" in wrong.text
    assert _SECRET.search(wrong.text)[1].replace(" ", "") == secret  # type: ignore[index]
    code = totp.code_at(secret, totp.step_at(runtime.clock.now()))
    done = client.post(
        "/admin/login/enrol",
        data={"code": code, "csrf_token": form_token(wrong.text), "next": "/admin/staff"},
    )
    assert done.status_code == 200
    codes = _CODES.findall(done.text)
    assert len(codes) == 10 and 'href="/admin/staff"' in done.text
    assert "mamori_admin=" in done.headers.get("set-cookie", "")
    assert client.get("/admin/staff").status_code == 200
    assert SecondFactors(directory(runtime)).status(staff_id).enrolled
    assert (f"staff:{staff_id}", "staff.totp_enrol") in _actions(runtime)


def test_sign_in_with_a_code_wrong_malformed_and_replayed(
    client: TestClient, runtime: Runtime
) -> None:
    create_staff(runtime, "boss", PASSWORD, "manager")
    answer = _password(client, "boss")
    assert answer.headers["location"].startswith("/admin/login/code")
    for bad in ("000000", "12345", "<script>", ""):  # 4: the 5th would lock
        refused = _code_step(client, bad)
        assert refused.status_code == 401, bad
        assert "コードが違う" in refused.text
    code = totp_code(runtime, directory(runtime).find("boss").id, totp_secret("boss"))
    assert _code_step(client, code).status_code == 303
    assert client.get("/admin").status_code == 200
    client.cookies.clear()
    _password(client, "boss")
    replay = _code_step(client, code)
    assert replay.status_code == 401  # the same code a second time


def test_the_code_step_needs_its_csrf_token_and_a_pending_sign_in(
    client: TestClient, runtime: Runtime
) -> None:
    create_staff(runtime, "boss", PASSWORD, "manager")
    page = client.get("/admin/login/code")
    assert page.status_code == 303 and page.headers["location"].startswith("/admin/login")
    _password(client, "boss")
    code = totp_code(runtime, directory(runtime).find("boss").id, totp_secret("boss"))
    forged = _code_step(client, code, token="forged")
    assert forged.status_code == 403
    assert _count(runtime, tables.staff_sessions) == 0
    client.cookies.delete("mamori_admin_pending", path="/admin")
    page = client.post("/admin/login/code", data={"code": code, "csrf_token": "x"})
    assert page.status_code in (303, 403)


def test_a_pending_sign_in_that_took_too_long_starts_again(
    client: TestClient, runtime: Runtime, clock: ManualClock
) -> None:
    create_staff(runtime, "boss", PASSWORD, "manager")
    _password(client, "boss")
    page = client.get("/admin/login/code")
    clock.advance(minutes=6)
    code = totp_code(runtime, directory(runtime).find("boss").id, totp_secret("boss"))
    answer = client.post(
        "/admin/login/code", data={"code": code, "csrf_token": form_token(page.text)}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login?problem=expired"
    again = client.get(answer.headers["location"])
    assert "時間が切れました" in again.text
    assert _count(runtime, tables.staff_sessions) == 0


def test_a_recovery_code_signs_in_once(client: TestClient, runtime: Runtime) -> None:
    staff_id = create_staff(runtime, "boss", PASSWORD, "manager", totp=False)
    codes = enrol(runtime, staff_id, totp_secret("boss"))
    _password(client, "boss")
    assert _code_step(client, codes[3]).status_code == 303
    client.cookies.clear()
    _password(client, "boss")
    assert _code_step(client, codes[3]).status_code == 401
    assert (f"staff:{staff_id}", "staff.recovery_code_used") in _actions(runtime)


def test_wrong_codes_lock_the_login(client: TestClient, runtime: Runtime) -> None:
    create_staff(runtime, "boss", PASSWORD, "manager")
    _password(client, "boss")
    for _ in range(5):
        assert _code_step(client, "000000").status_code == 401
    code = totp_code(runtime, directory(runtime).find("boss").id, totp_secret("boss"))
    locked = _code_step(client, code)
    assert locked.status_code == 429 and "retry-after" in locked.headers
    assert _password(client, "boss").status_code == 429


def test_sensitive_actions_ask_for_the_code_again(
    client: TestClient, runtime: Runtime, clock: ManualClock
) -> None:
    staff_id = create_staff(runtime, "boss", PASSWORD, "manager")
    admin_client(client, "boss", PASSWORD)
    token = csrf_token(client)
    assert client.get("/admin/test-recent").status_code == 200
    clock.advance(minutes=11)
    accounts = _count(runtime, tables.staff_accounts)
    form = {
        "login": "taro", "display_name": "太郎", "role": "viewer", "password": PASSWORD,
        "password_again": PASSWORD, "csrf_token": token,
    }  # fmt: skip
    refused = client.post(
        "/admin/staff", data=form, headers={"Referer": "http://testserver/admin/staff"}
    )
    assert refused.status_code == 403
    assert "本人確認" in refused.text and "もう一度フォームを送信" in refused.text
    assert 'name="next" value="/admin/staff"' in refused.text
    assert _count(runtime, tables.staff_accounts) == accounts  # nothing changed
    api = client.post("/admin/staff", data=form, headers={"Accept": "application/json"})
    assert api.status_code == 403 and api.json()["reauth"] == "/admin/reauth"
    page = client.get("/admin/test-recent")
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/reauth?next=/admin/test-recent"
    reauth = client.get(page.headers["location"])
    assert reauth.status_code == 200 and 'name="code"' in reauth.text
    wrong = client.post(
        "/admin/reauth", data={"code": "000000", "csrf_token": token, "next": "/admin/test-recent"}
    )
    assert wrong.status_code == 400
    code = totp_code(runtime, staff_id, totp_secret("boss"))
    ok = client.post(
        "/admin/reauth", data={"code": code, "csrf_token": token, "next": "/admin/test-recent"}
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/admin/test-recent"
    assert client.get("/admin/test-recent").status_code == 200
    assert client.post("/admin/staff", data=form).status_code == 303
    assert (f"staff:{staff_id}", "staff.reauth") in _actions(runtime)
    assert (f"staff:{staff_id}", "staff.create") in _actions(runtime)


def test_with_the_setting_off_enrolment_is_offered_on_the_account_page(
    tmp_path: Path, database_url: str
) -> None:
    runtime = open_test_runtime(tmp_path, database_url, admin_require_totp=False)
    try:
        staff_id = create_staff(runtime, "hanako", PASSWORD, "handler", totp=False)
        with _client(runtime) as client:
            answer = _password(client, "hanako")
            assert answer.status_code == 303 and answer.headers["location"] == "/admin"
            account = client.get("/admin/account")
            assert account.status_code == 200 and "まだ登録されていません" in account.text
            token = form_token(account.text)
            page = client.post("/admin/account/totp", data={"csrf_token": token})
            assert page.status_code == 200 and "<svg" in page.text
            secret = _SECRET.search(page.text)[1].replace(" ", "")  # type: ignore[index]
            assert (
                client.post(
                    "/admin/account/totp/confirm", data={"code": "000000", "csrf_token": token}
                ).status_code
                == 400
            )
            code = totp.code_at(secret, totp.step_at(runtime.clock.now()))
            done = client.post(
                "/admin/account/totp/confirm", data={"code": code, "csrf_token": token}
            )
            assert done.status_code == 200 and len(_CODES.findall(done.text)) == 10
            fresh = client.post("/admin/account/recovery-codes", data={"csrf_token": token})
            assert fresh.status_code == 200 and len(_CODES.findall(fresh.text)) == 10
            assert "認証アプリが登録されています" in client.get("/admin/account").text
            client.cookies.clear()
            answer = _password(client, "hanako")
            assert answer.headers["location"].startswith("/admin/login/code")
        assert SecondFactors(directory(runtime)).status(staff_id).recovery_left == 10
    finally:
        runtime.close()


def test_a_manager_resets_another_members_authenticator(
    client: TestClient, runtime: Runtime
) -> None:
    boss = create_staff(runtime, "boss", PASSWORD, "manager")
    taro = create_staff(runtime, "taro", PASSWORD, "viewer")
    with _client(runtime) as other:
        admin_client(other, "taro", PASSWORD)
        admin_client(client, "boss", PASSWORD)
        staff_page = client.get("/admin/staff")
        assert f"/admin/staff/{taro}/reset-totp" in staff_page.text
        assert f"/admin/staff/{boss}/reset-totp" not in staff_page.text  # not one's own
        token = form_token(staff_page.text)
        done = client.post(f"/admin/staff/{taro}/reset-totp", data={"csrf_token": token})
        assert done.status_code == 303 and done.headers["location"].endswith("done=totp_reset")
        assert other.get("/admin").status_code == 303  # taro's session ended
        again = client.post(f"/admin/staff/{taro}/reset-totp", data={"csrf_token": token})
        assert again.status_code == 409
        assert (
            client.post("/admin/staff/st_nobody/reset-totp", data={"csrf_token": token}).status_code
            == 404
        )
    assert (f"staff:{boss}", "staff.totp_reset") in _actions(runtime)
    assert not SecondFactors(directory(runtime)).status(taro).enrolled


def test_the_sign_in_page_says_how_to_make_the_first_account(
    client: TestClient, runtime: Runtime
) -> None:
    page = client.get("/admin/login")
    assert "職員アカウントがまだありません" in page.text
    assert "mamori staff create" in page.text and "--role manager" in page.text
    en = client.get("/admin/login?lang=en")
    assert "There is no staff account yet" in en.text
    create_staff(runtime, "boss", PASSWORD, "manager")
    assert "mamori staff create" not in client.get("/admin/login").text


def test_without_an_authenticator_re_authentication_asks_for_the_password(
    tmp_path: Path, database_url: str
) -> None:
    clock = ManualClock()
    runtime = open_test_runtime(tmp_path, database_url, clock=clock, admin_require_totp=False)
    try:
        boss = create_staff(runtime, "boss", PASSWORD, "manager", totp=False)
        with _client(runtime) as client:
            assert _password(client, "boss").headers["location"] == "/admin"
            token = csrf_token(client)
            clock.advance(minutes=11)
            refused = client.post(
                f"/admin/staff/{boss}/role", data={"role": "lead", "csrf_token": token}
            )
            assert refused.status_code == 403 and 'name="password"' in refused.text
            wrong = client.post(
                "/admin/reauth", data={"password": "wrong password!", "csrf_token": token}
            )
            assert wrong.status_code == 400 and "パスワードが違います" in wrong.text
            ok = client.post("/admin/reauth", data={"password": PASSWORD, "csrf_token": token})
            assert ok.status_code == 303 and ok.headers["location"] == "/admin/account?done=reauth"
            assert "本人確認しました" in client.get(ok.headers["location"]).text
            # the last manager cannot become a lead: refused for that reason, not for re-auth
            again = client.post(
                f"/admin/staff/{boss}/role", data={"role": "lead", "csrf_token": token}
            )
            assert again.status_code == 409
    finally:
        runtime.close()
