"""The privacy center over HTTP: signed links, sessions, CSRF, usage stops, withdrawal.

A live server (uvicorn) answers both the host service's API client and a person's plain HTTP
client (no JavaScript, as a browser without it would send the forms).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.center import access
from mamori.client import Client
from mamori.errors import ApiError
from mamori.store import tables
from mamori.vault import service_keys
from mamori.vault.access import Caller
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.requests import mails
from tests.helpers.runtime import open_test_runtime
from tests.helpers.server import LiveServer

PURPOSES = ["service_operation", "promotion", "advertising", "statistics"]
ESSENTIAL_ITEM_JA = "この項目はサービスの提供に必須のため、退会によってのみ停止できます"
ESSENTIAL_ITEM_EN = "This item is essential to the service and stops only when you withdraw"
LINK_INVALID_JA = "このリンクは無効か、有効期限が切れています"


def _key(server: LiveServer, operations: tuple[str, ...] = ("read", "write", "delete")) -> str:
    runtime = server.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=PURPOSES,
        operations=list(operations),
        actor="test",
    )
    return token


@pytest.fixture
def host(live_server: LiveServer) -> Iterator[Client]:
    """The host service, with a key for every purpose the tests read."""
    with Client(live_server.url, _key(live_server)) as client:
        yield client


@pytest.fixture
def person(host: Client) -> str:
    return host.create_subject(
        "customer",
        external_id="center-1",
        items={"name": "山田 花子", "email": "hanako@example.jp", "address": "東京都"},
    )


def _browser(server: LiveServer, lang: str = "ja") -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        follow_redirects=False,
        headers={"Accept": "text/html", "Accept-Language": lang},
    )


@pytest.fixture
def web(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The person's browser, without JavaScript."""
    with _browser(live_server) as client:
        yield client


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _sign_in(web: httpx.Client, host: Client, subject: str) -> httpx.Response:
    response = web.get(_path(host.center_link(subject)))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/center"
    return response


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match[1]


def _home(web: httpx.Client) -> str:
    response = web.get("/center")
    assert response.status_code == 200, response.text
    return response.text


def _later(server: LiveServer, **delta: float) -> None:
    clock = server.runtime.clock
    assert isinstance(clock, ManualClock)
    clock.advance(**delta)


def _sessions(server: LiveServer) -> int:
    table = tables.center_sessions
    with server.runtime.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


# -- links ---------------------------------------------------------------------------------


def test_the_link_is_signed_short_lived_and_audited(
    host: Client, person: str, live_server: LiveServer
) -> None:
    before = dt.datetime.now(dt.UTC)
    raw = httpx.post(
        f"{live_server.url}/api/v1/subjects/{person}/center-link",
        headers={"Authorization": f"Bearer {_key(live_server)}"},
    )
    assert raw.status_code == 201
    body = raw.json()
    assert body["url"].startswith(f"{live_server.url}/center/enter?token=")
    token = body["url"].split("token=", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}", token)
    expires = dt.datetime.fromisoformat(body["expires_at"])
    minutes = live_server.runtime.settings.center_link_minutes
    assert before + dt.timedelta(minutes=minutes) <= expires
    assert expires <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    # only the hash of the nonce is stored
    with live_server.runtime.engine.connect() as conn:
        stored = conn.execute(sa.select(tables.center_links.c.nonce_hash)).scalars().all()
    assert len(stored) == 1 and len(stored[0]) == 32
    assert stored[0] not in token.encode()
    entry = live_server.runtime.audit.tail(1)[0]
    assert (entry.action, entry.targets) == ("center.link", (f"subject:{person}",))
    assert entry.details == {"minutes": minutes, "operations": "read.write.delete"}


def test_the_link_needs_write_and_an_active_subject(
    host: Client, person: str, live_server: LiveServer
) -> None:
    with (
        Client(live_server.url, _key(live_server, ("read",))) as reader,
        pytest.raises(ApiError) as caught,
    ):
        reader.center_link(person)
    assert caught.value.status == 403
    with pytest.raises(ApiError) as missing:
        host.center_link("0" * 32)
    assert missing.value.status == 404
    host.withdraw(person)
    with pytest.raises(ApiError, match="has withdrawn") as withdrawn:
        host.center_link(person)
    assert withdrawn.value.status == 409


def test_a_link_opens_one_session_only(
    host: Client, person: str, web: httpx.Client, live_server: LiveServer
) -> None:
    link = _path(host.center_link(person))
    entered = web.get(link)
    assert entered.status_code == 303 and entered.headers["location"] == "/center"
    assert "token" not in entered.headers["location"]
    assert "プライバシーセンター" in _home(web)
    with _browser(live_server) as other:
        again = other.get(link)
        assert again.status_code == 410
        assert LINK_INVALID_JA in again.text
        assert "新しいリンク" in again.text
        assert "set-cookie" not in again.headers
        assert other.get("/center").status_code == 401
    actions = [(e.action, e.details) for e in live_server.runtime.audit.tail(3)]
    assert actions[-2:] == [
        ("center.enter", {"result": "ok"}),
        ("center.enter", {"result": "refused", "reason": "used"}),
    ]


def test_racing_requests_with_one_link_open_one_session(
    host: Client, person: str, live_server: LiveServer
) -> None:
    link = _path(host.center_link(person))

    def follow(_: int) -> int:
        with _browser(live_server) as client:
            return client.get(link).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(follow, range(4)))
    assert statuses == [303, 410, 410, 410]
    assert _sessions(live_server) == 1


def test_an_expired_link_is_refused(
    host: Client, person: str, web: httpx.Client, live_server: LiveServer
) -> None:
    link = _path(host.center_link(person))
    _later(live_server, minutes=10, seconds=1)
    response = web.get(link)
    assert response.status_code == 410
    assert LINK_INVALID_JA in response.text
    assert "mamori_center" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: ("B" if t[0] != "B" else "C") + t[1:],  # nonce changed
        lambda t: t.split(".")[0],  # no signature
        lambda t: "not-a-token",
        lambda t: "",
    ],
    ids=["signature", "nonce", "unsigned", "garbage", "empty"],
)
def test_a_forged_token_is_refused(host: Client, person: str, web: httpx.Client, mangle) -> None:
    token = host.center_link(person).split("token=", 1)[1]
    response = web.get("/center/enter", params={"token": mangle(token)})
    assert response.status_code == 400
    assert LINK_INVALID_JA in response.text
    assert response.headers["content-language"] == "ja"
    # the real link still works: a forgery spends nothing
    assert web.get("/center/enter", params={"token": token}).status_code == 303


def test_no_token_and_english(web: httpx.Client) -> None:
    response = web.get("/center/enter?lang=en")
    assert response.status_code == 400
    assert "This link is invalid or has expired" in response.text
    assert response.headers["content-language"] == "en"


def test_a_withdrawn_person_cannot_enter(host: Client, person: str, web: httpx.Client) -> None:
    link = _path(host.center_link(person))
    host.withdraw(person)  # deletes the person's links and sessions
    response = web.get(link)
    assert response.status_code == 400
    assert "set-cookie" not in response.headers
    assert web.get("/center").status_code == 401


# -- sessions ------------------------------------------------------------------------------


def test_the_session_cookie(host: Client, person: str, web: httpx.Client) -> None:
    cookie = _sign_in(web, host, person).headers["set-cookie"]
    name, _, attributes = cookie.partition(";")
    assert name.startswith("mamori_center=")
    flags = {a.strip().split("=")[0].lower(): a.strip() for a in attributes.split(";")}
    assert "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"
    assert flags["path"] == "Path=/center"
    assert "secure" not in flags  # plain http on loopback; https requests get Secure
    assert "max-age" not in flags and "expires" not in flags  # ends with the browser


def test_over_https_the_link_and_the_cookie_say_so(person: str, live_server: LiveServer) -> None:
    runtime = live_server.runtime
    app = create_app(runtime=runtime)
    with TestClient(app, base_url="https://privacy.example.jp") as client:
        issued = client.post(
            f"/api/v1/subjects/{person}/center-link",
            headers={"Authorization": f"Bearer {_key(live_server)}"},
        )
        assert issued.json()["url"].startswith("https://privacy.example.jp/center/enter?token=")
        link = access.issue_link(runtime.vault, Caller.system("test"), person, minutes=5)
        entered = client.get(f"/center/enter?token={link.token}", follow_redirects=False)
    assert entered.status_code == 303
    assert "; secure" in entered.headers["set-cookie"].lower()


def test_the_session_is_stored_hashed(
    host: Client, person: str, web: httpx.Client, live_server: LiveServer
) -> None:
    _sign_in(web, host, person)
    token = web.cookies["mamori_center"]
    table = tables.center_sessions
    with live_server.runtime.engine.connect() as conn:
        row = conn.execute(sa.select(table)).one()
    assert row.subject_id == person
    assert row.token_hash == hashlib.sha256(token.encode()).digest()
    assert token.encode() not in row.token_hash
    assert _csrf(_home(web)) == row.csrf_token


def test_no_session_explains_how_to_get_in(web: httpx.Client) -> None:
    response = web.get("/center")
    assert response.status_code == 401
    assert "プライバシーセンターに入るには" in response.text
    assert "株式会社ココチエのサービスから開きます" in response.text
    assert response.headers["cache-control"] == "no-store"
    web.cookies.set("mamori_center", "x" * 43, path="/center")
    bogus = web.get("/center")
    assert bogus.status_code == 401
    assert 'mamori_center=""' in bogus.headers["set-cookie"]  # the stale cookie is cleared
    english = web.get("/center", headers={"Accept-Language": "en"})
    assert "How to open the privacy center" in english.text


def test_the_session_slides_and_expires(
    host: Client,
    person: str,
    web: httpx.Client,
    live_server: LiveServer,
) -> None:
    minutes = live_server.runtime.settings.center_session_minutes
    _sign_in(web, host, person)
    _later(live_server, minutes=minutes - 5)  # at minutes - 5
    assert web.get("/center").status_code == 200  # used: the expiry moves
    _later(live_server, minutes=minutes - 5)  # at 2 * minutes - 10
    assert web.get("/center").status_code == 200
    _later(live_server, minutes=minutes + 1)  # at 3 * minutes - 9
    expired = web.get("/center")
    assert expired.status_code == 401
    assert _sessions(live_server) == 0  # deleted when presented


def test_signing_in_again_ends_the_earlier_session(
    host: Client, person: str, web: httpx.Client, live_server: LiveServer
) -> None:
    _sign_in(web, host, person)
    first = web.cookies["mamori_center"]
    _sign_in(web, host, person)
    assert web.cookies["mamori_center"] != first
    assert _sessions(live_server) == 1


def test_logout(host: Client, person: str, web: httpx.Client, live_server: LiveServer) -> None:
    _sign_in(web, host, person)
    token = _csrf(_home(web))
    assert web.post("/center/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert _sessions(live_server) == 1
    response = web.post("/center/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/center/signed-out"
    assert 'mamori_center=""' in response.headers["set-cookie"]
    assert _sessions(live_server) == 0
    assert "ログアウトしました" in web.get("/center/signed-out").text
    assert web.get("/center").status_code == 401
    assert live_server.runtime.audit.tail(1)[0].action == "center.leave"


# -- usage-stop settings -------------------------------------------------------------------


def test_the_settings_page(host: Client, person: str, web: httpx.Client) -> None:
    _sign_in(web, host, person)
    home = web.get("/center").text
    assert "利用の停止を求めることができ" in home  # usage_stop, on the home
    assert 'href="/center/settings?lang=ja"' in home and 'name="purpose.promotion"' not in home
    response = web.get("/center/settings")
    html = response.text
    assert response.headers["content-language"] == "ja"
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script" not in html
    assert (
        "利用者情報の項目ごとに、利用の停止を設定できます" in html
    )  # requests.usage_stop_settings
    assert 'href="/privacy?lang=ja"' in html
    # stoppable purposes and items have a use/stop pair; essential ones have none
    for field in ("purpose.promotion", "purpose.advertising", "item.address", "item.phone"):
        assert f'name="{field}" value="use" checked' in html
        assert f'name="{field}" value="stop"' in html
    for field in ("purpose.service_operation", "item.email", "item.name", "item.ip_address"):
        assert f'name="{field}"' not in html
    assert html.count(ESSENTIAL_ITEM_JA) == 6  # name, email, content, device_model, os, ip
    assert 'href="/center/withdraw?lang=ja"' in html
    assert "business_communication" not in html  # not a purpose for customers
    english = web.get("/center/settings?lang=en").text
    assert ESSENTIAL_ITEM_EN in english and "Usage settings" in english


def test_stopping_a_purpose_takes_effect_on_the_very_next_read(
    host: Client, person: str, web: httpx.Client, live_server: LiveServer
) -> None:
    assert host.read(person, purpose="promotion", items=["email"]).items
    _sign_in(web, host, person)
    form = {"csrf_token": _csrf(_home(web)), "purpose.promotion": "stop", "item.address": "use"}
    saved = web.post("/center/settings", data=form)
    assert saved.status_code == 200
    assert "設定を保存しました" in saved.text
    assert 'name="purpose.promotion" value="stop" checked' in saved.text
    entry = live_server.runtime.audit.tail(1)[0]
    assert (entry.actor, entry.action) == (f"subject:{person}", "subject.restrictions")
    assert entry.details == {"purpose.promotion": "stopped"}
    assert host.read(person, purpose="promotion", items=["email"]).refused == {
        "email": "stopped_by_person"
    }
    assert host.read(person, purpose="service_operation", items=["email"]).items
    # an item stop, and resuming the purpose
    form.update({"purpose.promotion": "use", "item.address": "stop"})
    web.post("/center/settings", data=form)
    settings = host.restrictions(person)
    assert settings.stopped_purposes == set() and settings.stopped_items == {"address"}
    assert host.read(person, purpose="promotion", items=["email"]).items
    assert host.read(person, purpose="service_operation", items=["address"]).refused == {
        "address": "stopped_by_person"
    }
    # a field the form does not send keeps its state
    web.post("/center/settings", data={"csrf_token": form["csrf_token"]})
    assert host.restrictions(person).stopped_items == {"address"}


@pytest.mark.parametrize("token", [None, "", "wrong", "é" * 43])
def test_a_form_without_the_right_csrf_token_changes_nothing(
    host: Client, person: str, web: httpx.Client, token: str | None
) -> None:
    _sign_in(web, host, person)
    form = {"purpose.promotion": "stop"}
    if token is not None:
        form["csrf_token"] = token
    for path in ("/center/settings", "/center/withdraw"):
        response = web.post(path, data={**form, "confirm": "yes"})
        assert response.status_code == 403, path
        assert "送信内容を受け付けられませんでした" in response.text
    assert host.restrictions(person).stopped_purposes == set()
    assert host.read(person, purpose="promotion", items=["email"]).items


def test_a_form_without_a_session_is_a_401(host: Client, person: str, web: httpx.Client) -> None:
    response = web.post("/center/settings", data={"purpose.promotion": "stop"})
    assert response.status_code == 401
    assert host.restrictions(person).stopped_purposes == set()


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("item.email", "stop", "退会によってのみ停止できます"),
        ("purpose.service_operation", "stop", "退会によってのみ停止できます"),
        ("item.contact_email", "stop", "お客さまの設定にない項目"),
        ("item.emial", "use", "お客さまの設定にない項目"),
        ("purpose.promotion", "maybe", "入力内容をお確かめのうえ"),  # the detail: English pages
    ],
)
def test_a_forged_form_is_a_clear_400_and_changes_nothing(
    host: Client, person: str, web: httpx.Client, field: str, value: str, text: str
) -> None:
    _sign_in(web, host, person)
    form = {"csrf_token": _csrf(_home(web)), "item.address": "stop", field: value}
    response = web.post("/center/settings", data=form)
    assert response.status_code == 400
    assert text in response.text
    settings = host.restrictions(person)
    assert settings.stopped_items == set() and settings.stopped_purposes == set()


def test_the_settings_and_data_pages_need_a_session(
    host: Client, person: str, web: httpx.Client
) -> None:
    for path in ("/center/settings?lang=en", "/center/data?lang=en"):
        response = web.get(path)
        assert response.status_code == 401
        assert "How to open the privacy center" in response.text
        assert 'href="/center/requests?lang=en"' in response.text  # where to ask without one
    _sign_in(web, host, person)
    assert "<h1>Usage settings</h1>" in web.get("/center/settings?lang=en").text
    data = web.get("/center/data?lang=en").text
    assert "<h1>My data</h1>" in data and 'id="held-email"' in data


# -- withdrawal ----------------------------------------------------------------------------


def test_withdrawal_through_the_page(
    host: Client, person: str, web: httpx.Client, live_server: LiveServer
) -> None:
    _sign_in(web, host, person)
    page = web.get("/center/withdraw")
    assert page.status_code == 200
    assert "取り消せません" in page.text and "鍵を破棄します" in page.text
    token = _csrf(page.text)
    unconfirmed = web.post("/center/withdraw", data={"csrf_token": token})
    assert unconfirmed.status_code == 400
    assert "確認のチェックボックスを選んでください" in unconfirmed.text
    assert not host.restrictions(person).withdrawn
    done = web.post("/center/withdraw", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 200
    assert "退会の手続きが完了しました" in done.text
    assert 'mamori_center=""' in done.headers["set-cookie"]
    entry = next(e for e in live_server.runtime.audit.tail(5) if e.action == "subject.withdraw")
    assert entry.actor == f"subject:{person}"
    # A confirmation goes to the address the person held, once, naming no one in the outbox.
    [confirmation] = mails(live_server.runtime, "withdrawal_done")
    assert confirmation.summary.subject_id is None
    assert "hanako@example.jp" in str(confirmation.to)
    assert "退会の手続きが完了しました" in (confirmation.subject or "")
    assert host.read(person, purpose="service_operation", items=["email"]).refused == {
        "email": "withdrawn"
    }
    assert _sessions(live_server) == 0
    web.cookies.set("mamori_center", token, path="/center")  # whatever the browser still holds
    assert web.get("/center").status_code == 401


def test_links_use_the_public_url_when_it_is_set(tmp_path: Path, database_url: str) -> None:
    runtime = open_test_runtime(
        tmp_path, database_url, public_url="https://privacy.kokochie.example"
    )
    try:
        _, token = service_keys.create(
            runtime.engine,
            runtime.audit,
            name="t",
            purposes=["service_operation"],
            operations=["read", "write"],
            actor="test",
        )
        with TestClient(create_app(runtime=runtime)) as client:
            auth = {"Authorization": f"Bearer {token}"}
            created = client.post("/api/v1/subjects", json={"type": "customer"}, headers=auth)
            subject = created.json()["id"]
            link = client.post(f"/api/v1/subjects/{subject}/center-link", headers=auth).json()
        assert link["url"].startswith("https://privacy.kokochie.example/center/enter?token=")
    finally:
        runtime.close()
