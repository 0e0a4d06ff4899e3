"""The privacy center as a person uses it in Chromium: keyboard only, and without JavaScript."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from mamori.client import Client
from mamori.vault import service_keys
from tests.helpers.server import LiveServer


@pytest.fixture
def host(live_server: LiveServer) -> Iterator[Client]:
    runtime = live_server.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation", "promotion"],
        operations=["read", "write", "delete"],
        actor="test",
    )
    with Client(live_server.url, token) as client:
        yield client


def _screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MAMORI_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _focused(page: Page) -> dict[str, str]:
    focused: dict[str, str] = page.evaluate(
        "() => { const e = document.activeElement;"
        " return {tag: e.tagName, name: e.name || '', value: e.value || ''}; }"
    )
    return focused


def _tab_to(page: Page, wanted: dict[str, str], limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if all(focused.get(k) == v for k, v in wanted.items()):
            return
    raise AssertionError(f"Tab never reached {wanted}")


def test_stop_a_purpose_with_the_keyboard_and_no_javascript(
    browser: Browser, live_server: LiveServer, host: Client, tmp_path: Path
) -> None:
    subject = host.create_subject(
        "customer", items={"name": "山田 花子", "email": "hanako@example.jp"}
    )
    assert host.read(subject, purpose="promotion", items=["email"]).items
    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(host.center_link(subject))
    assert page.url == f"{live_server.url}/center", "the token leaves the address bar"
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "プライバシーセンター"
    assert page.locator("form[action^='/center/settings']").count() == 0  # its own page
    page.get_by_role("link", name="利用の設定", exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{live_server.url}/center/settings?lang=ja"
    assert page.locator("h1").inner_text() == "利用の設定"
    promotion = page.get_by_role("group", name="サービスの販売・利用促進に利用するため")
    assert promotion.get_by_role("radio", name="利用する").is_checked()
    email = page.locator(".setting-fixed").filter(has_text="メールアドレス").first
    assert "退会によってのみ停止できます" in email.inner_text()
    page.screenshot(path=str(_screenshots(tmp_path) / "center-ja.png"), full_page=True)

    # keyboard only: Tab to the purpose's radio group, arrow to 停止する, Tab to save, Enter
    _tab_to(page, {"name": "purpose.promotion"})
    page.keyboard.press("ArrowRight")
    assert _focused(page) == {"tag": "INPUT", "name": "purpose.promotion", "value": "stop"}
    _tab_to(page, {"tag": "BUTTON"})
    with page.expect_navigation():
        page.keyboard.press("Enter")

    notice = page.get_by_role("status")
    assert notice.inner_text() == "設定を保存しました。変更は直ちに反映されます。"
    promotion = page.get_by_role("group", name="サービスの販売・利用促進に利用するため 停止中")
    assert promotion.get_by_role("radio", name="停止する").is_checked()
    assert host.read(subject, purpose="promotion", items=["email"]).refused == {
        "email": "stopped_by_person"
    }
    page.screenshot(path=str(_screenshots(tmp_path) / "center-ja-saved.png"), full_page=True)
    assert not errors
    assert all(url.startswith(live_server.url) for url in requested), "no external resources"
    context.close()


def test_center_pages_are_accessible(
    browser: Browser, live_server: LiveServer, host: Client, tmp_path: Path
) -> None:
    subject = host.create_subject("customer", items={"email": "taro@example.jp"})
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(f"{live_server.url}/center")  # no session: how to get in
    assert page.locator("h1").inner_text() == "プライバシーセンターに入るには"
    _no_violations(page)

    page.goto(host.center_link(subject))
    _no_violations(page)  # the home: tiles
    page.get_by_role("link", name="利用の設定", exact=True).click()
    page.get_by_role("group", name="サービスの販売・利用促進に利用するため").get_by_text(
        "停止する"
    ).click()
    page.get_by_role("button", name="設定を保存する").first.click()
    page.wait_for_url("**/center/settings?lang=ja")
    assert page.get_by_role("status").is_visible()
    page.locator("details").first.locator("summary").click()
    _no_violations(page)

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/center/settings?lang=en")
    assert page.locator("h1").inner_text() == "Usage settings"
    _no_violations(page)
    page.get_by_role("link", name="Back to the privacy center", exact=True).click()
    page.wait_for_url("**/center?lang=en")
    assert page.locator("h1").inner_text() == "Privacy center"
    page.screenshot(path=str(_screenshots(tmp_path) / "center-en.png"), full_page=True)
    _no_violations(page)

    page.get_by_role("link", name="Go to withdrawal").click()
    page.get_by_role("button", name="Withdraw").click()  # the checkbox is required: no request
    assert page.url.endswith("/center/withdraw?lang=en")
    assert not host.restrictions(subject).withdrawn
    _no_violations(page)
    page.get_by_label("I understand the above and want to withdraw").check()
    page.get_by_role("button", name="Withdraw").click()
    assert page.locator("h1").inner_text() == "Your withdrawal is complete"
    _no_violations(page)
    assert host.restrictions(subject).withdrawn
    context.close()


VIDEO = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


def test_my_data_and_the_way_in_without_a_session(
    browser: Browser, live_server: LiveServer, host: Client, tmp_path: Path
) -> None:
    subject = host.create_subject(
        "customer",
        items={
            "name": "山田 花子",
            "email": "hanako@example.jp",
            "content": {"kind": "url", "value": VIDEO},
        },
    )
    context = browser.new_context(locale="ja-JP")  # JavaScript on: axe is a script
    page = context.new_page()
    answer = page.goto(f"{live_server.url}/center")
    assert answer is not None and answer.status == 401
    assert page.locator("h1").inner_text() == "プライバシーセンターに入るには"
    ask = page.get_by_role("link", name="開示等のご請求のページへ", exact=True)
    assert ask.get_attribute("href") == "/center/requests?lang=ja"
    _no_violations(page)

    page.goto(host.center_link(subject))
    page.get_by_role("link", name="わたしのデータ", exact=True).click()
    page.wait_for_url("**/center/data?lang=ja")
    assert page.locator("h1").inner_text() == "わたしのデータ"
    rows = page.locator("#my-data tbody tr")
    assert rows.locator("th").all_inner_texts() == ["氏名", "メールアドレス", "コンテンツ"]
    assert page.locator("#held-name td").first.inner_text() == "山田 花子"
    link = page.locator("#held-content a")
    assert link.get_attribute("href") == VIDEO
    assert "nofollow" in (link.get_attribute("rel") or "")
    page.screenshot(path=str(_screenshots(tmp_path) / "center-data-ja.png"), full_page=True)
    _no_violations(page)

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/center/data?lang=en")
    assert page.locator("h1").inner_text() == "My data"
    assert page.locator("#held-content th").inner_text() == "Content"
    _no_violations(page)
    shown = [e for e in live_server.runtime.audit.tail(10) if e.action == "subject.view"]
    assert shown and shown[-1].details == {
        "item.name": "shown",
        "item.email": "shown",
        "item.content": "shown",
    }
    context.close()
