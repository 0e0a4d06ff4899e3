"""Consent to a recipient in the privacy center, and its revocation, as a person does it in
Chromium without JavaScript: the recipient, purpose, items and APPI 28 information are on the
page before the button; the host's provision follows the person's choice."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser

from mamori.client import Client
from mamori.vault import service_keys
from tests.helpers.cookies import cookie_choice
from tests.helpers.server import LiveServer


@pytest.fixture
def host(live_server: LiveServer) -> Iterator[Client]:
    runtime = live_server.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation", "advertising"],
        operations=["read", "write", "provide"],
        actor="test",
    )
    with Client(live_server.url, token) as client:
        yield client


def _refusals(host: Client, subject: str) -> set[str]:
    result = host.provide(
        recipient="google", subjects=[subject], items=["advertising_id"], purpose="advertising"
    )
    return set(result.people[0].refused.values())


def test_consent_to_a_recipient_abroad_and_revoke_it(
    browser: Browser, live_server: LiveServer, host: Client, tmp_path: Path
) -> None:
    subject = host.create_subject(
        "customer", items={"name": "山田 花子", "email": "hanako@example.jp"}
    )
    host.write(subject, {"advertising_id": "ad-77"})
    # The person accepted the cookies on the host's site; the host ties that choice to them.
    host.link_cookie_consent(subject, cookie_choice(live_server.runtime, None))
    assert _refusals(host, subject) == {"no_consent"}
    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(host.center_link(subject))
    # The link in the page's text (the center's tiles hold the same one).
    page.get_by_role(
        "link", name="提供先ごとの同意と取消し、あなたの個人データを受け取った提供先"
    ).last.click()
    assert page.locator("h1").inner_text() == "第三者への提供"
    google = page.get_by_role("region", name="Google LLC")
    # What the law asks the person to be told before they agree (APPI 28(2)): on the page.
    facts = google.locator("dl").inner_text()
    assert "アメリカ合衆国" in facts and "広告識別子" in facts
    assert "その国の個人情報の保護に関する制度" in facts and "カリフォルニア州" in facts
    assert "提供先が講じている個人情報保護のための措置" in facts
    folder = Path(os.environ.get("MAMORI_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "center-recipients.png"), full_page=True)

    google.get_by_role("button", name="この提供に同意する").click()
    assert page.get_by_role("status").inner_text() == "同意を受け付けました。"
    google = page.get_by_role("region", name="Google LLC")
    assert "同意済み" in google.inner_text() and "JST" in google.inner_text()
    result = host.provide(
        recipient="google", subjects=[subject], items=["advertising_id"], purpose="advertising"
    )
    assert result.people[0].items == {"advertising_id": "ad-77"}

    page.reload()
    received = page.locator("table.records")
    assert "Google LLC" in received.inner_text() and "あなたの同意" in received.inner_text()
    assert "ad-77" not in page.content()

    page.get_by_role("region", name="Google LLC").get_by_role(
        "button", name="同意を取り消す"
    ).click()
    assert "同意を取り消しました" in page.get_by_role("status").inner_text()
    assert (
        page.get_by_role("region", name="Google LLC")
        .get_by_role("button", name="この提供に同意する")
        .is_visible()
    )
    assert _refusals(host, subject) == {"no_consent"}
    context.close()

    # Accessibility, checked by axe (which needs JavaScript) on the page as it now stands.
    checked = browser.new_context(locale="ja-JP")
    page = checked.new_page()
    page.goto(host.center_link(subject))
    page.goto(f"{live_server.url}/center/recipients")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    checked.close()
