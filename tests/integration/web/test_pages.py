"""The server: the privacy policy in both languages, versions, health, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from mamori import __version__
from mamori.app import Runtime
from mamori.web.app import create_app
from tests.helpers.paths import MINIMAL
from tests.helpers.runtime import open_test_runtime
from tests.helpers.server import LiveServer


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def test_privacy_is_japanese_by_default(client: TestClient) -> None:
    response = client.get("/privacy")
    assert response.status_code == 200
    assert response.headers["content-language"] == "ja"
    assert '<html lang="ja">' in response.text
    assert "株式会社ココチエ" in response.text
    assert "プライバシーポリシー" in response.text
    assert "https://tools.google.com/dlpage/gaoptout?hl=ja" in response.text


def test_privacy_in_english_by_query_and_by_accept_language(client: TestClient) -> None:
    by_query = client.get("/privacy?lang=en")
    by_header = client.get("/privacy", headers={"Accept-Language": "en-GB,en;q=0.9,ja;q=0.5"})
    for response in (by_query, by_header):
        assert response.status_code == 200
        assert response.headers["content-language"] == "en"
        assert '<html lang="en">' in response.text
        assert "Privacy Policy" in response.text
    assert by_query.text == by_header.text
    assert "Accept-Language" in by_header.headers["vary"]


def test_unsupported_language_is_a_clear_400(client: TestClient) -> None:
    response = client.get("/privacy?lang=fr", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert "ja(日本語)または en(英語)を指定してください" in response.text  # the page's language
    api = client.get("/privacy?lang=fr")
    assert api.status_code == 400
    assert api.json() == {"error": "unsupported language in ?lang=: use ja or en", "status": 400}


def test_a_new_version_is_served_and_the_old_one_kept(client: TestClient, runtime: Runtime) -> None:
    first = client.get("/api/v1/policy").json()
    result = runtime.publish_file(MINIMAL, actor="test")
    assert result.created and result.version == first["version"] + 1
    assert "株式会社例" in client.get("/privacy").text
    old = client.get(f"/privacy/versions/{first['version']}")
    assert old.status_code == 200
    assert "株式会社ココチエ" in old.text
    assert "過去の版" in old.text
    listing = client.get("/privacy/versions")
    assert f"/privacy/versions/{result.version}" in listing.text
    assert client.get("/privacy/versions/999").status_code == 404
    for beyond in (2**31, 2**63):  # beyond the version column's range: not found either
        assert client.get(f"/privacy/versions/{beyond}").status_code == 404


def test_api_policy_matches_the_published_declaration(client: TestClient) -> None:
    body = client.get("/api/v1/policy").json()
    assert body["version"] == 1
    assert body["policy_id"] == body["policy"]["id"]
    assert len(body["content_hash"]) == 64
    versions = client.get("/api/v1/policy/versions").json()
    assert [v["version"] for v in versions] == [1]
    assert client.get("/api/v1/policy/versions/2").status_code == 404
    assert client.get("/api/v1/policy/versions/0").status_code == 422  # versions start at 1


def test_health_openapi_and_index(client: TestClient) -> None:
    health = client.get("/healthz")  # liveness: no database asked
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "version": __version__}
    spec = client.get("/openapi.json").json()
    assert "/api/v1/policy" in spec["paths"]
    index = client.get("/")
    assert index.status_code == 200 and "/privacy" in index.text


def test_unknown_page_is_a_404_page_in_the_right_language(client: TestClient) -> None:
    html = client.get("/nope", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert html.status_code == 404
    assert "Page not found" in html.text
    api = client.get("/api/v1/nope")
    assert api.status_code == 404 and api.json()["status"] == 404


def test_security_headers(client: TestClient) -> None:
    headers = client.get("/privacy").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_hsts_over_https_only(runtime: Runtime, live_server: LiveServer) -> None:
    with TestClient(create_app(runtime=runtime), base_url="https://privacy.example.jp") as https:
        hsts = https.get("/privacy").headers["strict-transport-security"]
        assert hsts == "max-age=63072000; includeSubDomains"
        assert "strict-transport-security" in https.get("/api/v1/nope").headers  # errors too
    with TestClient(create_app(runtime=runtime)) as plain:
        assert "strict-transport-security" not in plain.get("/privacy").headers
    # Behind a TLS-terminating proxy on a trusted address (uvicorn's FORWARDED_ALLOW_IPS).
    proxied = httpx.get(f"{live_server.url}/privacy", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["strict-transport-security"].startswith("max-age=")
    direct = httpx.get(f"{live_server.url}/privacy")
    assert "strict-transport-security" not in direct.headers


def test_first_start_creates_an_owner_only_key_file_and_audits(runtime: Runtime) -> None:
    key_file = runtime.settings.effective_master_key_file
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert runtime.settings.data_dir.stat().st_mode & 0o777 == 0o700
    actions = [entry.action for entry in runtime.audit.tail(10)]
    assert "policy.publish" in actions
    # The embedded default creates (and audits) its key; PostgreSQL never does so silently.
    assert ("keys.master.create" in actions) == runtime.settings.is_embedded
    assert runtime.audit.verify().ok
