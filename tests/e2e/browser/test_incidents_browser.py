"""Breaches in the admin console, in Chromium: a lead records an incident with 1,001 people
and sees it reportable with both deadlines, on its page, in the list and on the dashboard;
axe finds no violation on the pages."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from mamori.incidents import rules
from tests.helpers.server import LiveServer
from tests.helpers.staff import PASSWORD, create_staff, sign_in_code


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_a_lead_records_a_reportable_incident(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    runtime = live_server.runtime
    create_staff(runtime, "hanako", PASSWORD, "lead")
    zone = ZoneInfo(runtime.settings.time_zone)
    aware = (runtime.clock.now() - dt.timedelta(hours=1)).astimezone(zone)
    found = (aware - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    preliminary = rules.preliminary_due(aware.date(), 3).isoformat()
    final = rules.final_due(aware.date(), improper_purpose=False).isoformat()
    shots = Path(os.environ.get("MAMORI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="ja-JP", java_script_enabled=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/incidents")
    page.get_by_label("ログインID").fill("hanako")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_label("確認コード").fill(sign_in_code(runtime, "hanako"))
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(f"{live_server.url}/admin/incidents")
    assert page.locator("h1").inner_text() == "漏えい等"
    _no_violations(page)

    page.get_by_role("link", name="漏えい等を記録").click()
    page.get_by_label("発覚した日時").fill(found)
    page.get_by_label("事業者が知った日時").fill(aware.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("checkbox", name="氏名").first.check()
    page.get_by_role("checkbox", name="メールアドレス").first.check()
    page.get_by_label("本人の数(推定)").fill("1001")
    page.get_by_label("概要").fill("不正アクセスにより会員情報が閲覧されたおそれ")
    _no_violations(page)
    page.get_by_role("button", name="記録する").click()
    assert page.get_by_role("status").inner_text() == "漏えい等を記録しました。"
    assert page.locator("#incident-reportable").inner_text() == "報告対象"
    assert page.locator("#due-preliminary").inner_text().startswith(preliminary)
    assert page.locator("#due-final").inner_text().startswith(final)
    _no_violations(page)
    page.screenshot(path=str(shots / "admin-incident-ja.png"), full_page=True)

    page.get_by_role("link", name="漏えい等の一覧へ戻る").click()
    assert page.locator("tr[data-incident]").get_by_text("報告対象").is_visible()
    page.goto(f"{live_server.url}/admin")
    assert page.get_by_text("対応中の漏えい等", exact=True).is_visible()
    page.goto(f"{live_server.url}/admin/incidents?lang=en")
    assert page.locator("h1").inner_text() == "Breaches"
    context.close()
