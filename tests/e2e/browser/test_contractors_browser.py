"""Contractors in the admin console, in Chromium: a handler records a contract and a
supervision check on the contractor's page and sees the list and the dashboard change; axe
finds no violation on any of the pages (JavaScript on, as a person's browser has it)."""

from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from mamori.clock import local_date
from tests.helpers.server import LiveServer
from tests.helpers.staff import PASSWORD, create_staff, sign_in_code


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_a_handler_records_a_contract_and_a_check(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    runtime = live_server.runtime
    create_staff(runtime, "hanako", PASSWORD, "lead")
    today = local_date(runtime.clock.now(), runtime.settings.time_zone).isoformat()
    shots = Path(os.environ.get("MAMORI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="ja-JP", java_script_enabled=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/contractors")
    page.get_by_label("ログインID").fill("hanako")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_label("確認コード").fill(sign_in_code(runtime, "hanako"))
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(f"{live_server.url}/admin/contractors")
    assert page.evaluate("1 + 1") == 2  # JavaScript runs in this context (axe needs it)
    assert page.locator("h1").inner_text() == "委託先"
    assert page.locator("tr.attention").get_by_text("契約の登録なし").is_visible()
    _no_violations(page)

    page.get_by_role("link", name="クラウドサービス事業者(例)").click()
    assert page.get_by_role("heading", name="プライバシーポリシーでの宣言").is_visible()
    _no_violations(page)
    page.get_by_label("締結日").fill(today)
    page.get_by_label("開始日").fill(today)
    assert page.get_by_role("checkbox").count() == 5  # the items the policy declares
    page.locator("#contract-note").fill("契約書 K-2026-017")
    page.get_by_role("button", name="契約を記録する").click()
    assert page.get_by_role("status").inner_text() == "契約を記録しました。"
    assert page.locator("#contractor-standing").inner_text().startswith("契約期間中")
    assert page.locator("#contracts").get_by_text("K-2026-017").is_visible()
    _no_violations(page)

    page.get_by_label("期限", exact=True).fill(today)
    page.get_by_role("button", name="監督確認を予定する").click()
    assert page.get_by_role("status").inner_text() == "監督確認を予定しました。"
    page.get_by_role("radio", name="要改善").check()
    page.locator("input[id^='check-note-']").fill("監査報告書 R-88")
    page.get_by_role("button", name="結果を記録する").click()
    assert page.get_by_role("status").inner_text() == "監督確認の結果を記録しました。"
    assert page.locator("#checks").get_by_text("要改善").is_visible()
    _no_violations(page)
    page.screenshot(path=str(shots / "admin-contractor-ja.png"), full_page=True)

    page.get_by_role("link", name="委託先の一覧へ").click()
    assert page.locator("tr.attention").count() == 0
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "Contractors"
    _no_violations(page)
    context.close()
