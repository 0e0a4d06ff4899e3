"""Consent over HTTP: the script and its size, settings with Sec-GPC, the receipt endpoint, the
forms without JavaScript, the privacy center's cookie page, the export API and the CLI."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mamori.app import Runtime
from mamori.center import access
from mamori.cli import app as cli
from mamori.consent.choice import COOKIE
from mamori.consent.receipts import ReceiptLog
from mamori.vault import service_keys
from mamori.vault.access import Caller
from mamori.web.app import create_app
from mamori.web.public.banner import STATIC
from tests.helpers.runtime import open_test_runtime

BUDGET = 6 * 1024


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, consent_origins=["https://www.example.jp"])
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def _log(runtime: Runtime) -> ReceiptLog:
    return ReceiptLog(runtime.engine, runtime.audit, days=180)


def _post(client: TestClient, body: dict[str, object], **headers: str):
    return client.post(
        "/consent/receipts",
        content=orjson.dumps(body),
        headers={"Content-Type": "text/plain", **headers},
    )


def _choice(client: TestClient, **extra: object) -> dict[str, object]:
    config = client.get("/consent/config?lang=ja").json()
    return {
        "version": config["version"],
        "lang": "ja",
        "hash": config["hash"],
        "gpc": False,
        "method": "accept_all",
    } | extra


def test_script_and_style_fit_in_six_kilobytes_gzip(client: TestClient) -> None:
    js = client.get("/consent/banner.js")
    css = client.get("/consent/banner.css")
    assert js.status_code == css.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert css.headers["content-type"].startswith("text/css")
    sizes = {name: len(gzip.compress(r.content, 9)) for name, r in (("js", js), ("css", css))}
    total = sizes["js"] + sizes["css"]
    print(
        f"\nbanner size, gzip -9: script {sizes['js']:,} B + style {sizes['css']:,} B = "
        f"{total:,} B (budget {BUDGET:,} B); raw {len(js.content) + len(css.content):,} B"
    )
    assert total <= BUDGET
    assert js.content == (STATIC / "banner.js").read_bytes()
    assert b"import " not in js.content and b"require(" not in js.content  # no dependencies


def test_script_and_style_go_over_the_wire_gzip_within_the_budget(client: TestClient) -> None:
    wire = 0
    for path in ("/consent/banner.js", "/consent/banner.css"):
        with client.stream("GET", path, headers={"Accept-Encoding": "gzip, br"}) as answer:
            raw = b"".join(answer.iter_raw())
            assert answer.headers["content-encoding"] == "gzip"
            assert "Accept-Encoding" in answer.headers["vary"]
        assert gzip.decompress(raw) == (STATIC / path.rsplit("/", 1)[1]).read_bytes()
        wire += len(raw)
    print(f"\nbanner on the wire: {wire:,} B (budget {BUDGET:,} B)")
    assert wire <= BUDGET
    plain_request = {"Accept-Encoding": "identity"}
    with client.stream("GET", "/consent/banner.js", headers=plain_request) as plain:
        assert "content-encoding" not in plain.headers
        assert b"".join(plain.iter_raw()) == (STATIC / "banner.js").read_bytes()


def test_config_reads_sec_gpc_on_the_server(client: TestClient) -> None:
    plain = client.get("/consent/config?lang=en")
    assert plain.status_code == 200
    config = plain.json()
    assert config["gpc"] is False and config["text"]["accept"] == "Accept all"
    assert config["modes"]["advertising"] == ["ad_storage", "ad_user_data", "ad_personalization"]
    assert config["days"] == 180 and len(config["section"]) == 16
    assert config["alt"]["text"]["accept"] == "Accept (except Advertising)"
    assert "Sec-GPC" in plain.headers["vary"]
    signalled = client.get("/consent/config?lang=en", headers={"Sec-GPC": "1"}).json()
    assert signalled["gpc"] is True and "alt" not in signalled
    assert signalled["text"]["accept"] == "Accept (except Advertising)"
    assert signalled["hash"] == config["alt"]["hash"]
    assert client.get("/consent/config?lang=fr").status_code == 400


def test_origins_other_than_the_listed_ones_are_refused(client: TestClient) -> None:
    allowed = client.get("/consent/config", headers={"Origin": "https://www.example.jp"})
    assert allowed.headers["access-control-allow-origin"] == "https://www.example.jp"
    refused = client.get("/consent/config", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert refused.json()["error"].startswith("This site may not record cookie choices")
    posted = _post(client, _choice(client), Origin="https://evil.example")
    assert posted.status_code == 403


def test_a_receipt_is_stored_and_returned(client: TestClient, runtime: Runtime) -> None:
    answer = _post(client, _choice(client, gpc=True), Origin="https://www.example.jp")
    assert answer.status_code == 201, answer.text
    assert answer.headers["access-control-allow-origin"] == "https://www.example.jp"
    body = answer.json()
    stored = _log(runtime).latest(body["consent_id"])
    assert stored is not None and stored.seq == body["receipt"] and stored.gpc is True
    assert stored.source == "banner" and stored.method == "accept_all"
    again = _post(client, _choice(client, consent_id=body["consent_id"], method="reject_all"))
    assert again.json()["consent_id"] == body["consent_id"]
    latest = _log(runtime).latest(body["consent_id"])
    assert latest is not None and latest.method == "reject_all"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "JSON object"),
        (b"[1]", "JSON object"),
        (b'{"version": "1"}', "version"),
        (b'{"version": 1, "hash": "00", "lang": "ja"}', "text hash"),
        (b'{"version": 1, "hash": "00", "lang": "de"}', "lang"),
        (b'{"version": 9223372036854775808, "hash": "00", "lang": "ja"}', "never published"),
        (b'{"version": 2147483648, "hash": "00", "lang": "ja"}', "never published"),
        (b'{"version": 0, "hash": "00", "lang": "ja"}', "never published"),
    ],
)
def test_bad_bodies_are_400_with_a_message(client: TestClient, body: bytes, message: str) -> None:
    answer = client.post("/consent/receipts", content=body)
    assert answer.status_code == 400
    assert message in answer.json()["error"] and answer.json()["status"] == 400


def test_unknown_categories_and_huge_bodies_are_refused(
    client: TestClient, runtime: Runtime
) -> None:
    bad = _post(client, _choice(client, method="custom", categories={"tracking": True}))
    assert bad.status_code == 400 and "tracking" in bad.json()["error"]
    huge = client.post("/consent/receipts", content=b"{" + b" " * 20000 + b"}")
    assert huge.status_code == 413 and "larger than" in huge.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused as it comes
        yield b"{"
        for _ in range(100):
            yield b" " * 1000

    streamed = client.post("/consent/receipts", content=chunks())
    assert streamed.status_code == 413
    assert _log(runtime).count() == 0


def test_the_form_without_javascript_records_and_sets_the_cookie(
    client: TestClient, runtime: Runtime
) -> None:
    page = client.get("/consent?lang=ja", headers={"Sec-GPC": "1"})
    assert page.status_code == 200 and "すべて拒否する" in page.text
    assert "グローバル・プライバシー・コントロール" in page.text
    fields = dict(re.findall(r'name="(version|lang|hash)" value="([^"]+)"', page.text))
    answer = client.post(
        "/consent",
        data=fields | {"method": "custom", "category.advertising": "on", "service.youtube": "on"},
        headers={"Sec-GPC": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/consent?saved=1&lang=ja"
    cookie = client.cookies[COOKIE]
    receipt = _log(runtime).latest(cookie.split(".")[0])
    assert receipt is not None and receipt.source == "form" and receipt.gpc is True
    assert receipt.categories["advertising"] is True  # the explicit choice wins over GPC
    assert receipt.services == {
        "google_analytics": False,
        "a8net": False,
        "google_ads": False,
        "youtube": True,
    }
    shown = client.get("/consent?lang=ja&saved=1")
    assert "クッキーの設定を保存しました" in shown.text and "広告: 有効" in shown.text
    cross = client.post(
        "/consent",
        data=fields | {"method": "accept_all"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    for version in ("99999999999999999999", "2147483648", "-3", "x"):
        stale = client.post("/consent", data=fields | {"version": version, "method": "accept_all"})
        assert stale.status_code == 400 and "version" in stale.json()["error"]


@pytest.mark.parametrize("at", ["999999999999", "253402300800", "0"])
def test_a_cookie_dated_where_no_clock_goes_is_ignored(client: TestClient, at: str) -> None:
    """An expiry past year 9999 was a ValueError and a 500; it is a cookie to ignore."""
    forged = f"{'a' * 22}.{'0' * 16}.{at}.analytics.ads"
    client.cookies.set(COOKIE, forged)
    page = client.get("/consent?lang=ja")
    assert page.status_code == 200 and "まだ選択されていません" in page.text
    assert client.get("/consent/config?lang=en").status_code == 200


def test_the_privacy_center_cookie_page_records_the_subject(
    client: TestClient, runtime: Runtime
) -> None:
    assert client.get("/center/cookies", follow_redirects=False).status_code == 401
    host = Caller(actor_id="system:test", purposes=frozenset({"service_operation"}))
    subject = runtime.vault.create_subject(host, type="customer", items={"name": "山田 花子"})
    link = access.issue_link(runtime.vault, host, subject, minutes=10)
    client.get(f"/center/enter?token={link.token}", follow_redirects=False)
    page = client.get("/center/cookies?lang=en")
    assert page.status_code == 200 and "Cookie settings" in page.text
    fields = dict(re.findall(r'name="(version|lang|hash|csrf_token)" value="([^"]+)"', page.text))
    refused = client.post(
        "/center/cookies", data=fields | {"csrf_token": "x", "method": "accept_all"}
    )
    assert refused.status_code == 403
    answer = client.post(
        "/center/cookies", data=fields | {"method": "reject_all"}, follow_redirects=False
    )
    assert answer.status_code == 303
    receipt = _log(runtime).latest(client.cookies[COOKIE].split(".")[0])
    assert receipt is not None and receipt.subject_id == subject and receipt.source == "center"
    assert "Analytics: Off" in client.get("/center/cookies?lang=en").text


def test_the_export_api_needs_a_key_that_reads(client: TestClient, runtime: Runtime) -> None:
    for method in ("accept_all", "reject_all"):
        assert _post(client, _choice(client, method=method)).status_code == 201
    assert client.get("/api/v1/consent/receipts").status_code == 401
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="x",
        purposes=["service_operation"],
        operations=["read"],
        actor="test",
    )
    answer = client.get(
        "/api/v1/consent/receipts?after=1", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    lines = [orjson.loads(line) for line in answer.text.splitlines()]
    assert [line["seq"] for line in lines] == [2] and lines[0]["method"] == "reject_all"
    assert runtime.audit.tail(1)[0].action == "consent.export"
    for after in ("-1", str(2**63)):
        bad = client.get(
            f"/api/v1/consent/receipts?after={after}", headers={"Authorization": f"Bearer {token}"}
        )
        assert bad.status_code == 422 and "after" in bad.json()["error"]
    assert runtime.audit.tail(1)[0].action == "consent.export"  # nothing audited for those


def test_the_cli_exports_and_verifies(
    client: TestClient, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _post(client, _choice(client)).status_code == 201
    monkeypatch.setenv("MAMORI_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("MAMORI_DATABASE_URL", runtime.settings.effective_database_url)
    target = tmp_path / "receipts.jsonl"
    result = CliRunner().invoke(cli, ["consent", "export", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "exported 1 consent receipts" in result.output
    assert orjson.loads(target.read_text().splitlines()[0])["method"] == "accept_all"
    result = CliRunner().invoke(cli, ["consent", "verify"])
    assert result.exit_code == 0 and "1 receipts" in result.output
