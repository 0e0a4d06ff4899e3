"""Every string a person reads on a page is in the page's language: no English sentence on a
Japanese page (its error pages, bad form input, an expired link, the center without a session
included), no Japanese on an English one (but the names the policy gives in Japanese)."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.center import access
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.requests import HOST, person
from tests.helpers.runtime import open_test_runtime

TYPES = ("disclosure", "correction", "usage_stop", "erasure", "provision_stop", "inquiry")
PUBLIC = [
    "/",
    "/privacy",
    "/privacy/versions",
    "/privacy/versions/1",
    "/center/requests",
    *(f"/center/requests/new/{t}" for t in TYPES),
    "/center/requests/new/disclosure?who=business_contact",
    "/center",  # 401: how to get in
    "/center/settings",
    "/center/data",
    "/center/signed-out",
    "/center/enter?token=forged",
    "/no-such-page",
    "/center/requests/new/nonsense",
    "/privacy/versions/99",
    "/consent",
    "/consent/demo",
]
CENTER = [
    "/center",
    "/center/data",
    "/center/settings",
    "/center/requests",
    "/center/requests/new/correction",
    "/center/policy-history",
    "/center/recipients",
    "/center/withdraw",
    "/center/cookies",
]
# An ASCII run of three words or more: an English phrase.
_ENGLISH = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ \t,.:;()/&-]+[A-Za-z][A-Za-z'’]*){2,}")
# Starlette's own two-word texts of HTTP errors.
_HTTP_WORDS = ("Not Found", "Method Not Allowed", "Bad Request", "Unauthorized", "Forbidden")
_JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]+")
_URL = re.compile(r"(https?://|www\.)[^\s)）」]+|[\w.+-]+@[\w-]+(\.[\w-]+)+")


class _Visible(HTMLParser):
    """The text a person sees: no script, style, code or pre; the title included."""

    _HIDDEN = frozenset({"script", "style", "code", "pre", "template"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._skip += 1
        for name, value in attrs:  # what assistive technology reads out, and placeholders
            if name in ("alt", "aria-label", "placeholder", "title") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _visible(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return html_lib.unescape(" ".join(parser.parts))


def _names(runtime: Runtime) -> list[str]:
    """Proper names and addresses the policy gives (services, providers, recipients), as the
    operator wrote them: allowed as they are."""
    names: set[str] = {"mamori", "English", "Yobunara", "YouTube API Services", "JavaScript"}

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "name" and isinstance(v, str):
                    names.add(v)
                elif k in ("name", "address", "representative") and isinstance(v, dict):
                    names.update(str(x) for x in v.values() if isinstance(x, str))
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(runtime.published.current().policy.model_dump(mode="json"))
    return sorted(names, key=len, reverse=True)


def _english_in(text: str, names: list[str]) -> list[str]:
    text = _URL.sub(" ", text)
    for name in names:
        text = text.replace(name, " ")
    return [m.group(0) for m in _ENGLISH.finditer(text)] + [w for w in _HTTP_WORDS if w in text]


def _japanese_in(text: str, allowed: list[str]) -> list[str]:
    for name in allowed:
        text = text.replace(name, " ")
    return _JAPANESE.findall(text)


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        client.headers["Accept"] = "text/html"
        yield client


def _with(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


def _pages(
    client: TestClient, runtime: Runtime, clock: ManualClock, lang: str
) -> Iterator[tuple[str, int, str]]:
    for path in PUBLIC:
        response = client.get(_with(path, lang))
        yield path, response.status_code, response.text
    # Bad form input: a request form sent with a malformed address.
    form = client.get(_with("/center/requests/new/disclosure", lang)).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    bad = client.post(
        _with("/center/requests/new/disclosure", lang),
        data={"csrf_token": token[1], "email": "not an address"},
    )
    yield "POST request form (bad e-mail)", bad.status_code, bad.text
    forged = client.post(
        _with("/center/requests/new/disclosure", lang), data={"csrf_token": "x" * 40}
    )
    yield "POST request form (no token)", forged.status_code, forged.text
    # An expired link.
    subject = person(runtime, email=f"{lang}@example.jp")
    stale = access.issue_link(runtime.vault, HOST, subject, minutes=10)
    clock.advance(minutes=11)
    expired = client.get(_with(f"/center/enter?token={stale.token}", lang))
    yield "expired link", expired.status_code, expired.text
    # Signed in: every page of the center, and a forged settings form.
    link = access.issue_link(runtime.vault, HOST, subject, minutes=10)
    assert client.get(f"/center/enter?token={link.token}").status_code == 303
    for path in CENTER:
        response = client.get(_with(path, lang))
        yield path, response.status_code, response.text
    home = client.get(_with("/center", lang)).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home)
    assert csrf
    odd = client.post(
        _with("/center/settings", lang),
        data={"csrf_token": csrf[1], "purpose.promotion": "maybe"},
    )
    yield "POST settings (bad choice)", odd.status_code, odd.text
    client.cookies.clear()


def test_japanese_pages_hold_no_english_sentence(
    client: TestClient, runtime: Runtime, clock: ManualClock
) -> None:
    names = _names(runtime)
    found: dict[str, list[str]] = {}
    statuses: set[int] = set()
    for where, status, page in _pages(client, runtime, clock, "ja"):
        statuses.add(status)
        assert '<html lang="ja">' in page, where
        english = _english_in(_visible(page), names)
        if english:
            found[f"{where} ({status})"] = english
    assert {200, 400, 401, 403, 404, 410} <= statuses  # the error paths were walked
    assert not found, found


def test_english_pages_hold_no_japanese(
    client: TestClient, runtime: Runtime, clock: ManualClock
) -> None:
    policy = runtime.published.current().policy
    allowed = ["日本語", policy.operator.name.ja, "山田", "花子"]  # and the person's own name
    found: dict[str, list[str]] = {}
    for where, status, page in _pages(client, runtime, clock, "en"):
        assert '<html lang="en">' in page, where
        japanese = _japanese_in(_visible(page), allowed)
        if japanese:
            found[f"{where} ({status})"] = japanese
    assert not found, found
