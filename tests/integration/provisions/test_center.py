"""The privacy center's provision page: the person sees each recipient with its purpose, items
and, abroad, its APPI 28 information before consenting; consents and revokes there; and sees who
received their data. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.center import access
from mamori.provisions import consents
from mamori.provisions.gate import provide
from mamori.vault.access import Caller
from mamori.web.app import create_app
from mamori.web.center.provisions import _offers
from tests.helpers.cookies import cookie_choice
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


def _enter(client: TestClient, runtime: Runtime) -> str:
    subject = person(runtime, advertising_id="ad-1", cookie_id="ck-1")
    cookie_choice(runtime, subject)
    link = access.issue_link(runtime.vault, HOST, subject, minutes=10)
    assert client.get(f"/center/enter?token={link.token}", follow_redirects=False).status_code
    return subject


def _csrf(page: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found[1]


def _section(page: Any, recipient: str, purpose: str = "advertising") -> str:
    found = re.search(
        rf'<section [^>]*data-recipient="{recipient}" data-purpose="{purpose}">(.*?)</section>',
        page.text,
        re.S,
    )
    assert found, f"no section for {recipient}"
    return found[1]


def test_the_page_shows_what_a_person_consents_to_before_they_do(
    client: TestClient, runtime: Runtime
) -> None:
    assert client.get("/center/recipients", follow_redirects=False).status_code == 401
    _enter(client, runtime)
    home = client.get("/center?lang=ja")
    assert 'href="/center/recipients?lang=ja"' in home.text
    page = client.get("/center/recipients?lang=ja")
    assert page.status_code == 200 and "第三者への提供" in page.text
    a8 = _section(page, "a8net")
    assert "株式会社ファンコミュニケーションズ" in a8 and "東京都渋谷区" in a8
    assert "広告" in a8 and "日本" in a8 and "この提供に同意する" in a8
    google = _section(page, "google")
    assert "アメリカ合衆国" in google
    assert "その国の個人情報の保護に関する制度" in google and "OECD" in google
    assert "提供先が講じている個人情報保護のための措置" in google
    # Not third parties in Japan: no consent is asked for them.
    for declared in ("hosting", "payment_processor", "sales_agency"):
        assert f'data-recipient="{declared}"' not in page.text
    english = client.get("/center/recipients?lang=en")
    assert "United States" in _section(english, "google")
    assert "Consent to this provision" in _section(english, "a8net")


def test_consent_and_revocation_in_the_center(client: TestClient, runtime: Runtime) -> None:
    subject = _enter(client, runtime)
    csrf = _csrf(client.get("/center/recipients"))
    form = {"recipient": "a8net", "purpose": "advertising"}
    refused = client.post("/center/recipients/consent", data={**form, "csrf_token": "x"})
    assert refused.status_code == 403
    assert consents.of_subject(runtime.vault, subject) == []
    given = client.post("/center/recipients/consent?lang=ja", data={**form, "csrf_token": csrf})
    assert given.status_code == 200 and "同意を受け付けました" in given.text
    assert "同意を取り消す" in _section(given, "a8net")
    assert "JST" in _section(given, "a8net")  # the operator's time zone, not UTC
    [row] = consents.of_subject(runtime.vault, subject)
    assert row.channel == "center" and row.recipient_id == "a8net" and row.revoked_at is None
    [entry] = [e for e in runtime.audit.tail(10) if e.action == "provision_consent.give"]
    assert entry.actor == f"subject:{subject}" and entry.details["channel"] == "center"
    # Someone else's consent cannot be revoked from this session.
    other = person(runtime, "other@example.jp")
    theirs = consents.give(
        runtime.vault, Caller.person(other), other, "a8net", "advertising", channel="api"
    )
    answer = client.post(
        "/center/recipients/revoke", data={"consent": theirs.id, "csrf_token": csrf}
    )
    assert answer.status_code == 404
    assert consents.of_subject(runtime.vault, other)[0].revoked_at is None
    revoked = client.post(
        "/center/recipients/revoke?lang=ja", data={"consent": row.id, "csrf_token": csrf}
    )
    assert revoked.status_code == 200 and "同意を取り消しました" in revoked.text
    assert "この提供に同意する" in _section(revoked, "a8net")
    assert "取り消した同意" in revoked.text
    assert consents.of_subject(runtime.vault, subject)[0].revoked_at is not None
    again = client.post("/center/recipients/revoke", data={"consent": row.id, "csrf_token": csrf})
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"recipient": "nobody", "purpose": "advertising"}, 404),
        ({"recipient": "a8net", "purpose": "shipping"}, 400),
        ({"recipient": "a8net"}, 400),
        ({"purpose": "advertising", "recipient": "   "}, 400),
    ],
)
def test_a_tampered_consent_form_gets_a_page_and_stores_nothing(
    client: TestClient, runtime: Runtime, form: dict[str, str], status: int
) -> None:
    subject = _enter(client, runtime)
    csrf = _csrf(client.get("/center/recipients"))
    answer = client.post(
        "/center/recipients/consent?lang=ja",
        data={**form, "csrf_token": csrf},
        headers={"Accept": "text/html"},
    )
    assert answer.status_code == status and "<html" in answer.text
    assert "Traceback" not in answer.text
    assert consents.of_subject(runtime.vault, subject) == []


def test_a_language_switch_on_a_form_address_goes_to_the_page(
    client: TestClient, runtime: Runtime
) -> None:
    _enter(client, runtime)
    for path in ("/center/recipients/consent", "/center/recipients/revoke"):
        answer = client.get(f"{path}?lang=en", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/center/recipients?lang=en"


def test_the_person_sees_who_received_their_data(client: TestClient, runtime: Runtime) -> None:
    subject = _enter(client, runtime)
    assert "提供の記録はありません" in client.get("/center/recipients?lang=ja").text
    consents.give(
        runtime.vault, Caller.person(subject), subject, "a8net", "advertising", channel="api"
    )
    provider = Caller("key:test", frozenset({"advertising"}), frozenset({"provide", "read"}))
    result = provide(
        runtime.vault,
        provider,
        recipient="a8net",
        subjects_=[subject],
        items=["advertising_id"],
        purpose="advertising",
    )
    assert result.people[0].record_id is not None
    page = client.get("/center/recipients?lang=ja")
    table = page.text.split('id="received"', 1)[1]
    assert "株式会社ファンコミュニケーションズ" in table and "広告識別子" in table
    assert "あなたの同意" in table and "JST" in table
    assert "ad-1" not in page.text  # the page names items, never their values
    english = client.get("/center/recipients?lang=en").text.split('id="received"', 1)[1]
    assert "FAN Communications" in english and "Your consent" in english


def test_no_consent_is_offered_while_the_appi_28_information_is_missing(
    runtime: Runtime,
) -> None:
    rules = runtime.vault.rules()
    google = rules.recipients["google"].model_copy(update={"foreign": None})
    broken = dataclasses.replace(rules, recipients={"google": google})
    [offer] = _offers(broken, [], "ja")
    assert offer.abroad and offer.info_missing
