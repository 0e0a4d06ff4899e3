"""Person-related information (APPI 31): a send to a recipient that links cookie and
advertising IDs to people needs the person's consent to it confirmed — their consent to the
recipient and a cookie choice allowing every cookie service it collects through — and the
record keeps the confirmation. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.consent.service import Consent
from mamori.provisions import consents
from mamori.provisions.disclosure import record_rows
from mamori.store import db
from mamori.vault.access import Caller
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.cookies import cookie_choice
from tests.helpers.keys import service_key
from tests.helpers.ledger import records
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime

ITEMS = ["advertising_id", "cookie_id"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()


def _key(runtime: Runtime, *operations: str) -> str:
    return service_key(runtime, *operations, purposes=["advertising"], name="ads")


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = (
            f"Bearer {_key(runtime, 'read', 'write', 'delete', 'provide')}"
        )
        yield client


def _consented(runtime: Runtime, n: int, *recipients: str) -> str:
    subject = person(runtime, f"r{n}@example.jp", advertising_id=f"ad-{n}", cookie_id=f"ck-{n}")
    for recipient in recipients or ("a8net", "google"):
        consents.give(
            runtime.vault, Caller.person(subject), subject, recipient, "advertising", channel="api"
        )
    return subject


def _provide(client: TestClient, recipient: str, *subjects: str) -> list[dict[str, Any]]:
    answer = client.post(
        "/api/v1/provisions",
        json={
            "recipient": recipient,
            "purpose": "advertising",
            "items": ITEMS,
            "subjects": list(subjects),
        },
    )
    assert answer.status_code == 200, answer.text
    people: list[dict[str, Any]] = answer.json()["people"]
    return people


def _records(runtime: Runtime) -> list[Any]:
    return records(runtime)


def test_without_a_cookie_choice_tied_to_the_person_nothing_goes(
    client: TestClient, runtime: Runtime
) -> None:
    subject = _consented(runtime, 1)
    cookie_choice(runtime, None)  # a choice on the site, not tied to anyone
    [row] = _provide(client, "a8net", subject)
    assert row["items"] == {} and row["record_id"] is None
    assert row["refused"] == dict.fromkeys(ITEMS, "cookie_consent_missing")
    assert _records(runtime) == []


def test_a_confirmed_consent_is_recorded_with_the_choice_relied_on(
    client: TestClient, runtime: Runtime
) -> None:
    subject = _consented(runtime, 1)
    consent_id = cookie_choice(runtime, None)
    linked = client.post(
        f"/api/v1/subjects/{subject}/cookie-consents", json={"consent_id": consent_id}
    )
    assert linked.status_code == 201, linked.text
    assert linked.json()["created"] is True and linked.json()["consent_id"] == consent_id
    again = client.post(
        f"/api/v1/subjects/{subject}/cookie-consents", json={"consent_id": consent_id}
    )
    assert again.status_code == 201 and again.json()["created"] is False
    [row] = _provide(client, "google", subject)
    assert row["items"] == {"advertising_id": "ad-1", "cookie_id": "ck-1"}
    [record] = _records(runtime)
    confirmation = orjson.loads(record.confirmation)
    assert confirmation["receipt"] == linked.json()["receipt"]
    assert confirmation["consent_id"] == consent_id
    assert confirmation["services"] == ["google_analytics", "google_ads", "youtube"]
    assert record.consent_id is not None  # the consent to the recipient, too
    with db.read(runtime.engine) as conn:  # the person's disclosure package says so too
        [disclosed] = list(record_rows(conn, subject))
    assert disclosed["cookie_choice_receipt"] == str(linked.json()["receipt"])
    entries = [e for e in runtime.audit.tail(20) if e.action == "cookie_consent.link"]
    assert len(entries) == 2 and tuple(entries[0].targets) == (f"subject:{subject}",)
    assert consent_id not in str(entries[0].details)


def test_the_newest_choice_counts_and_each_service_of_the_recipient_must_be_allowed(
    client: TestClient, runtime: Runtime
) -> None:
    subject = _consented(runtime, 1)
    consent_id = cookie_choice(runtime, subject, "custom", categories={"analytics": True})
    # Google collects through advertising services too: refused; A8.net only advertising.
    for recipient in ("google", "a8net"):
        [row] = _provide(client, recipient, subject)
        assert set(row["refused"].values()) == {"cookie_consent_missing"}, recipient
    cookie_choice(runtime, None, "accept_all", consent_id=consent_id)
    assert _provide(client, "a8net", subject)[0]["items"]
    # The person changes their mind on the site: the newest choice stops the next send.
    cookie_choice(runtime, None, "reject_all", consent_id=consent_id)
    [row] = _provide(client, "a8net", subject)
    assert set(row["refused"].values()) == {"cookie_consent_missing"}


def test_a_choice_made_in_the_center_counts_and_an_expired_one_does_not(
    client: TestClient, runtime: Runtime, clock: ManualClock
) -> None:
    subject = _consented(runtime, 1)
    consent = Consent(
        runtime.engine, runtime.audit, runtime.published, days=runtime.settings.consent_days
    )
    current = consent.current()
    banner = consent.banner(current.version, "ja", gpc=False)
    consent.record(
        consent_id=None,
        version=current.version,
        lang="ja",
        text_hash=banner.text_hash,
        gpc=False,
        method="accept_all",
        source="center",
        subject_id=subject,
    )
    assert _provide(client, "a8net", subject)[0]["items"]
    clock.advance(days=runtime.settings.consent_days + 1)
    [row] = _provide(client, "a8net", subject)
    assert set(row["refused"].values()) == {"cookie_consent_missing"}


def test_the_stream_leaves_out_people_without_a_confirmed_choice(
    client: TestClient, runtime: Runtime
) -> None:
    confirmed = _consented(runtime, 1, "a8net")
    cookie_choice(runtime, confirmed)
    unconfirmed = _consented(runtime, 2, "a8net")
    cookie_choice(runtime, unconfirmed, "reject_all")
    answer = client.post(
        "/api/v1/provisions/stream",
        json={"recipient": "a8net", "purpose": "advertising", "item": "advertising_id"},
    )
    assert answer.status_code == 200, answer.text
    lines = [orjson.loads(line) for line in answer.text.splitlines()]
    assert [line["subject"] for line in lines] == [confirmed]
    [record] = _records(runtime)
    assert orjson.loads(record.confirmation)["services"] == ["a8net"]


def test_tying_a_consent_id_refuses_what_it_should(client: TestClient, runtime: Runtime) -> None:
    subject = _consented(runtime, 1)
    consent_id = cookie_choice(runtime, None)
    cases = [
        (f"/api/v1/subjects/{subject}/cookie-consents", {"consent_id": "short"}, 400),
        (f"/api/v1/subjects/{subject}/cookie-consents", {"consent_id": "A" * 22}, 404),
        (f"/api/v1/subjects/{'0' * 32}/cookie-consents", {"consent_id": consent_id}, 404),
        (f"/api/v1/subjects/{subject}/cookie-consents", {}, 422),
        (f"/api/v1/subjects/{subject}/cookie-consents", {"consent_id": 5}, 422),
    ]
    for path, body, status in cases:
        answer = client.post(path, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert "error" in answer.json() or "detail" in answer.json()
    reader = _key(runtime, "read")
    denied = client.post(
        f"/api/v1/subjects/{subject}/cookie-consents",
        json={"consent_id": consent_id},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert denied.status_code == 403
    assert client.post(f"/api/v1/subjects/{subject}/withdraw").status_code == 200
    gone = client.post(
        f"/api/v1/subjects/{subject}/cookie-consents", json={"consent_id": consent_id}
    )
    assert gone.status_code in (404, 409), gone.text
    with db.read(runtime.engine) as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM consent_links")).scalar_one() == 0


def test_an_exception_of_appi_27_needs_no_confirmation(
    client: TestClient, runtime: Runtime
) -> None:
    subject = person(runtime, "law@example.jp", advertising_id="ad-9", cookie_id="ck-9")
    answer = client.post(
        "/api/v1/provisions",
        json={
            "recipient": "a8net",
            "purpose": "advertising",
            "items": ITEMS,
            "subjects": [subject],
            "basis": "laws_and_regulations",
            "reason": "照会書 2026-123 に基づく",
        },
    )
    assert answer.status_code == 200, answer.text
    [row] = answer.json()["people"]
    assert row["items"] == {"advertising_id": "ad-9", "cookie_id": "ck-9"}
    [record] = _records(runtime)
    assert record.confirmation is None and record.basis == "laws_and_regulations"


def test_many_hosts_tying_the_same_choice_at_once_tie_it_once(runtime: Runtime) -> None:
    from mamori.consent import links
    from tests.helpers.race import race

    subject = _consented(runtime, 1)
    consent_id = cookie_choice(runtime, None)
    host = Caller("key:host", None, frozenset({"write"}))
    results = race(20, lambda _: links.link(runtime.vault, host, subject, consent_id))
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(1 for r in results if not isinstance(r, BaseException) and r.created) == 1
    with db.read(runtime.engine) as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM consent_links")).scalar_one() == 1


def test_a_revocation_racing_a_stream_is_before_or_after_each_page(runtime: Runtime) -> None:
    """A consent revoked while a stream runs: each person is either provided, with a record
    naming the consent as live when their page was checked, or not at all; never a value
    without its record."""
    from mamori.provisions.stream import provide_everyone
    from tests.helpers.race import race

    people = [_consented(runtime, n, "a8net") for n in range(40)]
    for subject in people:
        cookie_choice(runtime, subject)
    host = Caller("key:ads", frozenset({"advertising"}), frozenset({"read", "provide"}))

    def attempt(i: int) -> object:
        if i == 0:
            streamed = provide_everyone(
                runtime.vault,
                host,
                recipient="a8net",
                item="advertising_id",
                purpose="advertising",
                page=5,
            )
            return [line.subject_id for line in streamed.lines]
        subject = people[i - 1]
        [consent] = consents.of_subject(runtime.vault, subject)
        consents.revoke(runtime.vault, Caller.person(subject), subject, consent.id, channel="api")
        return subject

    results = race(21, attempt)
    assert not [r for r in results if isinstance(r, BaseException)], results
    provided = results[0]
    assert isinstance(provided, list)
    recorded = {r.subject_id for r in _records(runtime)}
    assert set(provided) == recorded  # every value went with its record, and only those
    assert set(people[20:]) <= recorded  # never revoked: all provided
