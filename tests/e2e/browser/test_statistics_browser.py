"""Statistics in the admin console, in Chromium: a lead signs in, runs a count by prefecture
and sees the small cell and the one that would give it back marked as suppressed, in Japanese;
the exports page lists the declared export. axe finds no violation on either page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from mamori.vault.access import Caller
from tests.helpers.runtime import open_test_runtime
from tests.helpers.server import LiveServer, serving
from tests.helpers.staff import PASSWORD, create_staff, sign_in_code
from tests.helpers.statistics import statistics_policy_file


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    runtime = open_test_runtime(
        tmp_path, database_url, policy=statistics_policy_file(tmp_path / "policy")
    )
    host = Caller("key:host")
    for prefecture, n in {"東京都": 12, "大阪府": 3, "京都府": 15}.items():
        for i in range(n):
            runtime.vault.create_subject(
                host,
                type="customer",
                items={
                    "name": "山田 花子",
                    "email": f"p{n}-{i}@example.jp",
                    "address": f"{prefecture}中央{i}",
                },
            )
    create_staff(runtime, "hanako", PASSWORD, "lead")
    try:
        with serving(runtime) as live:
            yield live
    finally:
        runtime.close()


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_run_a_count_and_see_the_suppressed_cells(browser: Browser, served: LiveServer) -> None:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{served.url}/admin/statistics")
    page.get_by_label("ログインID").fill("hanako")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_label("確認コード").fill(sign_in_code(served.runtime, "hanako"))
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(f"{served.url}/admin/statistics")
    assert page.locator("h1").inner_text() == "統計（個人を識別できない集計）"
    _no_violations(page)

    page.get_by_label("利用目的", exact=True).select_option("statistics")
    page.get_by_label("集計の軸 1").select_option("prefecture")
    page.get_by_role("button", name="集計する").click()
    table = page.locator("#answer-table")
    osaka = table.locator("tr", has_text="大阪府")
    assert "秘匿（k人未満）" in osaka.inner_text()
    assert "秘匿（逆算防止）" in table.locator("tr", has_text="東京都").inner_text()
    assert "15" in table.locator("tr", has_text="京都府").inner_text()
    assert "30" in table.locator("tr.total").inner_text()
    _no_violations(page)

    page.goto(f"{served.url}/admin/statistics/exports")
    assert page.locator("h1").inner_text() == "仮名加工情報"
    assert "identity_document" in page.locator("section[data-purpose=research]").inner_text()
    _no_violations(page)
    context.close()
