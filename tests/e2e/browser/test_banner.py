"""The cookie banner on a host page (/consent/demo) in Chromium: blocking, Consent Mode, GPC,
the video placeholder, receipts, keyboard, axe and layout shift. Nothing goes to the internet:
every YouTube request is answered here and counted."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Route

from mamori.consent.receipts import ReceiptLog
from tests.helpers.server import LiveServer

DIALOG_JA = "クッキーの利用について"
DIALOG_EN = "Cookies on this site"

# Records every layout shift from the start of the page (buffered), as Chromium reports it.
_CLS = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
  }).observe({type: 'layout-shift', buffered: true});
  setTimeout(() => resolve(total), 300);
})"""


class Host:
    """A browser context on the demo page, with YouTube answered locally and counted."""

    def __init__(self, browser: Browser, server: LiveServer, **options: Any) -> None:
        self.server = server
        self.context: BrowserContext = browser.new_context(**options)
        self.youtube: list[str] = []
        self.outside: list[str] = []
        self.context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), self._outside)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _outside(self, route: Route) -> None:
        url = route.request.url
        if "youtube" in url:
            self.youtube.append(url)
            route.fulfill(status=200, content_type="text/html", body="<p>video</p>")
        else:
            self.outside.append(url)
            route.abort()

    def open(self, lang: str = "ja") -> Page:
        self.page.goto(f"{self.server.url}/consent/demo?lang={lang}")
        self.page.wait_for_function("() => window.dataLayer && window.dataLayer.length > 0")
        return self.page

    def data_layer(self) -> list[Any]:
        # gtag pushes `arguments` objects: make them arrays
        entries: list[Any] = self.page.evaluate(
            "() => window.dataLayer.map(e => e && e.length !== undefined && !Array.isArray(e)"
            " ? Array.from(e) : e)"
        )
        return entries

    def consent_calls(self) -> list[tuple[str, dict[str, str]]]:
        return [
            (e[1], e[2]) for e in self.data_layer() if isinstance(e, list) and e[0] == "consent"
        ]

    def demo(self, name: str) -> int:
        return int(self.page.evaluate(f"() => (window.mamoriDemo || {{}}).{name} || 0"))

    def cookie(self) -> str | None:
        for c in self.context.cookies():
            if c["name"] == "mamori_consent":
                return c["value"]
        return None

    def close(self) -> None:
        self.context.close()
        assert not self.outside, f"requests left the machine: {self.outside}"
        assert not self.errors, f"script errors: {self.errors}"


@pytest.fixture
def host(browser: Browser, live_server: LiveServer) -> Iterator[Host]:
    h = Host(browser, live_server, locale="ja-JP")
    yield h
    h.close()


def _wait_receipt(server: LiveServer, consent_id: str, page: Page) -> Any:
    log = ReceiptLog(server.runtime.engine, server.runtime.audit, days=180)
    for _ in range(50):
        found = log.latest(consent_id)
        if found is not None:
            return found
        page.wait_for_timeout(100)
    raise AssertionError("the receipt was not stored")


def _screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MAMORI_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_first_visit_shows_the_banner_and_blocks_everything(host: Host, tmp_path: Path) -> None:
    page = host.open()
    dialog = page.get_by_role("dialog", name=DIALOG_JA)
    dialog.wait_for()
    assert dialog.get_by_role("button", name="すべて同意する").is_visible()
    assert dialog.get_by_role("button", name="すべて拒否する").is_visible()
    # Consent Mode: the default for all seven types comes first, before the settings are
    # fetched (so before anything can fail): all denied. Once the settings came, an update
    # grants what the required category maps, and nothing else.
    first, second = host.data_layer()[0:2]
    assert first[0:2] == ["consent", "default"]
    assert first[2] == {t: "denied" for t in first[2] if t != "wait_for_update"} | {
        "wait_for_update": 500
    }
    assert len(first[2]) == 8
    assert second[0:2] == ["consent", "update"]
    assert second[2] == {
        "ad_storage": "denied",
        "ad_user_data": "denied",
        "ad_personalization": "denied",
        "analytics_storage": "denied",
        "functionality_storage": "granted",
        "personalization_storage": "denied",
        "security_storage": "granted",
    }
    page.wait_for_function("() => (window.mamoriDemo || {}).tag === 1")
    events = [e.get("event") for e in host.data_layer() if isinstance(e, dict)]
    assert events == ["mamori_demo_tag"], "only the consent-mode tag ran"
    assert host.demo("analytics") == 0 and host.demo("ads") == 0
    assert host.youtube == []
    placeholder = page.get_by_role("group", name="招待状の動画")
    assert placeholder.get_by_role("button", name="同意して表示する").is_visible()
    # Focus moved into the dialog, and the two choices are as prominent as each other.
    assert page.evaluate("() => document.activeElement.getAttribute('role')") == "dialog"
    boxes = [
        dialog.get_by_role("button", name=n).bounding_box()
        for n in ("すべて同意する", "すべて拒否する")
    ]
    assert boxes[0] and boxes[1]
    assert abs(boxes[0]["width"] - boxes[1]["width"]) < 1
    assert abs(boxes[0]["height"] - boxes[1]["height"]) < 1
    page.screenshot(path=str(_screenshots(tmp_path) / "banner-ja.png"))


def test_reject_leaves_the_analytics_script_unexecuted(host: Host) -> None:
    page = host.open()
    page.get_by_role("button", name="すべて拒否する").click()
    assert page.get_by_role("dialog").count() == 0
    update = host.consent_calls()[-1]
    assert update[0] == "update"
    assert update[1]["analytics_storage"] == "denied"
    assert update[1]["ad_storage"] == "denied"
    page.wait_for_timeout(300)
    assert host.demo("analytics") == 0 and host.demo("ads") == 0
    cookie = host.cookie()
    assert cookie is not None
    receipt = _wait_receipt(host.server, cookie.split(".")[0], page)
    assert receipt.method == "reject_all" and receipt.gpc is False
    assert receipt.categories == {"necessary": True, "analytics": False, "advertising": False}
    # A reload keeps the choice: no banner, Consent Mode updated again, still nothing run.
    page.reload()
    page.wait_for_function("() => (window.mamoriDemo || {}).tag === 1")
    assert page.get_by_role("dialog").count() == 0
    assert [c[0] for c in host.consent_calls()] == ["default", "update"]
    assert host.demo("analytics") == 0


def test_accept_runs_the_script_sends_the_update_and_a_reload_keeps_it(host: Host) -> None:
    page = host.open()
    page.get_by_role("button", name="すべて同意する").click()
    page.wait_for_function("() => (window.mamoriDemo || {}).analytics === 1")
    page.wait_for_function("() => (window.mamoriDemo || {}).ads === 1")
    update = host.consent_calls()[-1]
    # personalization_storage is mapped by no category of the example: it stays denied.
    assert update == (
        "update",
        {t: "denied" if t == "personalization_storage" else "granted" for t in update[1]},
    )
    assert len(update[1]) == 7
    # The video is now loaded from YouTube (answered locally).
    page.wait_for_function("() => document.querySelector('iframe[title]').src.includes('youtube')")
    cookie = host.cookie()
    assert cookie is not None
    receipt = _wait_receipt(host.server, cookie.split(".")[0], page)
    assert receipt.method == "accept_all"
    assert receipt.services["youtube"] is True
    page.reload()
    page.wait_for_function("() => (window.mamoriDemo || {}).analytics === 1")
    assert page.get_by_role("dialog").count() == 0
    calls = host.consent_calls()
    assert [c[0] for c in calls] == ["default", "update"]
    assert calls[1][1]["analytics_storage"] == "granted"
    # The settings can be opened again from the page, showing the choice.
    page.get_by_role("link", name="クッキーの設定を変更する").click()
    dialog = page.get_by_role("dialog", name=DIALOG_JA)
    assert dialog.get_by_role("checkbox", name="分析").is_checked()


def test_sec_gpc_turns_advertising_off_until_an_explicit_choice(
    browser: Browser, live_server: LiveServer
) -> None:
    host = Host(browser, live_server, locale="ja-JP", extra_http_headers={"Sec-GPC": "1"})
    try:
        page = host.open()
        dialog = page.get_by_role("dialog", name=DIALOG_JA)
        assert "グローバル・プライバシー・コントロール" in dialog.inner_text()
        dialog.get_by_role("button", name="同意する(広告を除く)").click()
        page.wait_for_function("() => (window.mamoriDemo || {}).analytics === 1")
        update = host.consent_calls()[-1][1]
        assert update["analytics_storage"] == "granted"
        assert update["ad_storage"] == update["ad_user_data"] == "denied"
        assert host.demo("ads") == 0
        cookie = host.cookie()
        assert cookie is not None
        consent_id = cookie.split(".")[0]
        receipt = _wait_receipt(live_server, consent_id, page)
        assert receipt.gpc is True and receipt.categories["advertising"] is False
        # An explicit later choice wins over the signal.
        page.get_by_role("link", name="クッキーの設定を変更する").click()
        dialog = page.get_by_role("dialog", name=DIALOG_JA)
        dialog.get_by_role("checkbox", name="広告").check()
        dialog.get_by_role("button", name="選んだ内容で保存する").click()
        page.wait_for_function("() => (window.mamoriDemo || {}).ads === 1")
        assert host.consent_calls()[-1][1]["ad_storage"] == "granted"
        log = ReceiptLog(live_server.runtime.engine, live_server.runtime.audit, days=180)
        for _ in range(50):
            latest = log.latest(consent_id)
            if latest is not None and latest.method == "custom":
                break
            page.wait_for_timeout(100)
        assert latest is not None and latest.categories["advertising"] is True
        assert latest.gpc is True
    finally:
        host.close()


def test_the_video_loads_from_youtube_only_after_consent(host: Host) -> None:
    page = host.open()
    page.get_by_role("dialog").wait_for()
    page.wait_for_timeout(300)
    assert host.youtube == [], "nothing may be asked of YouTube before consent"
    # Rejecting everything keeps the placeholder.
    page.get_by_role("button", name="すべて拒否する").click()
    page.wait_for_timeout(200)
    assert host.youtube == []
    page.get_by_role("group", name="招待状の動画").get_by_role(
        "button", name="同意して表示する"
    ).click()
    page.wait_for_function("() => document.querySelector('iframe[title]') !== null")
    page.wait_for_timeout(300)
    assert len(host.youtube) == 1 and "youtube-nocookie.com/embed/" in host.youtube[0]
    cookie = host.cookie()
    assert cookie is not None
    receipt = _wait_receipt(host.server, cookie.split(".")[0], page)
    # Consent to the video alone: its category, but not the other advertising services.
    assert receipt.categories["advertising"] is True
    assert receipt.services == {
        "google_analytics": False,
        "a8net": False,
        "google_ads": False,
        "youtube": True,
    }
    assert host.demo("ads") == 0


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_axe_finds_no_violations_and_nothing_shifts(
    browser: Browser, live_server: LiveServer, lang: str, tmp_path: Path
) -> None:
    host = Host(browser, live_server, locale="ja-JP" if lang == "ja" else "en-US")
    try:
        page = host.open(lang)
        name = DIALOG_JA if lang == "ja" else DIALOG_EN
        dialog = page.get_by_role("dialog", name=name)
        dialog.wait_for()
        results = Axe().run(page)
        assert results.violations_count == 0, results.generate_report()
        settings = "項目ごとに選ぶ" if lang == "ja" else "Choose by category"
        dialog.get_by_role("button", name=settings).click()
        for summary in dialog.locator("summary").all():
            summary.click()
        results = Axe().run(page)
        assert results.violations_count == 0, results.generate_report()
        page.screenshot(path=str(_screenshots(tmp_path) / f"banner-{lang}-settings.png"))
        shift = page.evaluate(_CLS)
        print(f"\ncumulative layout shift ({lang}): {shift}")
        assert shift == 0
    finally:
        host.close()


def test_the_keyboard_alone_makes_a_choice(host: Host) -> None:
    page = host.open()
    page.get_by_role("dialog").wait_for()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "すべて拒否する":
            break
    else:
        raise AssertionError("Tab never reached the reject button")
    page.keyboard.press("Enter")
    assert page.get_by_role("dialog").count() == 0
    assert host.consent_calls()[-1][1]["analytics_storage"] == "denied"
    assert page.evaluate("() => document.activeElement === document.body")


def test_service_boxes_follow_their_category_and_the_choice_is_stored(host: Host) -> None:
    page = host.open()
    page.get_by_role("button", name="項目ごとに選ぶ").click()
    analytics = page.locator("#mamori-c-analytics input[name=c]")
    services = page.locator("#mamori-c-analytics input[name=s]")
    ads = page.locator("#mamori-c-advertising input[name=s]")
    # Nothing chosen yet: a category that is off shows its services off too.
    assert not analytics.is_checked()
    assert services.count() >= 1 and not any(
        services.nth(i).is_checked() for i in range(services.count())
    )
    analytics.check()
    assert all(services.nth(i).is_checked() for i in range(services.count()))
    for category in ("analytics", "advertising"):  # open "サービスごとの設定"
        page.locator(f"#mamori-c-{category} summary").click()
    for i in range(services.count()):
        services.nth(i).uncheck()
    assert not analytics.is_checked()  # the last service off turns its category off
    ads.first.check()  # one advertising service on turns advertising on, the others stay off
    assert page.locator("#mamori-c-advertising input[name=c]").is_checked()
    chosen = ads.first.get_attribute("value")
    others = {ads.nth(i).get_attribute("value") for i in range(1, ads.count())}
    page.get_by_role("button", name="選んだ内容で保存する").click()
    page.wait_for_function("() => document.cookie.includes('mamori_consent')")
    cookie = host.cookie()
    assert cookie is not None
    receipt = _wait_receipt(host.server, cookie.split(".")[0], page)
    assert receipt.categories == {"necessary": True, "analytics": False, "advertising": True}
    assert receipt.services[str(chosen)] is True
    assert all(receipt.services[str(o)] is False for o in others)
