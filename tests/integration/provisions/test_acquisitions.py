"""Records of data received from other businesses (APPI 30) over the API: written with the
provider's facts, ids-only audit, refused clearly for every bad input with nothing stored, kept
one or three years (rules 23(3), 25) and purged only after, kept through withdrawal, and in the
person's disclosure package. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.provisions.gate import Purged, purge_records
from mamori.provisions.rules import CONTRACT_RETENTION, RETENTION
from mamori.store import db, tables
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.keys import service_key
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime

PROVIDER = {
    "name": {"ja": "株式会社データ提供元", "en": "Data Source K.K."},
    "address": "大阪府大阪市北区梅田1-1",
    "representative": "代表取締役 鈴木 一郎",
    "keeps_records": True,
}
HOW = "本人から会員登録時に取得(提供元の利用規約第5条で第三者提供に同意)"


@pytest.fixture
def clock() -> ManualClock:
    clock = ManualClock()
    clock.freeze(dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC))
    return clock


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()


def _key(runtime: Runtime, *operations: str) -> str:
    return service_key(
        runtime, *operations, purposes=["service_operation", "advertising"], name="acquisitions"
    )


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {_key(runtime, 'read', 'write', 'delete')}"
        yield client


def _body(subject: str, **changes: Any) -> dict[str, Any]:
    return {
        "subject_id": subject,
        "provider": PROVIDER,
        "how_obtained": HOW,
        "items": ["name", "email"],
        **changes,
    }


def _rows(runtime: Runtime, table: str = "provision_acquisitions") -> list[Any]:
    declared = tables.metadata.tables[table]
    with db.read(runtime.engine) as conn:
        return list(conn.execute(sa.select(declared).order_by(declared.c.id)).all())


def test_a_receipt_is_recorded_with_the_providers_facts_and_listed(
    client: TestClient, runtime: Runtime, clock: ManualClock
) -> None:
    subject = person(runtime)
    received = "2026-11-20T10:00:00+09:00"
    answer = client.post("/api/v1/acquisitions", json=_body(subject, received_at=received))
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert made["id"].startswith("pa_") and made["subject_id"] == subject
    assert made["provider"] == {**PROVIDER, "individual": False}
    assert made["how_obtained"] == HOW and made["items"] == ["name", "email"]
    at = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
    assert dt.datetime.fromisoformat(made["received_at"]) == at
    assert dt.datetime.fromisoformat(made["retain_until"]) == at + RETENTION
    assert dt.datetime.fromisoformat(made["recorded_at"]) == clock.now()
    assert made["contract"] is False
    [row] = _rows(runtime)
    assert row.id == made["id"] and row.subject_id == subject and row.actor.startswith("key:")
    assert "株式会社データ提供元" in row.provider and "how_obtained" in row.provider
    # the person's values are never in the record: only item ids
    assert row.items == '["name","email"]' and "山田" not in row.provider
    # a second, received now (the default), lists after the first
    later = client.post("/api/v1/acquisitions", json=_body(subject, items=["phone"]))
    assert dt.datetime.fromisoformat(later.json()["received_at"]) == clock.now()
    listed = client.get(f"/api/v1/subjects/{subject}/acquisitions")
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [made["id"], later.json()["id"]]


def test_the_audit_entry_holds_ids_and_flags_only(client: TestClient, runtime: Runtime) -> None:
    subject = person(runtime)
    made = client.post("/api/v1/acquisitions", json=_body(subject, contract=True)).json()
    [entry] = [e for e in runtime.audit.tail(10) if e.action == "provision.acquire"]
    assert entry.targets == (f"subject:{subject}", f"acquisition:{made['id']}")
    assert entry.details == {
        "items": 2,
        "contract": True,
        "individual": False,
        "keeps_records": True,
        "policy_version": 1,
    }
    text = repr(entry)
    for fact in ("データ提供元", "Data Source", "大阪", "鈴木", "会員登録"):
        assert fact not in text
    client.get(f"/api/v1/subjects/{subject}/acquisitions")
    [listed] = [e for e in runtime.audit.tail(10) if e.action == "provision.acquisition_list"]
    assert listed.details == {"acquisitions": 1}


def test_an_individual_provider_needs_no_representative(
    client: TestClient, runtime: Runtime
) -> None:
    subject = person(runtime)
    individual = {"name": {"ja": "田中 次郎"}, "address": "京都府京都市1-1", "individual": True}
    answer = client.post("/api/v1/acquisitions", json=_body(subject, provider=individual))
    assert answer.status_code == 201, answer.text
    assert answer.json()["provider"]["representative"] is None
    assert answer.json()["provider"]["keeps_records"] is None
    corporation = {k: v for k, v in PROVIDER.items() if k != "representative"}
    refused = client.post("/api/v1/acquisitions", json=_body(subject, provider=corporation))
    assert refused.status_code == 422 and "representative is required" in refused.json()["error"]


LONG = "長" * 1001


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"subject_id": "0" * 32}, 404, "no subject"),
        ({"subject_id": "not-an-id"}, 422, "subject_id"),
        ({"items": ["emial"]}, 400, "unknown data item 'emial' (did you mean 'email'?)"),
        ({"items": []}, 422, "items"),
        ({"how_obtained": None}, 422, "how_obtained"),
        ({"how_obtained": ""}, 422, "how_obtained"),
        ({"how_obtained": "   "}, 400, "is blank"),
        ({"how_obtained": LONG}, 422, "how_obtained"),
        ({"how_obtained": "a\x00b"}, 400, "control characters"),
        ({"provider": {**PROVIDER, "name": {"ja": LONG}}}, 422, "provider.name.ja"),
        ({"provider": {**PROVIDER, "name": {"en": "Only English"}}}, 422, "provider.name.ja"),
        ({"provider": {**PROVIDER, "address": LONG}}, 422, "provider.address"),
        ({"provider": {**PROVIDER, "representative": LONG}}, 422, "provider.representative"),
        ({"provider": {**PROVIDER, "address": None}}, 422, "provider.address"),
        ({"provider": {**PROVIDER, "nickname": "x"}}, 422, "provider.nickname"),
        ({"received_at": "2026-12-01T03:00:01Z"}, 400, "in the future"),
        ({"received_at": "2099-01-01T00:00:00+09:00"}, 400, "in the future"),
        ({"received_at": "2026-11-20T10:00:00"}, 422, "received_at"),
        ({"received_at": "0001-01-01T00:00:00+09:00"}, 400, "need no longer be kept"),
        ({"received_at": "yesterday"}, 422, "received_at"),
        ({"contract": "sometimes"}, 422, "contract"),
        ({"extra": 1}, 422, "extra"),
    ],
    ids=[
        "unknown subject",
        "malformed subject",
        "unknown item",
        "no items",
        "no how_obtained",
        "empty how_obtained",
        "blank how_obtained",
        "long how_obtained",
        "control character",
        "long name",
        "no Japanese name",
        "long address",
        "long representative",
        "no address",
        "unknown provider field",
        "a second ahead",
        "future",
        "no time zone",
        "year 1",
        "not a date",
        "not a flag",
        "unknown field",
    ],
)
def test_bad_input_is_refused_clearly_and_stores_nothing(
    client: TestClient, runtime: Runtime, change: dict[str, Any], status: int, message: str
) -> None:
    subject = person(runtime)
    body = {k: v for k, v in _body(subject, **change).items() if v is not None}
    answer = client.post("/api/v1/acquisitions", json=body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]
    assert "Traceback" not in answer.text
    assert _rows(runtime) == []
    assert not [e for e in runtime.audit.tail(50) if e.action == "provision.acquire"]


def test_a_withdrawn_person_is_refused_as_the_gate_refuses_a_consent(
    client: TestClient, runtime: Runtime
) -> None:
    subject = person(runtime)
    assert client.post(f"/api/v1/subjects/{subject}/withdraw").status_code == 200
    answer = client.post("/api/v1/acquisitions", json=_body(subject))
    consent = client.post(
        f"/api/v1/subjects/{subject}/provision-consents",
        json={"recipient": "a8net", "purpose": "advertising"},
    )
    assert answer.status_code == consent.status_code == 409
    assert answer.json()["error"] == consent.json()["error"] == f"subject '{subject}' has withdrawn"
    assert _rows(runtime) == []
    assert client.get("/api/v1/subjects/" + "0" * 32 + "/acquisitions").status_code == 404


def test_keys_do_only_what_they_may(client: TestClient, runtime: Runtime) -> None:
    subject = person(runtime)
    for operations in (("read",), ("provide",), ("read", "delete", "provide")):
        key = _key(runtime, *operations)
        answer = client.post(
            "/api/v1/acquisitions", json=_body(subject), headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 403 and "write" in answer.json()["error"], operations
    assert _rows(runtime) == []
    writer = _key(runtime, "write")
    answer = client.post(
        "/api/v1/acquisitions", json=_body(subject), headers={"Authorization": f"Bearer {writer}"}
    )
    assert answer.status_code == 201
    listed = client.get(
        f"/api/v1/subjects/{subject}/acquisitions", headers={"Authorization": f"Bearer {writer}"}
    )
    assert listed.status_code == 403 and "read" in listed.json()["error"]
    no_key = client.post("/api/v1/acquisitions", json=_body(subject), headers={"Authorization": ""})
    assert no_key.status_code == 401


def _provide(client: TestClient, subject: str, **body: Any) -> Any:
    answer = client.post(
        "/api/v1/provisions",
        json={
            "recipient": "hosting",
            "purpose": "service_operation",
            "items": ["name"],
            "subjects": [subject],
            **body,
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_retention_is_one_year_under_a_contract_and_three_otherwise(
    runtime: Runtime, clock: ManualClock
) -> None:
    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {_key(runtime, 'read', 'write', 'provide')}"
        subject = person(runtime)
        plain = client.post("/api/v1/acquisitions", json=_body(subject)).json()
        contract = client.post("/api/v1/acquisitions", json=_body(subject, contract=True)).json()
        _provide(client, subject)
        _provide(client, subject, contract=True)
    now = clock.now()
    retained = {a["id"]: dt.datetime.fromisoformat(a["retain_until"]) for a in (plain, contract)}
    assert retained == {plain["id"]: now + RETENTION, contract["id"]: now + CONTRACT_RETENTION}
    records = sorted(_rows(runtime, "provision_records"), key=lambda r: r.retain_until)
    assert [(bool(r.contract), r.retain_until - r.provided_at) for r in records] == [
        (True, CONTRACT_RETENTION),
        (False, RETENTION),
    ]
    entries = [e for e in runtime.audit.tail(20) if e.action == "provision.provide"]
    assert [e.details["contract"] for e in entries] == [False, True]


def test_records_of_both_kinds_are_purged_only_after_their_retention(
    runtime: Runtime, clock: ManualClock
) -> None:
    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {_key(runtime, 'read', 'write', 'provide')}"
        subject = person(runtime)
        client.post("/api/v1/acquisitions", json=_body(subject, contract=True))
        client.post("/api/v1/acquisitions", json=_body(subject))
        _provide(client, subject, contract=True)
        _provide(client, subject)
    now, second = clock.now(), dt.timedelta(seconds=1)
    year, three = now + CONTRACT_RETENTION, now + RETENTION
    for at in (year - second, year):  # kept through the last moment of its retention
        assert purge_records(runtime.vault, now=at) == Purged(records=0, acquisitions=0)
    assert len(_rows(runtime)) == 2 and len(_rows(runtime, "provision_records")) == 2
    assert purge_records(runtime.vault, now=year + second) == Purged(records=1, acquisitions=1)
    [kept] = _rows(runtime)
    [record] = _rows(runtime, "provision_records")
    assert not kept.contract and not record.contract
    assert purge_records(runtime.vault, now=three - second) == Purged(records=0, acquisitions=0)
    assert purge_records(runtime.vault, now=three + second) == Purged(records=1, acquisitions=1)
    assert _rows(runtime) == [] and _rows(runtime, "provision_records") == []
    entries = [e for e in runtime.audit.tail(20) if e.action == "provision.records_purge"]
    assert [e.details for e in entries] == [{"records": 1, "acquisitions": 1}] * 2


def test_the_hourly_job_purges_acquisitions(runtime: Runtime, clock: ManualClock) -> None:
    from mamori.app.parts import BUILT_IN
    from mamori.provisions.gate import PURGE_JOB

    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {_key(runtime, 'write')}"
        client.post("/api/v1/acquisitions", json=_body(person(runtime), contract=True))
    job = BUILT_IN.job(PURGE_JOB)
    assert job is not None and job.period(runtime.settings) == 3600
    clock.advance(days=366, seconds=1)
    job.run(runtime)
    assert _rows(runtime) == []


def test_withdrawal_keeps_the_records_of_provision_and_receipt(
    client: TestClient, runtime: Runtime
) -> None:
    key = _key(runtime, "read", "write", "delete", "provide")
    client.headers["Authorization"] = f"Bearer {key}"
    subject = person(runtime)
    made = client.post("/api/v1/acquisitions", json=_body(subject)).json()
    _provide(client, subject)
    assert client.post(f"/api/v1/subjects/{subject}/withdraw").status_code == 200
    assert [r.id for r in _rows(runtime)] == [made["id"]]
    assert len(_rows(runtime, "provision_records")) == 1
    listed = client.get(f"/api/v1/subjects/{subject}/acquisitions")
    assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [made["id"]]


def test_the_disclosure_package_holds_the_receipts(client: TestClient, runtime: Runtime) -> None:
    from mamori.app.parts import BUILT_IN
    from mamori.requests.labels import SECTIONS, label
    from mamori.requests.sections import ordered_sections

    subject = person(runtime)
    individual = {"name": {"ja": "田中 次郎"}, "address": "京都府京都市1-1", "individual": True}
    client.post("/api/v1/acquisitions", json=_body(subject, received_at="2026-11-01T00:00:00Z"))
    client.post("/api/v1/acquisitions", json=_body(subject, provider=individual, items=["phone"]))
    other = person(runtime, "other@example.jp")
    client.post("/api/v1/acquisitions", json=_body(other))
    sections = ordered_sections(BUILT_IN.sections)
    with db.read(runtime.engine) as conn:
        first, second = sections["provision_acquisitions"](conn, subject)
    assert first == {
        "received_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        "provider_name": "株式会社データ提供元",
        "provider_name_en": "Data Source K.K.",
        "provider_address": "大阪府大阪市北区梅田1-1",
        "provider_representative": "代表取締役 鈴木 一郎",
        "how_obtained": HOW,
        "items": "name,email",
    }
    assert second["provider_name_en"] == "" and second["provider_representative"] == ""
    assert second["items"] == "phone"
    assert label(SECTIONS, "provision_acquisitions", "ja") == "第三者からの受領の記録"
    assert label(SECTIONS, "provision_acquisitions", "en").startswith("Records of data received")
