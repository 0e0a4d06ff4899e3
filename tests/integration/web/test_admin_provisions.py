"""The admin console's recipients and ledger pages through the ASGI client: every role reads
them, filters work and a bad one is a 400 with its reason, the CSV is streamed in the
request's language with a byte order mark, formulas defused and a dated file name, for
handlers and admins only, and every export is audited. Records are made through the real gate
(``POST /api/v1/provisions``) or, for volume, inserted. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.provisions import storage
from mamori.provisions.rules import retain_until
from mamori.provisions.storage import RecordRow
from mamori.store import db
from mamori.vault import service_keys
from mamori.web.app import create_app
from tests.helpers.cookies import cookie_choice
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff

BOM = b"\xef\xbb\xbf"
FORMULA = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    for login, role in (
        ("boss", "manager"),
        ("hana", "handler"),
        ("aud", "auditor"),
        ("vic", "viewer"),
    ):
        create_staff(runtime, login, PASSWORD, role)
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> Any:
    return create_app(runtime=runtime)


@pytest.fixture
def api(app: Any, runtime: Runtime) -> Iterator[TestClient]:
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation", "advertising"],
        operations=["read", "write", "provide"],
        actor="test",
    )
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def staff(app: Any, login: str, lang: str = "ja") -> TestClient:
    return admin_client(TestClient(app, follow_redirects=False), login, PASSWORD, lang=lang)


@dataclasses.dataclass
class World:
    consented: str
    other: str
    consent_id: str


@pytest.fixture
def world(runtime: Runtime, api: TestClient) -> World:
    """A person who consented to a8net and was provided to it, and one provided under an
    exception whose reason starts like a spreadsheet formula; a hosting provision for both."""
    one = person(runtime, "p1@example.jp", advertising_id="ad-1", cookie_id="ck-1")
    two = person(runtime, "p2@example.jp", advertising_id="ad-2")
    cookie_choice(runtime, one)  # APPI 31: a8net links cookie IDs to people
    given = api.post(
        f"/api/v1/subjects/{one}/provision-consents",
        json={"recipient": "a8net", "purpose": "advertising"},
    )
    assert given.status_code == 201, given.text
    for body in (
        {"recipient": "a8net", "subjects": [one], "items": ["advertising_id", "cookie_id"]},
        {
            "recipient": "a8net",
            "subjects": [two],
            "items": ["advertising_id"],
            "basis": "public_authority",
            "reason": FORMULA,
        },
        {
            "recipient": "hosting",
            "subjects": [one, two],
            "items": ["name"],
            "purpose": "service_operation",
            "contract": True,
        },
    ):
        body.setdefault("purpose", "advertising")
        answer = api.post("/api/v1/provisions", json=body)
        assert answer.status_code == 200, answer.text
    return World(one, two, given.json()["id"])


def _rows(text: str) -> list[str]:
    return re.findall(r'<tr data-record="([^"]+)"', text)


def _alert(text: str) -> str:
    found = re.search(r'role="alert">(.*?)</p>', text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found[1])) if found else ""


@pytest.mark.parametrize("login", ["boss", "hana", "aud"])
def test_every_role_but_the_viewer_reads_the_pages(app: Any, world: World, login: str) -> None:
    client = staff(app, login)
    for path in ("/admin/recipients", "/admin/provisions", "/admin/acquisitions"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text)
        assert page.headers["cache-control"] == "no-store"
        assert "提供先" in page.text and "提供の記録" in page.text  # the menu
    ledger = client.get("/admin/provisions")
    assert len(_rows(ledger.text)) == 4
    may_export = login != "hana"
    assert ("/admin/provisions.csv" in ledger.text) is may_export
    assert ("CSVのダウンロードは監査担当者" in ledger.text) is not may_export
    assert "ad-1" not in ledger.text and "p1@example.jp" not in ledger.text  # ids only


def test_the_recipients_page(app: Any, world: World, runtime: Runtime, monkeypatch: Any) -> None:
    client = staff(app, "hana")
    page = client.get("/admin/recipients").text
    a8net = re.search(r'<tr data-recipient="a8net".*?</tr>', page, re.S)
    google = re.search(r'<tr data-recipient="google".*?</tr>', page, re.S)
    hosting = re.search(r'<tr data-recipient="hosting".*?</tr>', page, re.S)
    assert a8net and google and hosting
    assert "第三者" in a8net[0] and "日本" in a8net[0] and "同意 1件" in a8net[0]
    assert "広告識別子" in a8net[0] and "2件" in a8net[0]  # records in 30 days
    assert 'href="/admin/provisions?recipient=a8net"' in a8net[0]
    assert "アメリカ合衆国" in google[0] and "法28条の情報あり" in google[0]
    assert "同意 0件" in google[0] and "attention" not in google[0]
    assert "委託先" in hosting[0] and "同意によらない提供" in hosting[0]
    en = client.get("/admin/recipients?lang=en").text
    assert "third party" in en and "United States" in en and "consents: 1" in en
    assert 'href="/admin/provisions?lang=en&amp;recipient=a8net"' in en
    # a recipient abroad whose APPI 28 information is missing stands out
    rules = runtime.vault.rules()
    bare = rules.recipients["google"].model_copy(update={"foreign": None})
    changed = dataclasses.replace(rules, recipients={**rules.recipients, "google": bare})
    monkeypatch.setattr(runtime.vault, "rules", lambda: changed)
    page = client.get("/admin/recipients").text
    google = re.search(r'<tr data-recipient="google" class="attention".*?</tr>', page, re.S)
    assert google and "法28条の情報が不足" in google[0]


def test_filters(app: Any, world: World) -> None:
    client = staff(app, "hana")
    by_recipient = client.get("/admin/provisions?recipient=a8net")
    assert len(_rows(by_recipient.text)) == 2
    assert '<option value="a8net" selected>' in by_recipient.text
    # Switching the console's language keeps the filters.
    assert 'href="/admin/provisions?recipient=a8net&amp;lang=en" hreflang="en"' in (
        by_recipient.text
    )
    by_person = client.get(f"/admin/provisions?subject={world.other}").text
    assert len(_rows(by_person)) == 2
    assert f"<code>{world.other}</code>" in by_person and world.consented not in by_person
    by_basis = client.get("/admin/provisions?basis=consent").text
    assert len(_rows(by_basis)) == 1 and f"<code>{world.consent_id}</code>" in by_basis
    assert "本人の同意" in by_basis and "<td>広告識別子、クッキー</td>" in by_basis
    exception = client.get("/admin/provisions?basis=public_authority").text
    assert "国の機関等への協力のため" in exception and "HYPERLINK" in exception
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=9))).date()
    days = f"since={today}&until={today}"
    assert len(_rows(client.get(f"/admin/provisions?{days}").text)) == 4
    tomorrow = today + dt.timedelta(days=1)
    none = client.get(f"/admin/provisions?since={tomorrow}").text
    assert _rows(none) == [] and "条件に合う記録はありません" in none
    assert "JST" in client.get("/admin/provisions").text  # times in the operator's zone
    assert "<td>Name</td>" in client.get("/admin/provisions?recipient=hosting&lang=en").text
    combined = client.get(f"/admin/provisions?recipient=hosting&subject={world.other}&{days}")
    assert len(_rows(combined.text)) == 1


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("basis=friendship", "one of consent"),
        ("recipient=a8nett", "did you mean 'a8net'"),
        ("since=2026-04-02&until=2026-04-01", "since > until"),
        ("since=2026-02-30", "YYYY-MM-DD"),
        ("subject=%00%3Cscript%3E", "person's ID"),
        ("subject=" + "長" * 5000, "person's ID"),
        ("before=garbage", "cursor"),
    ],
)
def test_a_bad_filter_shows_the_page_again_with_its_reason(
    app: Any, world: World, query: str, words: str
) -> None:
    client = staff(app, "aud")
    page = client.get(f"/admin/provisions?{query}")
    assert page.status_code == 400
    assert "絞り込みの条件を確認してください" in page.text and words in _alert(page.text)
    assert "<script>" not in page.text and 'id="f-recipient"' in page.text
    api = client.get(f"/admin/provisions?{query}", headers={"Accept": "application/json"})
    # the API's statuses: an unknown recipient is not found there
    assert api.status_code == (404 if "recipient" in query else 400)
    assert words in api.json()["error"]
    if "before" not in query:  # the export takes everything, from the newest
        assert staff(app, "aud").get(f"/admin/provisions.csv?{query}").status_code in (400, 404)


def test_older_pages(app: Any, runtime: Runtime) -> None:
    at = dt.datetime(2026, 4, 1, 3, tzinfo=dt.UTC)
    rows = [
        RecordRow(
            id=f"pr_{i:03d}",
            batch_id="pv_1",
            provided_at=at,  # one time for all: the id orders them
            recipient_id="a8net",
            recipient={"name": {"ja": "提供先", "en": "Recipient"}},
            subject_id=f"s{i}",
            items=("advertising_id",),
            purpose_id="advertising",
            basis="consent",
            consent_id=f"pc_{i}",
            reason=None,
            policy_version=1,
            actor="key:test",
            contract=False,
            retain_until=retain_until(at, contract=False),
        )
        for i in range(60)
    ]
    with db.write(runtime.engine) as conn:
        storage.insert_records(conn, rows)
    client = staff(app, "hana")
    first = client.get("/admin/provisions?recipient=a8net&lang=en").text
    assert _rows(first) == [f"pr_{i:03d}" for i in range(59, 9, -1)]
    older = re.search(r'<a href="([^"]+)" rel="next">Older records</a>', first)
    assert older and "recipient=a8net" in older[1] and "lang=en" in older[1]
    second = client.get(older[1].replace("&amp;", "&")).text
    assert _rows(second) == [f"pr_{i:03d}" for i in range(9, -1, -1)]
    assert 'rel="next"' not in second and "Newest records" in second


def _csv(answer: Any) -> list[list[str]]:
    body: bytes = answer.content
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body[len(BOM) :].decode("utf-8"), newline="")))


def test_the_csv_export(app: Any, world: World, runtime: Runtime) -> None:
    client = staff(app, "aud")
    answer = client.get("/admin/provisions.csv?recipient=a8net")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="provisions-{today:%Y%m%d}.csv"'
    )
    assert answer.headers["cache-control"] == "no-store"
    assert b"\r\n" in answer.content
    header, *rows = _csv(answer)
    assert header[:4] == ["記録ID", "提供日時 (Asia/Tokyo)", "提供先ID", "提供先"]
    assert len(rows) == 2 and {r[2] for r in rows} == {"a8net"}
    by_basis = {r[9]: r for r in rows}
    consented = by_basis["本人の同意"]
    assert consented[6] == world.consented and consented[10] == world.consent_id
    assert consented[7] == "広告識別子、クッキー" and consented[8].startswith(
        "当社又は第三者の広告"
    )
    exception = by_basis["国の機関等への協力のため"]
    assert exception[11] == "'" + FORMULA  # never a formula in a spreadsheet
    assert exception[12] == ""  # an exception of APPI 27(1): no confirmation under 31
    assert exception[13] == "いいえ"
    assert consented[12].startswith("Cookie同意の記録") and "a8net" in consented[12]
    assert "ad-1" not in answer.text
    en = client.get("/admin/provisions.csv?lang=en&basis=entrustment")
    header, *rows = _csv(en)
    assert header[1] == "Provided at (Asia/Tokyo)" and len(rows) == 2
    assert {r[13] for r in rows} == {"yes"} and {r[9] for r in rows} == {"Entrustment"}
    entries = [e for e in runtime.audit.tail(10) if e.action == "provision.ledger_export"]
    assert [e.details["rows"] for e in entries] == [2, 2]
    assert list(entries[0].targets) == ["recipient:a8net"]
    assert entries[1].details["basis"] == "entrustment" and entries[1].actor.startswith("staff:")
    receipts = client.get("/admin/acquisitions.csv")
    assert receipts.status_code == 200 and _csv(receipts)[0][1] == "受領日時 (Asia/Tokyo)"
    assert "acquisitions-" in receipts.headers["content-disposition"]


def test_a_handler_may_not_export_and_a_viewer_not_even_read(
    app: Any, world: World, runtime: Runtime
) -> None:
    viewer = staff(app, "vic")
    for path in ("/admin/recipients", "/admin/provisions", "/admin/acquisitions"):
        assert viewer.get(path).status_code == 403
    client = staff(app, "hana")
    before = runtime.audit.size()
    for path in ("/admin/provisions.csv", "/admin/acquisitions.csv"):
        refused = client.get(path, headers={"Accept": "application/json"})
        assert refused.status_code == 403 and "staff role" in refused.json()["error"]
        assert client.get(path).status_code == 403
    assert runtime.audit.size() == before
    anonymous = TestClient(app, follow_redirects=False)
    assert anonymous.get("/admin/provisions.csv").status_code == 401
    assert staff(app, "boss").get("/admin/provisions.csv").status_code == 200


def test_a_streamed_batch_record_is_one_row_and_a_line_per_person_in_the_csv(
    app: Any, api: TestClient, runtime: Runtime
) -> None:
    """A streamed provision's page is one batch record (APPI rule 19(2)): the ledger shows it
    once with its number of people, finds it by any of them, and exports a line per person."""
    people = []
    for n in range(3):
        subject = person(runtime, f"b{n}@example.jp", advertising_id=f"ad-{n}")
        cookie_choice(runtime, subject)
        given = api.post(
            f"/api/v1/subjects/{subject}/provision-consents",
            json={"recipient": "a8net", "purpose": "advertising"},
        )
        assert given.status_code == 201
        people.append(subject)
    streamed = api.post(
        "/api/v1/provisions/stream",
        json={"recipient": "a8net", "purpose": "advertising", "item": "advertising_id"},
    )
    assert streamed.status_code == 200 and len(streamed.text.splitlines()) == 3
    client = staff(app, "aud")
    page = client.get("/admin/provisions").text
    assert len(_rows(page)) == 1 and "一括記録(3人)" in page
    theirs = client.get(f"/admin/provisions?subject={people[1]}").text
    assert len(_rows(theirs)) == 1 and people[1] in theirs and "一括記録" not in theirs
    _header, *rows = _csv(client.get("/admin/provisions.csv"))
    assert sorted(r[6] for r in rows) == sorted(people)
    assert len({r[0] for r in rows}) == 1 and all(r[10].startswith("pc_") for r in rows)
    assert all(r[12].startswith("Cookie同意の記録") for r in rows)
    [entry] = [e for e in runtime.audit.tail(10) if e.action == "provision.ledger_export"]
    assert entry.details["rows"] == 3
