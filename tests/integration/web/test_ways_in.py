"""Ways in (issue 13): every public page's header and footer, the start page, the rendered
policy and the center home link to the mechanisms, and every such link resolves. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.center import access
from mamori.policy.mechanisms import MECHANISMS
from mamori.policy.render import render_policy
from mamori.web import ways_in
from mamori.web.app import create_app
from tests.helpers.requests import HOST, person
from tests.helpers.runtime import open_test_runtime


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


class _Links(HTMLParser):
    """The ``href`` of every ``<a>``, with the id of the section it sits in."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []  # (section id, href, text)
        self._sections: list[str] = []
        self._open: list[str] | None = None
        self._href = ""
        self._where = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("section", "header", "footer", "nav"):
            self._sections.append(found.get("id") or self._current() or tag)
        if tag == "a" and found.get("href"):
            self._href, self._where, self._open = found["href"] or "", self._current(), []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("section", "header", "footer", "nav") and self._sections:
            self._sections.pop()
        if tag == "a" and self._open is not None:
            self.links.append((self._where, self._href, "".join(self._open).strip()))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)

    def _current(self) -> str:
        return self._sections[-1] if self._sections else ""


def _links(html: str) -> list[tuple[str, str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def _enter(client: TestClient, runtime: Runtime) -> None:
    link = access.issue_link(runtime.vault, HOST, person(runtime), minutes=10)
    assert (
        client.get(f"/center/enter?token={link.token}", follow_redirects=False).status_code == 303
    )


def _resolves(client: TestClient, href: str) -> None:
    path = href.partition("#")[0]
    if not path:
        return  # a place on the same page
    response = client.get(path, follow_redirects=False)
    center = ("/center", "/center/settings", "/center/data")
    if path.partition("?")[0].rstrip("/") in center and response.status_code == 401:
        # The center has no password: its sign-in page says how to enter from the service.
        assert "プライバシーセンターに入るには" in response.text or "How to open" in response.text
        return
    assert response.status_code in (200, 303), (href, response.status_code)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_public_page_links_the_ways_in_in_its_header_and_footer(
    client: TestClient, lang: str
) -> None:
    want = {
        f"{ways_in.REQUESTS}?lang={lang}": {
            "ja": "開示等のご請求",
            "en": "Requests for disclosure etc.",
        },
        f"{ways_in.COOKIES}?lang={lang}": {"ja": "クッキーの設定", "en": "Cookie settings"},
        f"{ways_in.CENTER}?lang={lang}": {"ja": "プライバシーセンター", "en": "Privacy center"},
    }
    pages = [
        "/",
        "/privacy",
        "/privacy/versions",
        "/privacy/versions/1",
        "/consent",
        "/center/requests",
    ]
    for path in pages:
        response = client.get(f"{path}?lang={lang}")
        assert response.status_code == 200, path
        links = _links(response.text)
        for href, words in want.items():
            places = [where for where, h, text in links if h == href and text == words[lang]]
            assert len(places) >= 2, (path, href, places)  # the header's and the footer's
        header = response.text.split("</header>")[0]
        footer = response.text.split("<footer")[1]
        for href in want:
            assert f'href="{href}"' in header, (path, href)
            assert f'href="{href}"' in footer, (path, href)


def test_the_start_page_is_a_start_page(client: TestClient) -> None:
    page = client.get("/?lang=ja").text
    tiles = page.split('id="ways-in"')[1].split("</ul>")[0]
    for href in (
        "/privacy?lang=ja",
        "/center/requests?lang=ja",
        "/consent?lang=ja",
        "/center?lang=ja",
    ):
        assert f'href="{href}"' in tiles
    assert "開示、訂正、利用停止、消去などをフォームからご請求いただけます。" in tiles
    english = client.get("/?lang=en").text
    assert "Ask for disclosure, correction, stop of use, erasure and more with a form." in english


@pytest.mark.parametrize("path", ["/", "/privacy", "/privacy/versions"])
def test_every_link_on_the_public_pages_resolves(client: TestClient, path: str) -> None:
    for lang in ("ja", "en"):
        for _where, href, _text in _links(client.get(f"{path}?lang={lang}").text):
            if href.startswith(("http://", "https://", "mailto:")):
                continue
            _resolves(client, href)


def test_every_link_on_the_center_home_resolves(client: TestClient, runtime: Runtime) -> None:
    _enter(client, runtime)
    for lang in ("ja", "en"):
        home = client.get(f"/center?lang={lang}")
        assert home.status_code == 200
        links = _links(home.text)
        tiles = home.text.split('id="center-tiles"')[1].split("</ul>")[0]
        for href in (
            f"/center/cookies?lang={lang}",
            f"/center/requests?lang={lang}",
            f"/center/policy-history?lang={lang}",
            f"/center/settings?lang={lang}",
            f"/center/data?lang={lang}",
        ):
            assert f'href="{href}"' in tiles, href
        assert re.search(r'href="(/center/withdraw\?lang=\w\w|#account)"', tiles)
        for _where, href, _text in links:
            if not href.startswith(("http://", "https://", "mailto:")):
                _resolves(client, href)
        assert 'id="account"' in home.text
        assert '<form method="post" action="/center/settings' not in home.text  # own page
        settings = client.get(f"/center/settings?lang={lang}")
        for anchor in ("by-purpose", "by-item"):
            assert f'id="{anchor}"' in settings.text


_SECTION_LINKS = {
    # section of the rendered policy -> the mechanisms it links to
    "usage-stop": ("usage_settings",),
    "cookies": ("cookie_settings",),
    "disclosure": ("disclosure",),
    "correction": ("correction", "usage_stop", "erasure", "mail_opt_out", "requests"),
    "management": ("requests",),
}


def _section(html: str, key: str) -> str:
    return html.split(f'<section id="mamori-policy-{key}">')[1].split('<section id="mamori-')[0]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_policy_links_its_promises_to_their_mechanisms(client: TestClient, lang: str) -> None:
    page = client.get(f"/privacy?lang={lang}").text
    expected = ways_in.mechanisms(lang)  # type: ignore[arg-type]
    assert set(expected) == set(MECHANISMS)
    for key, names in _SECTION_LINKS.items():
        section = _section(page, key)
        for name in names:
            assert f'href="{expected[name]}"' in section, (lang, key, name)
    assert expected["usage_settings"] == f"/center/settings?lang={lang}"
    assert expected["cookie_settings"] == f"/consent?lang={lang}"
    assert expected["disclosure"] == f"/center/requests/new/disclosure?lang={lang}"
    words = {"ja": "開示のご請求フォーム", "en": "Disclosure request form"}[lang]
    assert f">{words}</a>" in _section(page, "disclosure")
    for href in expected.values():
        _resolves(client, href)


def test_the_request_procedure_points_to_the_forms_and_keeps_the_desk_for_questions(
    client: TestClient,
) -> None:
    section = _section(client.get("/privacy?lang=ja").text, "correction")
    assert "ご請求フォームから受け付けます" in section
    assert "ご質問は、本ポリシーに記載のお問い合わせ窓口" in section
    english = _section(client.get("/privacy?lang=en").text, "correction")
    assert "file requests for disclosure, correction" in english
    requests_page = client.get("/center/requests?lang=ja").text
    assert "ご請求フォームから受け付けます" in requests_page


def test_the_core_renders_no_links_without_mechanisms_and_refuses_unknown_ones(
    runtime: Runtime,
) -> None:
    policy = runtime.published.current().policy
    plain = render_policy(policy, lang="ja", fmt="html")
    assert "/center" not in plain and "お手続き:" not in plain
    linked = render_policy(policy, lang="en", fmt="md", mechanisms={"disclosure": "/x"})
    assert "Where to do this: [Disclosure request form](/x)" in linked
    with pytest.raises(ValueError, match="unknown mechanism 'cookies'"):
        render_policy(policy, lang="ja", fmt="html", mechanisms={"cookies": "/consent"})
