"""The provision ledger in the admin console, in Chromium: a handler signs in, filters the
records of provision by recipient and sees only those, in Japanese, with the CSV link; the
recipients page leads there. axe finds no violation (it runs with JavaScript on); screenshots
go to MAMORI_SCREENSHOTS (or the test's temporary folder) to be looked at."""

from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from mamori.client import Client
from mamori.vault import service_keys
from tests.helpers.cookies import cookie_choice
from tests.helpers.server import LiveServer
from tests.helpers.staff import PASSWORD, create_staff, sign_in_code


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _records(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation", "advertising"],
        operations=["read", "write", "provide"],
        actor="test",
    )
    with Client(live_server.url, token) as host:
        people = [
            host.create_subject(
                "customer", items={"name": f"山田 {n}", "email": f"p{n}@example.jp"}
            )
            for n in range(3)
        ]
        for subject in people:
            host.write(subject, {"advertising_id": f"ad-{subject[:4]}"})
            host.give_provision_consent(subject, recipient="google", purpose="advertising")
            host.link_cookie_consent(subject, cookie_choice(live_server.runtime, None))
        host.provide("google", subjects=people, items=["advertising_id"], purpose="advertising")
        host.provide(
            "hosting", subjects=people[:2], items=["name", "email"], purpose="service_operation"
        )


def test_filter_the_ledger_by_recipient(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    create_staff(live_server.runtime, "hanako", PASSWORD, "lead")
    _records(live_server)
    shots = Path(os.environ.get("MAMORI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/admin/provisions")
    page.get_by_label("ログインID").fill("hanako")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_label("確認コード").fill(sign_in_code(live_server.runtime, "hanako"))
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(f"{live_server.url}/admin/provisions")
    assert page.locator("h1").inner_text() == "提供の記録"
    assert page.locator("table.ledger tbody tr").count() == 5

    page.get_by_label("提供先").select_option("google")
    page.get_by_role("button", name="絞り込む").click()
    page.wait_for_url("**/admin/provisions?**recipient=google**")
    rows = page.locator("table.ledger tbody tr")
    assert rows.count() == 3
    assert all("Google LLC" in text and "本人の同意" in text for text in rows.all_inner_texts())
    assert "JST" in rows.first.inner_text()
    assert page.get_by_label("提供先").input_value() == "google"
    link = page.get_by_role("link", name="この条件の記録をCSVでダウンロード")
    assert "/admin/provisions.csv?" in (link.get_attribute("href") or "")
    assert "ad-" not in page.content()  # the values provided are never shown
    _no_violations(page)
    page.screenshot(path=str(shots / "admin-ledger-ja.png"), full_page=True)

    page.get_by_role("navigation", name="管理メニュー").get_by_role("link", name="提供先").click()
    assert page.locator("h1").inner_text() == "提供先"
    google = page.locator('tr[data-recipient="google"]')
    assert "法28条の情報あり" in google.inner_text() and "同意 3件" in google.inner_text()
    _no_violations(page)
    page.screenshot(path=str(shots / "admin-recipients-ja.png"), full_page=True)
    google.get_by_role("link").click()
    assert page.locator("table.ledger tbody tr").count() == 3
    context.close()
