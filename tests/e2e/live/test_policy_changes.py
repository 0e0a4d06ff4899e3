"""Policy changes over HTTP: the API consent, the privacy center's notice and consent form,
and the policy page's revision history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from mamori.vault import service_keys
from tests.helpers import edits
from tests.helpers.server import LiveServer

PURPOSES = ["service_operation", "partner_offers"]


def _token(server: LiveServer, operations: list[str], purposes: list[str] = PURPOSES) -> str:
    runtime = server.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=purposes,
        operations=operations,
        actor="test",
    )
    return token


@pytest.fixture
def changed(live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[httpx.Client, str, int]]:
    """The host service's API client, a person who was there before, and the version of a
    change that needs consent (a new purpose unrelated to earlier ones)."""
    runtime = live_server.runtime
    from mamori.vault.access import Caller

    subject = runtime.vault.create_subject(
        Caller.system("test"),
        type="customer",
        items={"email": "hanako@example.jp", "address": "東京都港区"},
    )
    path = edits.write_edited(tmp_path / "policy.yaml", edits.unrelated_purpose, edits.revision)
    version = runtime.publish_file(path, actor="test").version
    token = _token(live_server, ["read", "write"])
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        yield api, subject, version


def _read(api: httpx.Client, subject: str) -> dict[str, object]:
    response = api.get(
        f"/subjects/{subject}/items", params={"purpose": "partner_offers", "items": "email"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_the_host_records_a_consent_through_the_api(
    changed: tuple[httpx.Client, str, int], live_server: LiveServer
) -> None:
    api, subject, version = changed
    assert _read(api, subject)["refused"] == {"email": "consent_required"}
    pending = api.get(f"/subjects/{subject}/policy-consents").json()
    assert [c["version"] for c in pending["pending"]] == [version]
    assert pending["pending"][0]["consent_uses"] == [
        ["address", "partner_offers"],
        ["email", "partner_offers"],
    ]

    # A key without write may not record it; bad input gets a clear 4xx; nothing changes.
    reader = _token(live_server, ["read"])
    denied = httpx.post(
        f"{live_server.url}/api/v1/subjects/{subject}/policy-consents",
        json={"version": version},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert denied.status_code == 403
    assert api.post(f"/subjects/{subject}/policy-consents", json={"version": 1}).json() == {
        "error": "policy version 1 has no change that needs consent",
        "status": 404,
    }
    assert api.post(f"/subjects/{subject}/policy-consents", json={}).status_code == 422
    assert (
        api.post(f"/subjects/{'0' * 32}/policy-consents", json={"version": version}).status_code
        == 404
    )
    assert _read(api, subject)["refused"] == {"email": "consent_required"}

    given = api.post(f"/subjects/{subject}/policy-consents", json={"version": version})
    assert given.status_code == 201
    assert given.json()["channel"] == "api"
    assert _read(api, subject) == {
        "items": {"email": "hanako@example.jp"},
        "refused": {},
        "missing": [],
        "kinds": {"email": "email"},
    }
    changes = httpx.get(f"{live_server.url}/api/v1/policy/changes").json()
    assert [(c["version"], c["level"]) for c in changes] == [(version, "consent_required")]


@contextmanager
def _browser(
    server: LiveServer, api: httpx.Client, subject: str, lang: str
) -> Iterator[httpx.Client]:
    """The person's browser without JavaScript, signed in through a link from the host."""
    url = api.post(f"/subjects/{subject}/center-link").json()["url"]
    parts = urlsplit(url)
    with httpx.Client(
        base_url=server.url,
        follow_redirects=False,
        headers={"Accept": "text/html", "Accept-Language": lang},
    ) as web:
        assert web.get(f"{parts.path}?{parts.query}").status_code == 303
        yield web


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match[1]


def test_the_person_consents_in_the_privacy_center(
    changed: tuple[httpx.Client, str, int], live_server: LiveServer
) -> None:
    api, subject, version = changed
    with _browser(live_server, api, subject, "ja") as web:
        home = web.get("/center").text
        assert "プライバシーポリシーが変更されました" in home
        # The new purpose is shown as awaiting consent, not as in use (利用の設定).
        settings = web.get("/center/settings").text
        assert "同意待ち" in settings and "あなたが同意されるまで" in settings
        page = web.get("/center/policy-changes")
        assert page.status_code == 200
        assert "同意をお願いしている変更" in page.text
        assert "「メールアドレス」、「住所」を利用目的「提携先の商品をご案内するため」" in page.text
        action = f"/center/policy-changes/{version}/consent"
        assert f'action="{action}?lang=ja"' in page.text
        wrong = web.post(action, data={"csrf_token": "wrong"})
        assert wrong.status_code == 403
        assert _read(api, subject)["refused"] == {"email": "consent_required"}
        done = web.post(action, data={"csrf_token": _csrf(page.text)})
        assert done.status_code == 200
        assert "同意を記録しました" in done.text
        assert "第2版の変更に" in done.text and "プライバシーセンター" in done.text
        assert _read(api, subject)["refused"] == {}
        after = web.get("/center").text
        assert "プライバシーポリシーが変更されました" not in after
        assert "同意待ち" not in web.get("/center/settings").text
        history = web.get("/center/policy-history").text
        assert '<a href="/privacy/versions/1?lang=ja">' in history
        assert "同意が必要" in history


def test_a_notice_shows_in_english_until_read(live_server: LiveServer, tmp_path: Path) -> None:
    runtime = live_server.runtime
    token = _token(live_server, ["read", "write"], ["service_operation"])
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        subject = api.post(
            "/subjects", json={"type": "customer", "items": {"email": "a@example.jp"}}
        ).json()["id"]
        path = edits.write_edited(tmp_path / "p.yaml", edits.related_purpose, edits.revision)
        version = runtime.publish_file(path, actor="test").version
        with _browser(live_server, api, subject, "en") as web:
            assert "Our privacy policy has changed" in web.get("/center").text
            page = web.get("/center/policy-changes").text
            assert "To tell you of the anniversary of your use of our Services" in page
            assert "reasonably related to an earlier purpose" in page
            read = web.post(
                f"/center/policy-changes/{version}/read", data={"csrf_token": _csrf(page)}
            )
            assert "Notice marked as read." in read.text
            assert "There are no changes to tell you about." in read.text
            assert "Our privacy policy has changed" not in web.get("/center").text


def test_the_policy_page_lists_its_history_and_serves_every_version(
    live_server: LiveServer, tmp_path: Path
) -> None:
    runtime = live_server.runtime
    path = edits.write_edited(tmp_path / "p.yaml", edits.joint_user, edits.revision)
    runtime.publish_file(path, actor="test")
    with httpx.Client(base_url=live_server.url, headers={"Accept": "text/html"}) as web:
        page = web.get("/privacy?lang=ja").text
        assert '<a href="/privacy/versions/1?lang=ja">第1版</a>' in page
        assert '<a href="/privacy/versions/2?lang=ja" aria-current="page">第2版</a>' in page
        assert "提携する式場" in page  # what changed, in words
        old = web.get("/privacy/versions/1?lang=en")
        assert old.status_code == 200
        assert "This is an earlier version" in old.text
        assert "Partner wedding venues" in old.text  # the history on every version's page
        assert "consent required" in web.get("/privacy/versions?lang=en").text
        assert web.get("/privacy/versions/3").status_code == 404


def test_the_python_client_reads_changes_and_records_a_consent(
    changed: tuple[httpx.Client, str, int], live_server: LiveServer
) -> None:
    from mamori.client import Client
    from mamori.errors import ApiError

    api, subject, version = changed
    token = api.headers["Authorization"].removeprefix("Bearer ")
    with Client(live_server.url, token) as client:
        change = client.policy_changes()[-1]
        assert change.version == version and change.level == "consent_required"
        assert ("email", "partner_offers") in change.consent_uses
        assert [c.version for c in client.policy_consents(subject).pending] == [version]
        given = client.give_policy_consent(subject, version)
        assert (given.version, given.channel) == (version, "api")
        assert client.give_policy_consent(subject, version).consented_at == given.consented_at
        consents = client.policy_consents(subject)
        assert consents.pending == [] and [g.version for g in consents.given] == [version]
        assert client.read(subject, purpose="partner_offers", items=["email"]).refused == {}
        with pytest.raises(ApiError) as refused:
            client.give_policy_consent(subject, 1)
        assert refused.value.status == 404
