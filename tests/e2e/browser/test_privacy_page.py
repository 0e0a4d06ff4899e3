"""The published privacy policy as a person sees it in Chromium."""

from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser

from tests.helpers.server import LiveServer


def test_policy_page_in_japanese_and_english(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/privacy")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").first.inner_text() == "Privacy Policy"
    cookies = page.locator("#mamori-policy-cookies table")
    rows = cookies.locator("tbody tr")
    assert rows.count() == 4
    assert rows.nth(1).locator("td").nth(3).inner_text() == "提供なし"
    hrefs = cookies.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert "https://www.fancs.com/btapolicy" in hrefs
    page.screenshot(path=os.environ.get("MAMORI_SCREENSHOT", str(tmp_path / "privacy-ja.png")))

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/privacy?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "None offered" in page.locator("#mamori-policy-cookies table").inner_text()
    abroad = page.locator("#mamori-policy-third-party-provision table")
    assert "Google LLC" in abroad.inner_text() and "United States" in abroad.inner_text()

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert not errors
    assert all(url.startswith(live_server.url) for url in requested), "no external resources"
    context.close()
