"""A person consents to a policy change in the privacy center, in Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from mamori.client import Client
from mamori.vault import service_keys
from tests.helpers import edits
from tests.helpers.server import LiveServer

pytestmark = pytest.mark.browser


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_consent_in_the_center_without_javascript_releases_the_reads(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    runtime = live_server.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation"],
        operations=["read", "write"],
        actor="test",
    )
    with Client(live_server.url, token) as host:
        subject = host.create_subject("customer", items={"email": "hanako@example.jp"})
        path = edits.write_edited(tmp_path / "p.yaml", edits.unrelated_purpose, edits.revision)
        runtime.publish_file(path, actor="test")
        _, offers = service_keys.create(
            runtime.engine,
            runtime.audit,
            name="offers",
            purposes=["partner_offers"],
            operations=["read"],
            actor="test",
        )
        with Client(live_server.url, offers) as reader:
            refused = reader.read(subject, purpose="partner_offers", items=["email"]).refused
            assert refused == {"email": "consent_required"}

            context = browser.new_context(locale="ja-JP", java_script_enabled=False)
            page = context.new_page()
            page.goto(host.center_link(subject))
            notice = page.locator("#policy-changes-notice")
            assert "プライバシーポリシーが変更されました" in notice.inner_text()
            notice.get_by_role("link", name="変更の内容を見る").click()
            page.wait_for_url("**/center/policy-changes?lang=ja")
            change = page.get_by_role("region", name="第2版", exact=False)
            assert "提携先の商品をご案内するため" in change.inner_text()
            change.get_by_role("button", name="この変更に同意する").click()
            assert (
                page.get_by_role("status").inner_text()
                == "同意を記録しました。ありがとうございました。"
            )
            context.close()

            released = reader.read(subject, purpose="partner_offers", items=["email"])
            assert released.items == {"email": "hanako@example.jp"}

        # The pages are accessible (axe runs as a script, so this context has JavaScript).
        context = browser.new_context(locale="ja-JP")
        page = context.new_page()
        page.goto(host.center_link(subject))
        page.goto(f"{live_server.url}/center/policy-history?lang=en")
        assert page.locator("h1").inner_text() == "Privacy policy history"
        _no_violations(page)
        page.goto(f"{live_server.url}/center/policy-changes")
        _no_violations(page)
        page.goto(f"{live_server.url}/privacy")
        page.locator("section.history details").first.locator("summary").click()
        _no_violations(page)
        context.close()
