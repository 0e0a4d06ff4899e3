"""The Yobunara example's pages and webhook receiver over HTTP (no browser), on a live mamori:
English pages, bad input answered with 4xx and the form again (nothing stored), and the
webhook receiver that verifies signatures and processes each event once."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from mamori.vault import service_keys
from tests.helpers.server import LiveServer
from yobunara.settings import Settings
from yobunara.storage import Store
from yobunara.web import create_app

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
PASSWORD = "a long enough password"


@pytest.fixture
def site(live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    runtime = live_server.runtime
    _, key = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="yobunara",
        purposes=["service_operation", "shipping"],
        operations=["read", "write", "delete"],
        actor="test",
    )
    settings = Settings(
        mamori_url=live_server.url,
        api_key=key,
        webhook_secret=SECRET,
        database=tmp_path / "yobunara.db",
        session_secret="s",
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1:8001") as client:
        yield client, app.state.yobunara.store


def _sign_up(client: TestClient, lang: str = "ja", **fields: str) -> Any:
    form = {
        "name": "Hanako Yamada",
        "email": "hanako@example.jp",
        "address": "5-13-1 Minami-Aoyama",
        "phone": "090-1234-5678",
        "password": PASSWORD,
        **fields,
    }
    return client.post(f"/signup?lang={lang}", data=form, follow_redirects=False)


def test_english_pages_and_bad_input(site: tuple[TestClient, Store]) -> None:
    client, store = site
    home = client.get("/?lang=en")
    assert '<html lang="en">' in home.text and "Sign up" in home.text

    short = _sign_up(client, "en", password="short")
    assert short.status_code == 400
    assert "Use a password of 10 characters or more." in short.text
    bad_mail = _sign_up(client, "en", email="not-an-address")
    assert bad_mail.status_code == 400
    assert "Please check what you entered: E-mail address" in bad_mail.text
    assert store.counts()["accounts"] == 0

    done = _sign_up(client, "en")
    assert done.headers["location"] == "/dashboard?lang=en"
    assert _sign_up(client, "en").status_code == 400
    assert "Hello, Hanako Yamada" in client.get("/dashboard?lang=en").text

    form = {
        "event_date": "2027-04-10",
        "event_time": "11:00",
        "venue": "Chinzanso",
        "greeting": "Please come.",
        "video": "https://vimeo.com/1",
    }
    refused = client.post("/invitation/edit?lang=en", data=form)
    assert refused.status_code == 400 and "Enter the URL of a YouTube video." in refused.text
    assert store.counts()["invitations"] == 0
    assert client.post("/invitation/edit", data={**form, "event_date": "x"}).status_code == 422
    form["video"] = "https://youtu.be/aqz-KE-bpKQ"
    assert client.post("/invitation/edit", data=form, follow_redirects=False).status_code == 303

    assert client.get("/i/nothing-here?lang=en").status_code == 404
    client.post("/signout")
    wrong = client.post("/signin", data={"email": "hanako@example.jp", "password": "wrong one!"})
    assert wrong.status_code == 400 and "パスワードが違います" in wrong.text
    right = client.post(
        "/signin", data={"email": "Hanako@Example.jp", "password": PASSWORD}, follow_redirects=False
    )
    assert right.headers["location"] == "/dashboard"


def _delivery(event: dict[str, object], msg_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    now = dt.datetime.now(dt.UTC)
    signature = Webhook(SECRET).sign(msg_id, now, body.decode())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return body, headers


def test_the_webhook_is_verified_and_processed_once(site: tuple[TestClient, Store]) -> None:
    client, store = site
    _sign_up(client)
    [account] = store.accounts_of(_subjects(store))
    event: dict[str, object] = {
        "type": "subject.withdrawn",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "data": {"subject_id": account.subject_id},
    }
    body, headers = _delivery(event, "msg_1")
    assert client.post("/mamori/events", content=body + b" ", headers=headers).status_code == 400
    other = dict(headers, **{"webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()})
    assert client.post("/mamori/events", content=body, headers=other).status_code == 400
    assert store.counts()["accounts"] == 1, "nothing done on a delivery that fails to verify"

    assert client.post("/mamori/events", content=body, headers=headers).status_code == 204
    assert store.counts()["accounts"] == 0
    store.add_account("acct_again", account.subject_id, "h")  # a retry must not act again
    assert client.post("/mamori/events", content=body, headers=headers).status_code == 204
    assert store.counts()["accounts"] == 1


def _subjects(store: Store) -> list[str]:
    import sqlite3

    with sqlite3.connect(store.path) as conn:
        return [r[0] for r in conn.execute("SELECT subject_id FROM accounts")]
