"""The banner on the operator's own sites, in Chromium: a choice made in the privacy center
reaches the banner of a site the person is known on; a site whose origin is not allowed, or a
mamori that does not answer, gets a console warning naming what to fix, the video placeholder
and Consent Mode's default all the same. The sites are other origins, answered by the browser
context itself; nothing leaves the machine."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route

from mamori.center import access
from mamori.consent import links
from mamori.vault.access import Caller
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.server import LiveServer, serving

SITE = "http://localhost:9"
OTHER = "http://localhost:10"
HOST = Caller(actor_id="system:test", purposes=frozenset({"service_operation"}))
BANNER_JS = Path(__file__).resolve().parents[3] / "src/mamori/web/static/consent/banner.js"


def _page(script_src: str) -> str:
    return f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>招待状</title></head><body><main><h1>招待状</h1>
<iframe data-mamori-src="https://www.youtube-nocookie.com/embed/x" data-mamori-service="youtube"
 title="招待状の動画" width="560" height="315"></iframe>
<script type="text/plain" data-mamori-category="consent-mode">window.tagRan = 1;</script>
<script type="text/plain" data-mamori-category="analytics">window.analyticsRan = 1;</script>
</main><script async src="{script_src}"></script></body></html>"""


@pytest.fixture
def server(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[LiveServer]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock, consent_origins=[SITE])
    try:
        with serving(runtime) as served:
            yield served
    finally:
        runtime.close()


class Sites:
    """One browser: the operator's site, a site not listed, and a site whose mamori is down."""

    def __init__(self, browser: Browser, server: LiveServer) -> None:
        self.server = server
        self.context: BrowserContext = browser.new_context(locale="ja-JP")
        # In production the site and mamori are both public hosts; here mamori is on
        # loopback, which Chromium guards from other origins unless the page may reach it.
        self.context.grant_permissions(["local-network-access"])
        self.youtube: list[str] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), self._answer)
        self.page: Page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "warning":
            self.warnings.append(message.text)

    def _answer(self, route: Route) -> None:
        url = route.request.url
        if "youtube" in url:
            self.youtube.append(url)
            route.fulfill(status=200, content_type="text/html", body="<p>video</p>")
        elif url.startswith((f"{SITE}/", f"{OTHER}/")):
            if url.endswith("/down"):  # a page whose banner comes from a mamori that is down
                route.fulfill(content_type="text/html", body=_page("/consent/banner.js"))
            elif url.endswith("/consent/banner.js"):
                route.fulfill(content_type="text/javascript", body=BANNER_JS.read_bytes())
            elif "/consent/" in url:
                route.abort("connectionrefused")
            else:
                page = _page(f"{self.server.url}/consent/banner.js")
                route.fulfill(content_type="text/html", body=page)
        else:
            route.abort()

    def consent_calls(self) -> list[list[object]]:
        calls: list[list[object]] = self.page.evaluate(
            "() => window.dataLayer.map(e => Array.from(e)).filter(e => e[0] === 'consent')"
        )
        return calls

    def close(self) -> None:
        self.context.close()
        assert not self.errors, f"script errors: {self.errors}"


@pytest.fixture
def sites(browser: Browser, server: LiveServer) -> Iterator[Sites]:
    s = Sites(browser, server)
    yield s
    s.close()


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MAMORI_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _consent_id(context: BrowserContext, url: str) -> str:
    for cookie in context.cookies(url):
        if cookie["name"] == "mamori_consent":
            return cookie["value"].split(".")[0]
    raise AssertionError(f"no mamori_consent cookie on {url}")


def test_the_centers_choice_reaches_the_sites_banner(
    sites: Sites, server: LiveServer, clock: ManualClock, tmp_path: Path
) -> None:
    runtime = server.runtime
    subject = runtime.vault.create_subject(HOST, type="customer", items={"name": "山田 花子"})
    page = sites.page
    page.goto(f"{SITE}/invitation")
    page.get_by_role("dialog").get_by_role("button", name="すべて拒否する").click()
    page.wait_for_timeout(300)
    consent_id = _consent_id(sites.context, SITE)
    for _ in range(50):  # the receipt is durable shortly after the click
        try:
            links.link(runtime.vault, HOST, subject, consent_id)  # the host knows the person
            break
        except Exception:
            page.wait_for_timeout(100)
    else:
        raise AssertionError("the site's choice was never recorded")

    clock.advance(minutes=2)
    link = access.issue_link(runtime.vault, HOST, subject, minutes=10)
    center = sites.context.new_page()
    center.goto(f"{server.url}/center/enter?token={link.token}")
    center.goto(f"{server.url}/center/cookies?lang=ja")
    center.locator("form.consent-form").get_by_role("button", name="すべて同意する").click()
    center.get_by_role("status").wait_for()
    center.close()

    page.reload()
    page.wait_for_function("() => window.analyticsRan === 1")
    assert page.get_by_role("dialog").count() == 0, "the person chose already: no banner"
    page.wait_for_function("() => document.querySelector('iframe[title]') !== null")
    assert len(sites.youtube) == 1
    assert sites.consent_calls()[-1][2]["analytics_storage"] == "granted"  # type: ignore[index]
    cookie = next(c for c in sites.context.cookies(SITE) if c["name"] == "mamori_consent")
    assert cookie["value"].startswith(consent_id) and ".analytics-advertising." in cookie["value"]
    page.screenshot(path=str(_shots(tmp_path) / "banner-site-synced.png"))


def test_a_site_not_listed_is_told_which_setting_to_change(sites: Sites, tmp_path: Path) -> None:
    page = sites.page
    page.goto(f"{OTHER}/invitation")
    placeholder = page.get_by_role("group", name="招待状の動画")
    placeholder.wait_for()
    assert "クッキーの設定を読み込めないため表示できません" in placeholder.inner_text()
    warning = next(w for w in sites.warnings if w.startswith("mamori:"))
    assert OTHER in warning and "MAMORI_CONSENT_ORIGINS" in warning
    # Consent Mode's default came first and stays: every type denied; the tag that runs in
    # denied mode ran, nothing that needs consent did, and no banner could be drawn.
    calls = sites.consent_calls()
    assert [c[1] for c in calls] == ["default"]
    default = calls[0][2]
    assert isinstance(default, dict) and set(default.values()) - {500} == {"denied"}
    page.wait_for_function("() => window.tagRan === 1")
    assert page.evaluate("() => window.analyticsRan") is None
    assert page.get_by_role("dialog").count() == 0 and sites.youtube == []
    box = placeholder.bounding_box()
    # The embed's own box (560 x 315 and the iframe's default 2 px border): nothing shifts.
    assert box is not None and (round(box["width"]), round(box["height"])) == (564, 319)
    page.screenshot(path=str(_shots(tmp_path) / "banner-site-refused.png"))


def test_a_mamori_that_does_not_answer_is_named(sites: Sites) -> None:
    page = sites.page
    page.goto(f"{SITE}/down")
    page.get_by_role("group", name="招待状の動画").wait_for()
    warning = next(w for w in sites.warnings if w.startswith("mamori:"))
    assert f"no answer from {SITE}/consent/config" in warning
    assert [c[1] for c in sites.consent_calls()] == ["default"]
    assert sites.youtube == []
