"""The admin console through the ASGI client: sign-in, cookies, CSRF, lockout, sign-out, staff
management, the audit log and its verification, languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.store import db, tables
from mamori.web.app import create_app
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import (
    admin_client,
    create_staff,
    csrf_token,
    directory,
    form_token,
    totp_code,
    totp_secret,
)

PASSWORD = "correct horse battery"
FAILED_JA = "ログインIDまたはパスワードが正しくありません。"


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    create_staff(runtime, "boss", PASSWORD, "manager")
    create_staff(runtime, "viewer", PASSWORD, "viewer")
    create_staff(runtime, "auditor", PASSWORD, "auditor")
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        client.headers.update({"Accept": "text/html", "Accept-Language": "ja"})
        yield client


def _try(client: TestClient, login: str, password: str, **extra: str):
    token = form_token(client.get("/admin/login").text)
    return client.post(
        "/admin/login", data={"login": login, "password": password, "csrf_token": token, **extra}
    )


def _sign_in(client: TestClient, login: str, password: str, **extra: str):
    """The password, then the code page it leads to (sending its fields back as they are)."""
    answer = _try(client, login, password, **extra)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/admin/login/code")
    page = client.get(answer.headers["location"])
    fields = dict(re.findall(r'name="(csrf_token|next)" value="([^"]*)"', page.text))
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    staff_id = directory(runtime).find(login).id
    fields["code"] = totp_code(runtime, staff_id, totp_secret(login.lower()))
    return client.post("/admin/login/code", data=fields)


def _alert(html: str) -> str:
    found = re.search(r'role="alert">(.*?)</p>', html, re.S)
    return found[1] if found else ""


def test_a_browser_without_a_session_is_sent_to_sign_in(client: TestClient) -> None:
    page = client.get("/admin/staff?lang=en")
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/login?lang=en&next=/admin/staff%3Flang%3Den"
    api = client.get("/admin/staff", headers={"Accept": "application/json"})
    assert api.status_code == 401
    assert api.json() == {
        "error": "Sign in to the admin console first (at /admin/login).",
        "status": 401,
    }


def test_sign_in_page_japanese_first_and_english(client: TestClient) -> None:
    ja = client.get("/admin/login")
    assert ja.status_code == 200
    assert '<html lang="ja">' in ja.text and "管理コンソールへのログイン" in ja.text
    assert ja.headers["cache-control"] == "no-store"
    assert "script" not in ja.text.lower() and "style=" not in ja.text
    assert "default-src 'self'" in ja.headers["content-security-policy"]
    en = client.get("/admin/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Sign in to the admin console" in en.text
    assert "Sign in to the admin console" in client.get("/admin/login?lang=en").text
    assert client.get("/admin/login?lang=fr").status_code == 400


def test_sign_in_sets_a_strict_session_cookie_and_returns_to_next(client: TestClient) -> None:
    answer = _sign_in(client, "BOSS", PASSWORD, next="/admin/audit?lang=en")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/audit?lang=en"
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("mamori_admin="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/admin" in session
    assert "Secure" not in session  # plain http here; see the https test below
    assert any(c.startswith("mamori_admin_login=") and "Max-Age=0" in c for c in cookies)
    page = client.get("/admin")
    assert page.status_code == 200
    assert "職員 boss" in page.text and "管理者" in page.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/admin", "//evil.example/admin", "/privacy", "/admin\\@x"]
)
def test_next_never_leaves_the_console(client: TestClient, target: str) -> None:
    assert _sign_in(client, "boss", PASSWORD, next=target).headers["location"] == "/admin"


def test_the_cookie_is_secure_when_the_public_url_is_https(
    tmp_path: Path, database_url: str
) -> None:
    runtime = open_test_runtime(tmp_path, database_url, public_url="https://privacy.example.jp")
    try:
        create_staff(runtime, "boss", PASSWORD, "manager")
        app = create_app(runtime=runtime)
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
            assert "Secure" in client.get("/admin/login").headers["set-cookie"]
            answer = _sign_in(client, "boss", PASSWORD)
            session = next(
                c for c in answer.headers.get_list("set-cookie") if c.startswith("mamori_admin=")
            )
            assert "Secure" in session
    finally:
        runtime.close()


def test_the_same_answer_for_unknown_login_and_wrong_password(client: TestClient) -> None:
    wrong = _try(client, "boss", "wrong password!")
    unknown = _try(client, "nobody", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    assert _alert(wrong.text) == _alert(unknown.text) == FAILED_JA
    assert not any(c.startswith("mamori_admin=") for c in wrong.headers.get_list("set-cookie"))


def test_lockout_after_five_failures(client: TestClient, runtime: Runtime) -> None:
    for _ in range(5):
        assert _try(client, "boss", "wrong password!").status_code == 401
    locked = _try(client, "boss", PASSWORD)
    assert locked.status_code == 429
    # Until the oldest failure ages out of the 15-minute window: 900 s from the first wrong
    # guess, less the seconds the five took (argon2 on a busy machine: a few).
    assert 870 <= int(locked.headers["retry-after"]) <= 900
    assert "約15分後" in _alert(locked.text)
    entries = runtime.audit.tail(6)
    assert [e.details.get("result") for e in entries] == ["failed"] * 5 + ["locked"]
    assert all("boss" not in str(e) for e in entries)


def test_the_sign_in_form_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/admin/login")
    answer = client.post(
        "/admin/login", data={"login": "boss", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert "フォームの有効期限が切れました" in answer.text
    client.cookies.clear()
    answer = client.post("/admin/login", data={"login": "boss", "password": PASSWORD})
    assert answer.status_code == 403


def test_sign_out(client: TestClient, runtime: Runtime) -> None:
    admin_client(client, "boss", PASSWORD)
    token = csrf_token(client)
    assert client.post("/admin/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/admin").status_code == 200  # a forged sign-out changes nothing
    out = client.post("/admin/logout?lang=en", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/admin/login?lang=en&signed_out=1"
    assert "You have signed out." in client.get(out.headers["location"]).text
    assert client.get("/admin").status_code == 303
    assert runtime.audit.tail(1)[0].action == "staff.sign_out"


def test_actions_need_the_csrf_token(client: TestClient, runtime: Runtime) -> None:
    admin_client(client, "boss", PASSWORD)
    form = {
        "login": "taro",
        "display_name": "山田 太郎",
        "role": "viewer",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    assert client.post("/admin/staff", data=form).status_code == 403
    assert client.post("/admin/staff", data={**form, "csrf_token": "x" * 43}).status_code == 403
    assert len(directory(runtime).list()) == 3


def test_admins_manage_staff(client: TestClient, runtime: Runtime) -> None:
    admin_client(client, "boss", PASSWORD)
    token = csrf_token(client)
    form = {
        "csrf_token": token,
        "login": "Taro",
        "display_name": "山田 太郎",
        "role": "handler",
        "password": "tooshortpw",
        "password_again": "tooshortpw",
    }
    short = client.post("/admin/staff?lang=en", data=form)
    assert short.status_code == 400
    assert "at least 12 characters" in _alert(short.text)
    assert 'value="Taro"' in short.text and "tooshortpw" not in short.text
    differ = client.post("/admin/staff", data={**form, "password": PASSWORD})
    assert differ.status_code == 400 and "the two passwords differ" in _alert(differ.text)
    form.update(password=PASSWORD, password_again=PASSWORD)
    made = client.post("/admin/staff?lang=en", data=form)
    assert made.status_code == 303
    assert made.headers["location"] == "/admin/staff?lang=en&done=created"
    page = client.get(made.headers["location"])
    assert "The account was created." in page.text and "山田 太郎" in page.text
    assert client.post("/admin/staff", data=form).status_code == 409

    staff = {a.login: a for a in directory(runtime).list()}
    taro, boss = staff["taro"], staff["boss"]
    assert taro.role == "handler"

    def act(staff_id: str, what: str, **data: str):
        return client.post(f"/admin/staff/{staff_id}/{what}", data={"csrf_token": token, **data})

    assert act(taro.id, "role", role="viewer").status_code == 303
    assert act(taro.id, "disable").status_code == 303
    assert not directory(runtime).get(taro.id).active
    last = act(boss.id, "disable")
    assert last.status_code == 409
    assert "last active manager" in _alert(last.text)
    assert act(taro.id, "enable").status_code == 303
    assert act("st_nosuchone0", "disable").status_code == 404
    actions = [(e.actor, e.action) for e in runtime.audit.tail(4)]
    assert actions == [
        (f"staff:{boss.id}", "staff.create"),
        (f"staff:{boss.id}", "staff.role"),
        (f"staff:{boss.id}", "staff.disable"),
        (f"staff:{boss.id}", "staff.enable"),
    ]


def test_an_auditor_sees_the_staff_page_without_its_forms(client: TestClient) -> None:
    admin_client(client, "auditor", PASSWORD)
    page = client.get("/admin/staff")
    assert page.status_code == 200 and "職員 boss" in page.text
    assert "アカウントの作成・変更は個人情報保護管理者だけが行えます。" in page.text
    assert 'action="/admin/staff' not in page.text


def test_a_disabled_account_is_signed_out_at_once(client: TestClient, runtime: Runtime) -> None:
    admin_client(client, "viewer", PASSWORD)
    viewer = directory(runtime).find("viewer")
    directory(runtime).disable(viewer.id, actor="test")
    assert client.get("/admin").status_code == 303
    assert _try(client, "viewer", PASSWORD).status_code == 401


def test_audit_log_page_and_verification(client: TestClient, runtime: Runtime) -> None:
    admin_client(client, "auditor", PASSWORD)
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert "staff.sign_in" in page.text and "staff.create" in page.text
    assert "職員のサインイン" in page.text  # each action's label beside its code
    # Entries hold ids, never names; the page names the staff member who acted.
    assert all("職員" not in str(e) for e in runtime.audit.tail(20))
    assert "職員 auditor" in page.text.split("<main", 1)[1].split("</table>")[0]
    checked = client.get("/admin/audit?verify=1")
    assert "監査ログは改ざんされていません" in checked.text
    assert runtime.audit.tail(1)[0].action == "audit.verify"

    table = tables.audit_entries
    with db.write(runtime.engine) as conn:  # someone edits entry 2 behind mamori's back
        conn.execute(table.update().where(table.c.seq == 2).values(actor="intruder"))
    broken = client.get("/admin/audit?verify=1&lang=en")
    assert "The audit log is NOT intact" in broken.text
    assert "entry 2" in broken.text
    entry = runtime.audit.tail(1)[0]
    assert (entry.action, entry.details["result"]) == ("audit.verify", "broken")


def test_audit_log_pages_back(client: TestClient, runtime: Runtime) -> None:
    admin_client(client, "auditor", PASSWORD)
    with db.write(runtime.engine) as conn:
        for n in range(60):
            runtime.audit.append(conn, actor="test", action="test.fill", targets=[f"n:{n}"])
    first = client.get("/admin/audit")
    seqs = [int(s) for s in re.findall(r'<tr id="entry-\d+">\s*<td>(\d+)</td>', first.text)]
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    older = re.search(r'href="(/admin/audit\?[^"]*before=\d+)"', first.text)
    assert older is not None
    second = client.get(older[1].replace("&amp;", "&"))
    more = [int(s) for s in re.findall(r'<tr id="entry-\d+">\s*<td>(\d+)</td>', second.text)]
    assert more[0] == seqs[-1] - 1 and more[-1] == 1


def test_dashboard_cards(client: TestClient) -> None:
    admin_client(client, "auditor", PASSWORD, lang="en")
    page = client.get("/admin")
    assert "Active staff accounts" in page.text and "Audit log entries" in page.text
    assert 'href="/admin/staff?lang=en"' in page.text
    assert 'aria-current="page"' in page.text
