"""The admin console in Chromium: sign in, the dashboard, staff and audit pages, sign out.

Accessibility is checked with axe on every page (0 violations); screenshots are written to
MAMORI_SCREENSHOTS (or the test's temporary folder) to be looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.helpers.server import LiveServer
from tests.helpers.staff import create_staff, sign_in_code

PASSWORD = "correct horse battery"


def _screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MAMORI_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_sign_in_and_use_the_console(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    create_staff(live_server.runtime, "hanako", PASSWORD, "manager")
    create_staff(live_server.runtime, "taro", PASSWORD, "viewer")
    shots = _screenshots(tmp_path)
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/admin/staff")  # no session: to the sign-in form
    assert page.url == f"{live_server.url}/admin/login?next=/admin/staff"
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "管理コンソールへのログイン"
    _no_violations(page)

    page.get_by_label("ログインID").fill("hanako")
    page.get_by_label("パスワード").fill("wrong password!")
    page.get_by_role("button", name="ログイン").click()
    assert (
        page.get_by_role("alert").inner_text() == "ログインIDまたはパスワードが正しくありません。"
    )
    assert page.get_by_label("ログインID").input_value() == "hanako"
    _no_violations(page)

    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_label("確認コード").fill(sign_in_code(live_server.runtime, "hanako"))
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(f"{live_server.url}/admin/staff")
    assert page.locator("h1").inner_text() == "職員アカウント"
    _no_violations(page)
    page.screenshot(path=str(shots / "admin-staff-ja.png"), full_page=True)

    page.get_by_role("navigation", name="管理メニュー").get_by_role(
        "link", name="ダッシュボード"
    ).click()
    assert page.locator("h1").inner_text() == "ダッシュボード"
    assert page.get_by_text("有効な職員アカウント", exact=True).is_visible()
    _no_violations(page)
    page.screenshot(path=str(shots / "admin-dashboard-ja.png"), full_page=True)

    page.get_by_role("link", name="監査ログ").first.click()
    page.get_by_role("button", name="監査ログを検証する").click()
    assert page.get_by_role("status").inner_text().startswith("監査ログは改ざんされていません")
    _no_violations(page)
    page.screenshot(path=str(shots / "admin-audit-ja.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "Audit log"
    page.get_by_role("link", name="Dashboard").click()
    assert page.locator("h1").inner_text() == "Dashboard"
    _no_violations(page)
    page.screenshot(path=str(shots / "admin-dashboard-en.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("status").inner_text() == "You have signed out."
    page.goto(f"{live_server.url}/admin")
    assert "/admin/login" in page.url
    # the only console error: the wrong password's answer, a 401 page
    assert errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
    assert all(url.startswith(live_server.url) for url in requested), "no external resources"
    context.close()


def test_a_handler_cannot_reach_what_the_permissions_table_denies(
    browser: Browser, live_server: LiveServer
) -> None:
    create_staff(live_server.runtime, "jiro", PASSWORD, "handler")
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login")
    page.get_by_label("ログインID").fill("jiro")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_label("確認コード").fill(sign_in_code(live_server.runtime, "jiro"))
    page.get_by_role("button", name="確認する").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "ダッシュボード", page.url
    menu = page.get_by_role("navigation", name="管理メニュー")
    assert menu.get_by_role("link", name="ご請求").is_visible()
    for hidden in ("監査ログ", "職員アカウント"):
        assert menu.get_by_role("link", name=hidden).count() == 0
    for path in ("/admin/audit", "/admin/staff", "/admin/audit/export.csv"):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 403, path
        assert page.locator("h1").inner_text() == "この権限では使えません"
        assert "取扱担当者" in page.get_by_role("alert").inner_text()
    _no_violations(page)
    context.close()
