"""One set of cookie preferences per person: a choice made in the privacy center reaches the
banner of a site whose consent ID the host tied to the person, and a choice made on that site
shows in the center; a shared, withdrawn, expired or superseded choice names no one. Also what
a refused site's banner can read of the refusal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.center import access
from mamori.consent import links
from mamori.consent.choice import COOKIE
from mamori.vault.access import Caller
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime

SITE = "https://www.example.jp"
HOST = Caller(actor_id="system:test", purposes=frozenset({"service_operation"}))


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock, consent_origins=[SITE])
    yield runtime
    runtime.close()


@pytest.fixture
def site(runtime: Runtime) -> Iterator[TestClient]:
    """The banner on the operator's site: cross-origin, its own cookie jar."""
    with TestClient(create_app(runtime=runtime), headers={"Origin": SITE}) as client:
        yield client


@pytest.fixture
def center(runtime: Runtime) -> Iterator[TestClient]:
    """The person's browser on mamori's own origin."""
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def _config(site: TestClient, consent_id: str | None = None) -> dict[str, object]:
    query = f"&id={consent_id}" if consent_id else ""
    answer = site.get(f"/consent/config?lang=ja{query}")
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _banner_choice(site: TestClient, method: str, **extra: object) -> str:
    """A choice on the site's banner; returns its consent ID."""
    config = _config(site)
    body = {
        "version": config["version"],
        "lang": "ja",
        "hash": config["hash"],
        "gpc": False,
        "method": method,
    } | extra
    answer = site.post(
        "/consent/receipts", content=orjson.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 201, answer.text
    consent_id: str = answer.json()["consent_id"]
    return consent_id


def _person(runtime: Runtime) -> str:
    return runtime.vault.create_subject(HOST, type="customer", items={"name": "山田 花子"})


def _sign_in(center: TestClient, runtime: Runtime, subject: str) -> None:
    link = access.issue_link(runtime.vault, HOST, subject, minutes=10)
    assert center.get(f"/center/enter?token={link.token}", follow_redirects=False).status_code
    assert center.get("/center/cookies?lang=en").status_code == 200


def _center_choice(center: TestClient, method: str) -> None:
    page = center.get("/center/cookies?lang=en").text
    fields = dict(re.findall(r'name="(version|lang|hash|csrf_token)" value="([^"]+)"', page))
    answer = center.post(
        "/center/cookies", data=fields | {"method": method}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def test_a_choice_in_the_center_reaches_the_banner_of_a_tied_browser(
    runtime: Runtime, site: TestClient, center: TestClient, clock: ManualClock
) -> None:
    subject = _person(runtime)
    consent_id = _banner_choice(site, "reject_all")
    assert "person" not in _config(site, consent_id), "nobody is known under it yet"
    links.link(runtime.vault, HOST, subject, consent_id)
    before = _config(site, consent_id)["person"]
    assert before == {"at": before["at"], "granted": [], "refused": []}  # type: ignore[index]

    clock.advance(minutes=5)
    _sign_in(center, runtime, subject)
    _center_choice(center, "accept_all")
    person = _config(site, consent_id)["person"]
    assert isinstance(person, dict)
    assert person["granted"] == ["analytics", "advertising"] and person["refused"] == []
    assert person["at"] > before["at"]
    # Only the person's newest choice, and only to a browser tied to them.
    assert "person" not in _config(site)
    assert "person" not in _config(site, _banner_choice(site, "accept_all"))


def test_a_choice_on_the_site_shows_in_the_center(
    runtime: Runtime, site: TestClient, center: TestClient, clock: ManualClock
) -> None:
    subject = _person(runtime)
    _sign_in(center, runtime, subject)
    _center_choice(center, "reject_all")
    assert "Analytics: Off" in center.get("/center/cookies?lang=en").text
    clock.advance(minutes=5)
    consent_id = _banner_choice(
        site, "custom", categories={"analytics": True, "advertising": False}
    )
    links.link(runtime.vault, HOST, subject, consent_id)
    page = center.get("/center/cookies?lang=en").text
    assert "Analytics: On" in page and "Advertising: Off" in page
    # The center's own cookie is older than the person's newest choice: the newest wins,
    # on mamori's public form too (the center cookie's consent ID names the person).
    assert "Analytics: On" in center.get("/consent?lang=en").text


def test_a_shared_browser_names_no_one(
    runtime: Runtime, site: TestClient, center: TestClient
) -> None:
    first, second = _person(runtime), _person(runtime)
    consent_id = _banner_choice(site, "accept_all")
    links.link(runtime.vault, HOST, first, consent_id)
    assert "person" in _config(site, consent_id)
    links.link(runtime.vault, HOST, second, consent_id)
    assert "person" not in _config(site, consent_id)


def test_a_withdrawn_an_expired_or_a_superseded_choice_is_not_adopted(
    runtime: Runtime, site: TestClient, clock: ManualClock
) -> None:
    subject = _person(runtime)
    consent_id = _banner_choice(site, "accept_all")
    links.link(runtime.vault, HOST, subject, consent_id)
    assert "person" in _config(site, consent_id)
    clock.advance(days=runtime.settings.consent_days + 1)
    assert "person" not in _config(site, consent_id), "an expired choice is no choice"
    fresh = _banner_choice(site, "accept_all")
    links.link(runtime.vault, HOST, subject, fresh)
    assert "person" in _config(site, fresh)
    runtime.vault.withdraw(HOST, subject)
    assert "person" not in _config(site, fresh), "a person who withdrew is nobody's preference"


@pytest.mark.parametrize("bad", ["short", "a" * 23, "a" * 21 + "!", "%00" * 8])
def test_a_malformed_consent_id_is_a_clear_400(site: TestClient, bad: str) -> None:
    answer = site.get(f"/consent/config?lang=ja&id={bad}")
    assert answer.status_code == 400
    assert "consent ID" in answer.json()["error"]


def test_a_refused_site_can_read_why(runtime: Runtime) -> None:
    with TestClient(create_app(runtime=runtime)) as client:
        answer = client.get(
            "/consent/config?lang=ja", headers={"Origin": "https://not-listed.example"}
        )
    assert answer.status_code == 403
    assert answer.headers["access-control-allow-origin"] == "https://not-listed.example"
    body = answer.json()
    assert body["setting"] == "MAMORI_CONSENT_ORIGINS" and "MAMORI_CONSENT_ORIGINS" in body["error"]
    assert "text" not in body and "hash" not in body, "a refused site learns nothing else"


def test_the_banner_shows_names_as_providers_write_them(site: TestClient) -> None:
    config = _config(site)
    services = {
        s["id"]: s
        for c in config["text"]["categories"]  # type: ignore[index]
        for s in c["services"]
    }
    assert services["youtube"]["name"] == "YouTube"  # the policy's text spells it Youtube
    assert services["youtube"]["provider"] == "Google LLC"
    assert services["google_ads"]["name"] == "Google 広告"
    assert services["a8net"]["provider"] == "株式会社ファンコミュニケーションズ"
    assert COOKIE not in site.cookies, "reading the settings sets nothing"
