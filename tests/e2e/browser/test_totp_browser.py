"""Two-step sign-in in Chromium: an admin without an authenticator enrols after the password
(reading the key shown in text, as someone without a camera would), keeps the recovery codes,
signs out, and signs in again with a code. Axe finds no violation on the new pages."""

from __future__ import annotations

import os
from pathlib import Path

import pyotp
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from mamori.staff import totp
from tests.helpers.server import LiveServer
from tests.helpers.staff import PASSWORD, create_staff


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_an_admin_enrols_and_signs_in_with_a_code(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    runtime = live_server.runtime
    create_staff(runtime, "hanako", PASSWORD, "manager", totp=False)
    shots = Path(os.environ.get("MAMORI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(10_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/admin/staff")
    page.get_by_label("ログインID").fill("hanako")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{live_server.url}/admin/login/enrol?lang=ja&next=/admin/staff")
    assert page.locator("h1").inner_text() == "二段階認証の設定"
    assert page.locator("figure.totp-qr svg").is_visible()
    _no_violations(page)
    page.screenshot(path=str(shots / "admin-totp-enrol-ja.png"), full_page=True)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    authenticator = pyotp.TOTP(secret)  # what the phone app would compute

    page.get_by_label("確認コード").fill(authenticator.now())
    page.get_by_role("button", name="設定を完了する").click()
    assert page.locator("h1").inner_text() == "リカバリーコード"
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    _no_violations(page)
    page.get_by_role("link", name="保管しました。続ける").click()
    page.wait_for_url(f"{live_server.url}/admin/staff")
    assert page.get_by_role("cell", name="設定済み").is_visible()

    page.get_by_role("button", name="ログアウト").click()
    page.get_by_label("ログインID").fill("hanako")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{live_server.url}/admin/login/code?lang=ja")
    assert page.locator("h1").inner_text() == "確認コードの入力"
    _no_violations(page)
    page.get_by_label("確認コード").fill("000000")
    page.get_by_role("button", name="確認する").click()
    assert "コードが違う" in page.get_by_role("alert").inner_text()
    # the code of the next step: the current one was used to enrol (a replay is refused)
    later = totp.code_at(secret, totp.step_at(runtime.clock.now()) + 1)
    page.get_by_label("確認コード").fill(later)
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(f"{live_server.url}/admin?lang=ja")
    assert page.locator("h1").inner_text() == "ダッシュボード"
    page.get_by_role("link", name="自分のアカウント").click()
    assert page.get_by_text("未使用のリカバリーコード: 10 個").is_visible()
    _no_violations(page)
    assert all(url.startswith(live_server.url) for url in requested), "no external resources"
    context.close()
