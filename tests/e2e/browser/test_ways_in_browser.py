"""Ways in, in Chromium without JavaScript: from the privacy policy to a filed and verified
request in three clicks (the code read from a real SMTP server), and axe finds nothing on the
start page, the policy, the request list, the cookie settings and the center's home."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from mamori.client import Client
from mamori.vault import service_keys
from mamori.vault.access import Caller
from tests.helpers.runtime import open_test_runtime
from tests.helpers.server import LiveServer, serving
from tests.helpers.smtp import SmtpServer

EMAIL = "hanako@example.jp"


@pytest.fixture
def server(tmp_path: Path, database_url: str, smtp_server: SmtpServer) -> Iterator[LiveServer]:
    runtime = open_test_runtime(
        tmp_path, database_url, smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )
    try:
        with serving(runtime) as served:
            yield served
    finally:
        runtime.close()


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _code(server: LiveServer, smtp: SmtpServer) -> str:
    server.runtime.mail.deliver_pending()
    smtp.wait_for(1, timeout=10)
    message = smtp.messages[0]
    body = message.get_content() if not message.is_multipart() else message.get_body().get_content()  # type: ignore[union-attr]
    found = re.search(r"確認コード: (\d{6})", body)
    assert found, body
    assert message["To"] == EMAIL
    return found[1]


def test_from_the_policy_to_a_verified_request_in_three_clicks(
    browser: Browser, server: LiveServer, smtp_server: SmtpServer
) -> None:
    server.runtime.vault.create_subject(
        Caller(actor_id="service:test"),
        type="customer",
        items={"name": "山田 花子", "email": EMAIL},
    )
    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    clicks = 0
    page.goto(f"{server.url}/privacy?lang=ja")

    section = page.locator("#mamori-policy-disclosure")
    section.get_by_role("link", name="開示のご請求フォーム").click()
    clicks += 1
    assert "/center/requests/new/disclosure" in page.url
    page.get_by_role("textbox", name="ご連絡先のメールアドレス").fill(EMAIL)
    page.get_by_role("button", name="請求する").click()
    clicks += 1
    page.wait_for_url(re.compile(r".*/center/requests/[0-9a-f]{32}/verify.*"))
    found = re.search(r"/center/requests/([0-9a-f]{32})/verify", page.url)
    assert found
    page.get_by_label("確認コード").fill(_code(server, smtp_server))
    page.get_by_role("button", name="確認する").click()
    clicks += 1
    page.wait_for_url(f"**/center/requests/{found[1]}?**")
    assert page.locator("#request-status").inner_text() == "本人確認済み"
    assert clicks <= 3
    context.close()


def test_the_ways_in_are_accessible(browser: Browser, server: LiveServer) -> None:
    runtime = server.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation", "promotion"],
        operations=["read", "write", "delete"],
        actor="test",
    )
    context = browser.new_context(locale="ja-JP")  # axe runs as a script; the pages have none
    page = context.new_page()
    for lang in ("ja", "en"):
        for path in ("/", "/privacy", "/center/requests", "/consent"):
            page.goto(f"{server.url}{path}?lang={lang}")
            header = page.get_by_role("banner")
            assert header.get_by_role(
                "link", name={"ja": "開示等のご請求", "en": "Requests for disclosure etc."}[lang]
            ).is_visible()
            _no_violations(page)

    # the start page's tiles lead to the cookie settings, and the header to the center
    page.goto(f"{server.url}/?lang=ja")
    page.locator("#ways-in").get_by_role("link", name="クッキーの設定").click()
    assert page.url.endswith("/consent?lang=ja")
    page.get_by_role("banner").get_by_role("link", name="プライバシーセンター").click()
    assert page.locator("h1").inner_text() == "プライバシーセンターに入るには"
    _no_violations(page)

    with Client(server.url, token) as host:
        subject = host.create_subject("customer", items={"email": "taro@example.jp"})
        page.goto(host.center_link(subject))
    tiles = page.locator("#center-tiles")
    for name in (
        "わたしのデータ",
        "利用の設定",
        "クッキーの設定",
        "開示等のご請求",
        "改訂履歴",
        "退会",
    ):
        assert tiles.get_by_role("link", name=name, exact=True).is_visible(), name
    _no_violations(page)
    tiles.get_by_role("link", name="クッキーの設定").click()
    assert "/center/cookies" in page.url
    _no_violations(page)
    page.goto(f"{server.url}/center?lang=en")
    assert page.locator("#center-tiles").get_by_role("link", name="Withdrawal").is_visible()
    _no_violations(page)
    context.close()
