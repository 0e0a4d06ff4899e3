"""A provision to everyone a purpose may use, streamed: per-person decisions (consent,
provision stops, the vault's own rules), a record per person provided, written before the
value goes, and the consent checked again where the record is written. On SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.provisions import consents
from mamori.provisions.stream import provide_everyone
from mamori.store import db
from mamori.vault.access import Caller
from mamori.web.app import create_app
from tests.helpers.cookies import cookie_choice
from tests.helpers.keys import service_key
from tests.helpers.ledger import records
from tests.helpers.requests import grant_provision_stop, person
from tests.helpers.runtime import open_test_runtime

PROVIDER = Caller("key:test", frozenset({"advertising"}), frozenset({"provide", "read"}))


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def _key(runtime: Runtime, *operations: str, purposes: tuple[str, ...] = ("advertising",)) -> str:
    return service_key(runtime, *operations, purposes=purposes, name="stream")


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = (
            f"Bearer {_key(runtime, 'read', 'write', 'delete', 'provide')}"
        )
        yield client


def _people(runtime: Runtime, n: int, *, consent: bool = True) -> list[str]:
    found = []
    for i in range(n):
        subject = person(runtime, f"s{i}@example.jp", advertising_id=f"ad-{i}")
        cookie_choice(runtime, subject)
        if consent:
            consents.give(
                runtime.vault,
                Caller.person(subject),
                subject,
                "a8net",
                "advertising",
                channel="api",
            )
        found.append(subject)
    return found


def _stream(client: TestClient, **body: Any) -> tuple[str, list[dict[str, Any]]]:
    body = {"recipient": "a8net", "purpose": "advertising", "item": "advertising_id", **body}
    answer = client.post("/api/v1/provisions/stream", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-ndjson"
    return answer.headers["x-mamori-provision"], [
        orjson.loads(line) for line in answer.text.splitlines()
    ]


def _records(runtime: Runtime) -> list[Any]:
    return records(runtime)


def test_everyone_who_consented_and_nobody_else_is_provided_and_recorded(
    client: TestClient, runtime: Runtime
) -> None:
    consented = _people(runtime, 4)
    [unconsented] = _people(runtime, 1, consent=False)
    stopped, usage, withdrawn = consented[1], consented[2], consented[3]
    grant_provision_stop(runtime, stopped, "s1@example.jp", ["advertising_id"])
    stops = {"stopped_purposes": ["advertising"]}
    assert client.put(f"/api/v1/subjects/{usage}/restrictions", json=stops).status_code == 200
    assert client.post(f"/api/v1/subjects/{withdrawn}/withdraw").status_code == 200
    batch, lines = _stream(client)
    assert [line["subject"] for line in lines] == [consented[0]]
    assert lines[0]["value"] == "ad-0"
    [record] = _records(runtime)
    assert record.id == lines[0]["record_id"] and record.batch_id == batch
    assert record.subject_id == consented[0] and record.basis == "consent"
    assert record.consent_id is not None and "ファンコミュニケーションズ" in record.recipient
    assert unconsented not in {r.subject_id for r in _records(runtime)}
    [entry] = [e for e in runtime.audit.tail(30) if e.action == "provision.provide"]
    assert entry.details["provided"] == 1 and entry.details["mode"] == "stream"
    assert f"provision:{batch}" in entry.targets and "ad-0" not in str(entry.details)
    [read] = [e for e in runtime.audit.tail(30) if e.action == "subject.bulk_read"]
    assert read.details["released"] == 1  # nobody refused was decrypted for the recipient


def test_pages_are_recorded_as_they_go(runtime: Runtime) -> None:
    people = _people(runtime, 5)
    streamed = provide_everyone(
        runtime.vault,
        PROVIDER,
        recipient="a8net",
        item="advertising_id",
        purpose="advertising",
        page=2,
    )
    first = next(streamed.lines)
    assert first.subject_id == min(people)
    assert len(_records(runtime)) == 2  # the first page is recorded before its first value
    rest = list(streamed.lines)
    assert sorted([first.subject_id, *(line.subject_id for line in rest)]) == sorted(people)
    assert len(_records(runtime)) == 5
    assert len({r.batch_id for r in _records(runtime)}) == 1
    entries = [e for e in runtime.audit.tail(30) if e.action == "provision.provide"]
    assert [e.details["people"] for e in entries] == [2, 2, 1]
    # One batch record per page (APPI rule 19(2)), listing its people.
    assert [e.details["records"] for e in entries] == [1, 1, 1]
    assert len({r.id for r in _records(runtime)}) == 3
    assert {r.people for r in _records(runtime)} == {2, 1}


def test_a_batch_record_is_each_persons_record(runtime: Runtime) -> None:
    """The person's disclosure and privacy center see a page's record as made for them, with
    the consent relied on; the hourly purge deletes it with its people."""
    from mamori.provisions import gate, ledger

    people = sorted(_people(runtime, 3))
    lines = list(
        provide_everyone(
            runtime.vault, PROVIDER, recipient="a8net", item="advertising_id", purpose="advertising"
        ).lines
    )
    assert len({line.record_id for line in lines}) == 1
    for subject in people:
        [theirs] = ledger.of_subject(runtime.vault, subject)
        [consent] = consents.of_subject(runtime.vault, subject)
        assert theirs.subject_id == subject and theirs.consent_id == consent.id
        assert theirs.id == lines[0].record_id and theirs.people == 1
        assert theirs.confirmation is not None and theirs.confirmation["receipt"]
    later = runtime.clock.now() + dt.timedelta(days=4 * 365)
    purged = gate.purge_records(runtime.vault, now=later)
    assert purged.records == 1 and _records(runtime) == []
    with db.read(runtime.engine) as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM provision_record_people")).scalar_one()
    assert left == 0


def test_each_page_checks_the_consents_as_they_stand_when_it_is_read(runtime: Runtime) -> None:
    first, second = sorted(_people(runtime, 2))
    [theirs] = consents.of_subject(runtime.vault, second)
    streamed = provide_everyone(
        runtime.vault,
        PROVIDER,
        recipient="a8net",
        item="advertising_id",
        purpose="advertising",
        page=1,
    )
    lines = [next(streamed.lines)]
    # Revoked after the first page went, before the second is read: nothing of theirs goes.
    consents.revoke(runtime.vault, Caller.person(second), second, theirs.id, channel="api")
    lines += list(streamed.lines)
    assert [line.subject_id for line in lines] == [first]
    assert [r.subject_id for r in _records(runtime)] == [first]


def test_a_page_is_read_checked_and_recorded_in_one_transaction(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check of a page's consents and its records are one write transaction: a revocation
    cannot fall between them (it waits for the page, or comes before it)."""
    from mamori.provisions import storage
    from mamori.store import db as store_db

    people = sorted(_people(runtime, 3))
    seen: list[bool] = []
    live = storage.live_consent_ids

    def checked(conn: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
        seen.append(conn.in_transaction() and kwargs.get("lock") is True)
        return live(conn, *args, **kwargs)

    writes: list[str] = []
    write = store_db.write

    def counted(engine: Any) -> Any:
        writes.append("write")
        return write(engine)

    monkeypatch.setattr(storage, "live_consent_ids", checked)
    monkeypatch.setattr("mamori.vault.reads.db.write", counted)
    lines = list(
        provide_everyone(
            runtime.vault, PROVIDER, recipient="a8net", item="advertising_id", purpose="advertising"
        ).lines
    )
    assert sorted(line.subject_id for line in lines) == people
    assert seen == [True]
    # One write transaction for the page (checked and recorded there), one for the read's
    # audit entry at the end, one for the empty page that ends the stream.
    assert len(writes) == 3
    assert sorted(r.subject_id for r in _records(runtime)) == people


def test_a_contractor_stream_needs_no_consent(client: TestClient, runtime: Runtime) -> None:
    people = [person(runtime, f"c{i}@example.jp", address="東京都港区1-1") for i in range(3)]
    client.headers["Authorization"] = (
        f"Bearer {_key(runtime, 'provide', 'read', purposes=('shipping',))}"
    )
    batch, lines = _stream(client, recipient="hosting", purpose="shipping", item="address")
    assert sorted(line["subject"] for line in lines) == sorted(people)
    assert {r.basis for r in _records(runtime)} == {"entrustment"}
    assert {r.batch_id for r in _records(runtime)} == {batch}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"recipient": "nobody"}, 404, "no recipient"),
        ({"item": "email"}, 400, "not_declared"),
        ({"item": "emial"}, 400, "did you mean"),
        ({"basis": "entrustment"}, 400, "basis_not_applicable"),
        ({"basis": "laws_and_regulations"}, 400, "state the reason"),
        ({"purpose": "shipping"}, 403, "not granted"),
        ({"purpose": "nothing"}, 403, "not granted"),
        ({"item": ["advertising_id"]}, 422, ""),
    ],
)
def test_a_stream_that_cannot_be_is_refused_before_anything_is_read(
    client: TestClient, runtime: Runtime, body: dict[str, Any], status: int, words: str
) -> None:
    _people(runtime, 2)
    payload = {"recipient": "a8net", "purpose": "advertising", "item": "advertising_id", **body}
    answer = client.post("/api/v1/provisions/stream", json=payload)
    assert answer.status_code == status, answer.text
    if words:
        assert words in answer.text
    assert _records(runtime) == []
    assert not [e for e in runtime.audit.tail(30) if e.action == "subject.bulk_read"]


def test_a_key_without_provide_cannot_stream(client: TestClient, runtime: Runtime) -> None:
    _people(runtime, 1)
    client.headers["Authorization"] = f"Bearer {_key(runtime, 'read')}"
    answer = client.post(
        "/api/v1/provisions/stream",
        json={"recipient": "a8net", "purpose": "advertising", "item": "advertising_id"},
    )
    assert answer.status_code == 403 and _records(runtime) == []
