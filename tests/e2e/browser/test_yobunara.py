"""WEB招待状 Yobunara (examples/yobunara), the host service, on a real mamori, in Chromium.

One walk, as the issue's "done when" lists it: the couple signs up; creates an invitation with
a video that is not requested before the guest consents; guests answer, the second with the
dietary item the policy change added, after its consent; the couple's guest list and
shipping list are read for their purposes, with the guest who stopped the use of their
address shown as stopped; a guest's disclosure request through the privacy center finds their
answer; the couple withdraws in the center and the webhook removes the service's records; the
service's database file holds no personal value, byte for byte.

mamori and Yobunara are two origins on 127.0.0.1 (two ports), as in ``./dev demo``; requests
to anywhere else (YouTube) are answered by the browser context and recorded.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Route

from mamori.requests import service as requests_service
from mamori.requests.model import Outcome
from mamori.requests.workflow import Decision
from mamori.vault import service_keys
from mamori.webhooks import endpoints
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.server import LiveServer, free_port, serving, serving_app
from tests.helpers.smtp import SmtpServer
from yobunara.settings import Settings
from yobunara.storage import Store
from yobunara.web import create_app

ROOT = Path(__file__).resolve().parents[3]
VARIANT = ROOT / "examples/yobunara/policy-dietary.yaml"
VIDEO = "aqz-KE-bpKQ"
COUPLE = {
    "name": "山田 花子",
    "email": "hanako.yamada@example.jp",
    "address": "東京都港区南青山5-13-1",
    "phone": "090-1234-5678",
}
GREETING = "花子と太郎の結婚式にぜひお越しください"
ICHIRO = {
    "name": "佐藤 一郎",
    "email": "ichiro.sato@example.jp",
    "address": "大阪府大阪市北区梅田1-1-1",
    "message": "一郎より心からお祝い申し上げます",
}
MISAKI = {
    "name": "鈴木 美咲",
    "email": "misaki.suzuki@example.jp",
    "address": "福岡県福岡市中央区天神2-2-2",
    "message": "美咲より末永いお幸せを",
}
DIETARY = "えびとかにのアレルギー"
PASSWORD = "hanako-password-2026"


def _shots() -> Path:
    folder = Path(os.environ.get("MAMORI_SCREENSHOTS", tempfile.gettempdir())) / "yobunara"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class World:
    mamori: LiveServer
    site: str
    store: Store
    database: Path
    browser: Browser
    youtube: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def person(self) -> Page:
        """A browser of its own (a person), that may reach both loopback origins."""
        context = self.browser.new_context(locale="ja-JP", accept_downloads=True)
        context.grant_permissions(["local-network-access"])
        context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), self._outside)
        self.contexts.append(context)
        return context.new_page()

    def _outside(self, route: Route) -> None:
        if "youtube" in route.request.url:
            self.youtube.append(route.request.url)
            route.fulfill(status=200, content_type="text/html", body="<p>video</p>")
        else:
            route.abort()


@pytest.fixture
def world(
    tmp_path: Path,
    database_url: str,
    clock: ManualClock,
    smtp_server: SmtpServer,
    browser: Browser,
) -> Iterator[World]:
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    runtime = open_test_runtime(
        tmp_path,
        database_url,
        clock=clock,
        consent_origins=[site],
        webhook_deliver_seconds=1,
        webhook_allow_http_loopback=True,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
    )
    try:
        with serving(runtime) as mamori:
            # What `./dev demo` does with `mamori keys create` and `mamori webhooks add`.
            _, key = service_keys.create(
                runtime.engine,
                runtime.audit,
                name="yobunara",
                purposes=["service_operation", "shipping"],
                operations=["read", "write", "delete"],
                actor="test",
            )
            _, secret = endpoints.create(
                runtime, service="yobunara", url=f"{site}/mamori/events", events=[], actor="test"
            )
            database = tmp_path / "yobunara" / "yobunara.db"
            settings = Settings(
                mamori_url=mamori.url,
                api_key=key,
                webhook_secret=secret,
                database=database,
                session_secret="test-session-secret",
            )
            app = create_app(settings)
            with serving_app(app, port):
                w = World(mamori, site, app.state.yobunara.store, database, browser)
                yield w
                for context in w.contexts:
                    context.close()
    finally:
        runtime.close()


def _sign_up(page: Page, site: str) -> None:
    page.goto(f"{site}/signup")
    page.get_by_label("お名前").fill(COUPLE["name"])
    page.get_by_label("メールアドレス").fill(COUPLE["email"])
    page.get_by_label("ご住所").fill(COUPLE["address"])
    page.get_by_label("電話番号").fill(COUPLE["phone"])
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="新規登録").click()
    page.wait_for_url(f"{site}/dashboard")


def _create_invitation(page: Page, site: str) -> str:
    page.goto(f"{site}/invitation/edit")
    page.get_by_label("日付").fill("2027-04-10")
    page.get_by_label("開始時刻").fill("11:00")
    page.get_by_label("会場").fill("ホテル椿山荘東京")
    page.get_by_label("ごあいさつ").fill(GREETING)
    page.get_by_label("YouTube動画のURL").fill(f"https://www.youtube.com/watch?v={VIDEO}")
    page.get_by_role("button", name="保存する").click()
    page.wait_for_url(f"{site}/dashboard")
    link = page.locator("#guest-link").get_attribute("href")
    assert link and link.startswith(f"{site}/i/")
    return link


def _answer(page: Page, guest: dict[str, str], dietary: str = "", consent: bool = False) -> None:
    page.get_by_label("お名前").fill(guest["name"])
    page.get_by_label("メールアドレス").fill(guest["email"])
    page.get_by_label("ご住所(引き出物の送付先)").fill(guest["address"])
    page.get_by_label("新郎新婦へのメッセージ").fill(guest["message"])
    if dietary:
        page.get_by_role("textbox", name="食事制限・アレルギー(任意)").fill(dietary)
    if consent:
        page.get_by_label("食事制限・アレルギーの情報を、新郎新婦がお食事を準備するため").check()
    page.get_by_role("button", name="回答する").click()


def _accessible(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _wait(condition: object, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s")


def _file(world: World, name: str) -> bytes:
    """The service's database and any journal beside it: every byte it keeps."""
    return b"".join(
        p.read_bytes() for p in world.database.parent.iterdir() if p.name.startswith(name)
    )


def _personal_values() -> list[str]:
    values = [*COUPLE.values(), GREETING, *ICHIRO.values(), *MISAKI.values(), DIETARY]
    return [*values, "+819012345678", "hanako.yamada", "ichiro.sato", "misaki.suzuki"]


def _no_personal_value_in(blob: bytes) -> None:
    assert blob, "the database file is there"
    for value in _personal_values():
        for form in {value.encode(), value.encode("utf-16-le")}:
            assert form not in blob, f"a personal value is in the service's database: {value!r}"


def test_yobunara_on_mamori(world: World) -> None:
    site, runtime = world.site, world.mamori.runtime

    # -- the couple signs up and creates the invitation ---------------------------------------
    couple = world.person()
    couple.goto(f"{site}/signup")
    _accessible(couple)
    _sign_up(couple, site)
    assert couple.locator("h1").inner_text() == "山田 花子 さま"
    link = _create_invitation(couple, site)
    couple.screenshot(path=str(_shots() / "dashboard.png"), full_page=True)

    # -- guest 1: the banner; no video and no tags before consent; then all accepted ----------
    ichiro = world.person()
    requested: list[str] = []
    ichiro.on("request", lambda r: requested.append(r.url))
    ichiro.goto(link)
    banner = ichiro.get_by_role("dialog")
    banner.wait_for()
    placeholder = ichiro.get_by_role("group", name="招待状の動画")
    placeholder.wait_for()
    assert GREETING in ichiro.locator(".greeting").inner_text()
    assert "山田 花子" in ichiro.locator(".hosts").inner_text()
    assert ichiro.get_by_role("textbox", name="食事制限・アレルギー(任意)").count() == 0
    ichiro.wait_for_timeout(300)
    assert world.youtube == [] and not any("youtube" in u for u in requested)
    assert ichiro.evaluate("() => window.yobunaraAnalytics") is None
    ichiro.screenshot(path=str(_shots() / "invitation-before-consent.png"), full_page=True)
    banner.get_by_role("button", name="すべて同意する").click()
    ichiro.wait_for_function("() => window.yobunaraAnalytics === 1 && window.yobunaraAds === 1")
    ichiro.wait_for_function("() => document.querySelector('iframe[src*=youtube]') !== null")
    assert len(world.youtube) == 1 and VIDEO in world.youtube[0]
    _accessible(ichiro)
    _answer(ichiro, ICHIRO)
    ichiro.wait_for_url(f"{link}/thanks")
    ichiro.goto(f"{link}?lang=en")  # English second: the same page, the choice remembered
    assert ichiro.locator("html").get_attribute("lang") == "en"
    assert ichiro.get_by_role("heading", name="Your answer").is_visible()
    assert "Thank you for your answer" in ichiro.locator("#answered").inner_text()
    ichiro.wait_for_function("() => document.querySelector('iframe[src*=youtube]') !== null")
    assert ichiro.get_by_role("dialog").count() == 0
    ichiro.screenshot(path=str(_shots() / "invitation-en.png"), full_page=True)
    ichiro.goto(f"{link}/thanks")

    # -- the policy change: dietary requirements, a sensitive item (consent required) --------
    published = runtime.publish_file(VARIANT, actor="test")
    assert published.version == 2
    [change] = [c for c in world_changes(world) if c["version"] == 2]
    assert change["level"] == "consent_required"
    assert change["consent_uses"] == [["dietary", "service_operation"]]

    # -- guest 2 refuses cookies; tells the dietary item, and must consent first --------------
    misaki = world.person()
    videos = len(world.youtube)
    misaki.goto(link)
    misaki.get_by_role("dialog").get_by_role("button", name="すべて拒否する").click()
    misaki.wait_for_timeout(300)
    assert len(world.youtube) == videos, "refused: the video stays a placeholder"
    assert misaki.evaluate("() => window.yobunaraAnalytics") is None
    dietary = misaki.get_by_role("group", name="食事制限・アレルギー(任意)")
    assert "第2版" in dietary.inner_text()
    _answer(misaki, MISAKI, dietary=DIETARY)  # without ticking the consent
    assert "同意にチェックしてください" in misaki.locator("#problem").inner_text()
    assert world.store.counts()["rsvps"] == 1, "nothing stored without the consent"
    misaki.screenshot(path=str(_shots() / "rsvp-dietary-consent.png"), full_page=True)
    _answer(misaki, MISAKI, dietary=DIETARY, consent=True)
    misaki.wait_for_url(f"{link}/thanks")
    misaki.goto(link)  # a known guest's view is a usage event in mamori
    misaki.get_by_role("group", name="招待状の動画").wait_for()

    # -- guest 1 stops the use of their address in the privacy center --------------------------
    ichiro.get_by_role("button", name="プライバシーセンターを開く").click()
    ichiro.wait_for_url(f"{world.mamori.url}/center")
    ichiro.goto(f"{world.mamori.url}/center/settings?lang=ja")
    ichiro.locator("input[name='item.address'][value='stop']").check()
    ichiro.get_by_role("button", name="設定を保存する").first.click()
    ichiro.get_by_role("status").wait_for()

    # -- the couple's lists, read for their purposes -------------------------------------------
    couple.goto(f"{site}/guests")
    rows = couple.locator("#guest-list tbody tr")
    assert rows.count() == 2
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "佐藤 一郎" in first and ICHIRO["message"] in first
    assert "同意待ち" in first, "answered before the change: the new use waits for consent"
    assert "鈴木 美咲" in second and DIETARY in second
    couple.screenshot(path=str(_shots() / "guest-list.png"), full_page=True)
    couple.goto(f"{site}/shipping")
    rows = couple.locator("#shipping-list tbody tr")
    assert rows.count() == 2, "the guest who stopped is listed, not dropped"
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "佐藤 一郎" in first and "利用停止中" in first and ICHIRO["address"] not in first
    assert "ご本人が利用を停止しています" in first
    assert "鈴木 美咲" in second and MISAKI["address"] in second
    couple.screenshot(path=str(_shots() / "shipping-list.png"), full_page=True)
    _no_personal_value_in(_file(world, "yobunara.db"))

    # -- guest 2's disclosure request through the center finds their answer --------------------
    misaki.goto(f"{link}/thanks")
    misaki.get_by_role("button", name="プライバシーセンターを開く").click()
    misaki.wait_for_url(f"{world.mamori.url}/center")
    misaki.goto(f"{world.mamori.url}/center/requests?lang=ja")
    misaki.get_by_role("link", name="開示", exact=True).first.click()
    misaki.get_by_role("textbox", name="ご連絡先のメールアドレス").fill(MISAKI["email"])
    misaki.get_by_role("button", name="請求する").click()
    misaki.wait_for_url(re.compile(r".*/center/requests/[0-9a-f]{32}(\?.*)?$"))
    request_id = re.findall(r"/center/requests/([0-9a-f]{32})", misaki.url)[0]
    requests_service.start_review(runtime, request_id, actor="staff:st_1")
    requests_service.decide(
        runtime,
        request_id,
        Decision(Outcome.fulfilled),
        actor="staff:st_1",
        base_url=world.mamori.url,
    )
    misaki.goto(f"{world.mamori.url}/center/requests/{request_id}?lang=ja")
    with misaki.expect_download() as download:
        misaki.locator("#download").click()
    package = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    data = json.loads(package.read("package.json"))
    values = {i["id"]: i["value"] for i in data["items"]}
    assert values["name"] == MISAKI["name"] and values["email"] == MISAKI["email"]
    assert values["address"] == MISAKI["address"] and values["dietary"] == DIETARY
    assert MISAKI["message"] in json.dumps(values["content"], ensure_ascii=False)
    assert ",招待状の閲覧,PC,Linux,127.0.0.1," in package.read("events.csv").decode("utf-8-sig")

    # -- a forged webhook is refused; the couple withdraws, and the webhook removes them -------
    forged = httpx.post(
        f"{site}/mamori/events",
        content=b'{"type":"subject.withdrawn","data":{"subject_id":"x"}}',
        headers={"webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
    )
    assert forged.status_code == 400
    assert world.store.counts() == {"accounts": 1, "invitations": 1, "rsvps": 2}
    couple.goto(f"{site}/account")
    assert COUPLE["phone"] in couple.locator("#profile").inner_text() or "+81" in (
        couple.locator("#profile").inner_text()
    )
    couple.get_by_role("button", name="プライバシーセンターを開く").click()
    couple.wait_for_url(f"{world.mamori.url}/center")
    couple.goto(f"{world.mamori.url}/center/withdraw")
    couple.get_by_label("上記の内容を理解したうえで、退会します").check()
    couple.get_by_role("button", name="退会する").click()
    assert couple.locator("h1").inner_text() == "退会の手続きが完了しました"
    _wait(lambda: world.store.counts()["accounts"] == 0, "the webhook deleted the account")
    assert world.store.counts() == {"accounts": 0, "invitations": 0, "rsvps": 0}
    couple.goto(f"{site}/dashboard")
    assert couple.url.startswith(f"{site}/signin")
    assert ichiro.goto(link) is not None and ichiro.locator("h1").inner_text() == (
        "ページが見つかりません。"
    )
    _no_personal_value_in(_file(world, "yobunara.db"))


def world_changes(world: World) -> list[dict[str, object]]:
    answer = httpx.get(f"{world.mamori.url}/api/v1/policy/changes")
    changes: list[dict[str, object]] = answer.json()
    return changes
