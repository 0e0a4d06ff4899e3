"""Webhooks end to end, on SQLite and PostgreSQL: changes made through the real domains reach a
real receiver on 127.0.0.1 that verifies each signature with the standardwebhooks library;
retries after failures with the same webhook-id, replay of a failed delivery, two dispatchers
at once, bad registrations, and no personal value in plain text in the delivery table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook, WebhookVerificationError

from mamori.app import Runtime
from mamori.config import Settings
from mamori.errors import Conflict, WebhookEndpointInvalid, WebhookNotFound
from mamori.provisions import consents
from mamori.requests import service
from mamori.requests.intake import check_intake
from mamori.requests.model import Outcome, Verification
from mamori.requests.workflow import Decision
from mamori.store import db
from mamori.vault import service_keys
from mamori.vault.access import Caller
from mamori.vault.restrictions import set_stops
from mamori.webhooks import endpoints, storage
from mamori.webhooks.delivery import deliver_due, headers_for, replay, run
from mamori.webhooks.dispatch import dispatch
from tests.helpers.clock import ManualClock
from tests.helpers.race import race
from tests.helpers.requests import BASE, HOST, person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.webhooks import Receiver, receiver

STAFF = "staff:st_1"
SETTINGS: dict[str, object] = {
    "webhook_deliver_seconds": 0,  # run by the tests, not in the background
    "webhook_allow_http_loopback": True,
    "webhook_retry_schedule": [5, 60],
    "webhook_timeout_seconds": 5.0,
}


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock, **SETTINGS)  # type: ignore[arg-type]
    service_keys.create(
        runtime.engine,
        runtime.audit,
        name="shop",
        purposes=["service_operation"],
        operations=["read"],
        actor="test",
    )
    yield runtime
    runtime.close()


@pytest.fixture
def rec() -> Iterator[Receiver]:
    with receiver() as found:
        yield found


def _register(runtime: Runtime, rec: Receiver, *events: str) -> str:
    endpoint, secret = endpoints.create(
        runtime, service="shop", url=rec.url, events=events, actor="test"
    )
    assert secret.startswith("whsec_")
    rec.secret = secret
    return endpoint.id


def _rows(runtime: Runtime) -> list[storage.DeliveryRow]:
    with db.read(runtime.engine) as conn:
        return storage.deliveries(conn, limit=1000)


def _correction(runtime: Runtime, subject: str, name: str) -> str:
    intake = check_intake(
        runtime.vault.rules(),
        type="correction",
        language="ja",
        email="hanako@example.jp",
        corrections={"name": name},
    )
    request = service.file_request(
        runtime,
        intake,
        actor="subject:x",
        client="c",
        base_url=BASE,
        subject_id=subject,
        verified_by=Verification.session,
    )
    service.start_review(runtime, request.id, actor=STAFF)
    service.decide(runtime, request.id, Decision(Outcome.fulfilled), actor=STAFF, base_url=BASE)
    return request.id


def test_each_change_becomes_its_event_once_signed_and_verified(
    runtime: Runtime, rec: Receiver
) -> None:
    _register(runtime, rec)
    subject = person(runtime, phone="090-1111-2222")
    set_stops(runtime.vault, HOST, subject, stopped_items=["phone"], stopped_purposes=[])
    request_id = _correction(runtime, subject, "山田 花")
    given = consents.give(
        runtime.vault, Caller.person(subject), subject, "a8net", "advertising", channel="api"
    )
    consents.revoke(runtime.vault, Caller.person(subject), subject, given.id, channel="api")
    run(runtime)
    runtime.vault.withdraw(HOST, subject)
    run(runtime)
    run(runtime)  # nothing twice
    assert rec.invalid == 0
    assert all(n == 1 for n in rec.seen.values())
    [stop] = rec.of_type("usage_stop.changed")
    assert stop["data"] == {
        "subject_id": subject,
        "stopped": [{"kind": "item", "id": "phone"}],
        "resumed": [],
    }
    [decided] = rec.of_type("request.decided")
    assert decided["data"]["request_id"] == request_id
    assert decided["data"]["type"] == "correction"
    assert decided["data"]["effect"] == "corrected"
    assert decided["data"]["values"] == {"name": "山田 花"}
    assert len(decided["data"]["request_number"]) == 12
    states = sorted(e["data"]["state"] for e in rec.of_type("consent.changed"))
    assert states == ["given", "revoked"]
    [gone] = rec.of_type("subject.withdrawn")
    assert gone["data"] == {"subject_id": subject}
    assert {r.status for r in _rows(runtime)} == {"delivered"}
    assert len(_rows(runtime)) == len(rec.events) == 5


def test_an_endpoint_gets_only_its_event_types_and_nothing_before_it_existed(
    runtime: Runtime, rec: Receiver
) -> None:
    earlier = person(runtime, email="early@example.jp")
    runtime.vault.withdraw(HOST, earlier)
    _register(runtime, rec, "subject.withdrawn")
    subject = person(runtime, phone="090-1111-2222")
    set_stops(runtime.vault, HOST, subject, stopped_items=["phone"], stopped_purposes=[])
    runtime.vault.withdraw(HOST, subject)
    run(runtime)
    assert [e["data"]["subject_id"] for e in rec.events.values()] == [subject]
    assert [e["type"] for e in rec.events.values()] == ["subject.withdrawn"]


def test_a_failing_receiver_gets_the_event_after_retries_once_per_webhook_id(
    runtime: Runtime, clock: ManualClock
) -> None:
    with receiver(fail_first=2) as rec:
        _register(runtime, rec, "subject.withdrawn")
        runtime.vault.withdraw(HOST, person(runtime))
        run(runtime)
        [row] = _rows(runtime)
        assert (row.status, row.attempts, row.last_status) == ("pending", 1, 500)
        assert deliver_due(runtime).sent == 0  # not due yet: the first wait is 5 s
        clock.advance(seconds=6)
        deliver_due(runtime)
        [row] = _rows(runtime)
        assert (row.status, row.attempts) == ("pending", 2)
        assert row.next_at is not None
        clock.advance(seconds=61)
        assert deliver_due(runtime).sent == 1
        [row] = _rows(runtime)
        assert (row.status, row.attempts, row.last_status) == ("delivered", 3, 204)
        assert rec.requests == 3
        assert rec.seen == {row.id: 1}
        with db.read(runtime.engine) as conn:
            tries = storage.attempts_of(conn, row.id)
        assert [(a.status, a.error) for a in tries] == [
            (500, "http_500"),
            (500, "http_500"),
            (204, None),
        ]


def test_a_delivery_fails_after_the_schedule_and_a_replay_sends_it_with_the_same_id(
    runtime: Runtime, clock: ManualClock
) -> None:
    with receiver(fail_first=3) as rec:
        _register(runtime, rec, "subject.withdrawn")
        runtime.vault.withdraw(HOST, person(runtime))
        run(runtime)
        for wait in (6, 61):
            clock.advance(seconds=wait)
            deliver_due(runtime)
        [row] = _rows(runtime)
        assert (row.status, row.attempts) == ("failed", 3)
        replay(runtime, row.id, actor="staff:st_1")
        with pytest.raises(Conflict):
            replay(runtime, row.id, actor="staff:st_1")  # pending again: not failed
        assert deliver_due(runtime).sent == 1
        [again] = _rows(runtime)
        assert (again.id, again.status, again.attempts) == (row.id, "delivered", 4)
        assert rec.seen == {row.id: 1}
        assert [e.action for e in runtime.audit.tail(3)].count("webhook.replay") == 1


def test_a_tampered_body_or_a_wrong_secret_fails_verification() -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"type":"subject.withdrawn","timestamp":"2026-12-03T00:00:00+00:00","data":{}}'
    now = dt.datetime.now(dt.UTC)
    headers = headers_for(secret, "msg_1", now, body)
    assert Webhook(secret).verify(body, headers)["type"] == "subject.withdrawn"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("withdrawn", "created"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=").verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_2"})


def test_a_receiver_with_the_old_secret_rejects_after_rotation(
    runtime: Runtime, rec: Receiver, clock: ManualClock
) -> None:
    endpoint_id = _register(runtime, rec, "subject.withdrawn")
    old = rec.secret
    new = endpoints.rotate(runtime, endpoint_id, actor="test")
    assert new != old and new.startswith("whsec_")
    runtime.vault.withdraw(HOST, person(runtime))
    run(runtime)
    assert rec.invalid == 1 and not rec.events  # signed with the new secret
    rec.secret = new
    clock.advance(seconds=6)
    deliver_due(runtime)
    assert len(rec.events) == 1


def test_two_dispatchers_at_once_queue_each_event_once(runtime: Runtime, rec: Receiver) -> None:
    _register(runtime, rec)
    people = [person(runtime, email=f"p{n}@example.jp") for n in range(6)]
    for subject in people:
        runtime.vault.withdraw(HOST, subject)
    results = race(2, lambda _i: dispatch(runtime, page=2))
    assert not [r for r in results if isinstance(r, BaseException)]
    rows = _rows(runtime)
    assert sorted(r.subject_id or "" for r in rows) == sorted(people)
    assert len({(r.endpoint_id, r.seq, r.event_type) for r in rows}) == len(rows)


def test_parallel_senders_send_each_attempt_once(runtime: Runtime, rec: Receiver) -> None:
    _register(runtime, rec, "subject.withdrawn")
    for n in range(5):
        runtime.vault.withdraw(HOST, person(runtime, email=f"q{n}@example.jp"))
    dispatch(runtime)
    results = race(3, lambda _i: deliver_due(runtime))
    assert not [r for r in results if isinstance(r, BaseException)]
    assert rec.requests == 5
    assert sorted(rec.seen.values()) == [1] * 5


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://127.0.0.1/hooks", "https"),
        ("http://example.jp/hooks", "https"),
        ("https://user:pw@example.jp/hooks", "user name or password"),
        ("https:///nohost", "host"),
        ("https://example.jp/hooks#x", "fragment"),
        ("https://example.jp:99999/hooks", "not a valid URL"),
        ("", "URL"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(tmp_path: Path, url: str, words: str) -> None:
    settings = Settings(data_dir=tmp_path, webhook_allow_http_loopback=True)
    with pytest.raises(WebhookEndpointInvalid, match=words):
        endpoints.check_url(settings, url)


def test_http_to_loopback_needs_the_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(WebhookEndpointInvalid, match="MAMORI_WEBHOOK_ALLOW_HTTP_LOOPBACK"):
        endpoints.check_url(settings, "http://127.0.0.1:9/hooks")
    assert endpoints.check_url(settings, "https://host.example.jp/h")
    allowed = Settings(data_dir=tmp_path, webhook_allow_http_loopback=True)
    for url in ("http://127.0.0.1:9/h", "http://[::1]:9/h", "http://localhost/h"):
        assert endpoints.check_url(allowed, url) == url


def test_unknown_events_services_and_endpoints_are_refused(runtime: Runtime) -> None:
    url = "https://host.example.jp/hooks"
    with pytest.raises(WebhookEndpointInvalid, match=r"unknown event type 'subject\.made'"):
        endpoints.create(runtime, service="shop", url=url, events=["subject.made"], actor="t")
    with pytest.raises(WebhookEndpointInvalid, match="services with a live key: shop"):
        endpoints.create(runtime, service="nobody", url=url, events=(), actor="t")
    with pytest.raises(WebhookNotFound):
        endpoints.rotate(runtime, "wh_none", actor="t")
    with pytest.raises(WebhookNotFound):
        replay(runtime, "msg_none", actor="t")
    assert _rows(runtime) == []


def test_no_personal_value_or_secret_in_plain_text_in_the_tables(
    runtime: Runtime, rec: Receiver
) -> None:
    _register(runtime, rec)
    subject = person(runtime, email="unique-address@example.jp")
    _correction(runtime, subject, "秘密之助 新姓")
    dispatch(runtime)  # queued, not yet sent: the values wait sealed
    with runtime.engine.connect() as conn:
        raw = [
            repr(tuple(r))
            for table in ("webhook_deliveries", "webhook_endpoints", "webhook_attempts")
            for r in conn.execute(sa.text(f"SELECT * FROM {table}"))
        ]
        audit = [repr(tuple(r)) for r in conn.execute(sa.text("SELECT * FROM audit_entries"))]
    blob = "\n".join(raw + audit)
    assert any("request.decided" in r for r in raw)
    for secret_or_value in ("秘密之助", "新姓", "unique-address", rec.secret or "?"):
        assert secret_or_value not in blob
        assert secret_or_value.encode("utf-8").hex() not in blob
    deliver_due(runtime)
    [decided] = rec.of_type("request.decided")
    assert decided["data"]["values"] == {"name": "秘密之助 新姓"}
    [row] = [r for r in _rows(runtime) if r.event_type == "request.decided"]
    assert row.status == "delivered" and row.values_sealed is None  # dropped once sent


def test_a_withdrawal_before_delivery_shreds_the_sealed_values(
    runtime: Runtime, rec: Receiver
) -> None:
    _register(runtime, rec, "request.decided")
    subject = person(runtime)
    _correction(runtime, subject, "山田 花")
    dispatch(runtime)
    runtime.vault.withdraw(HOST, subject)
    deliver_due(runtime)
    [decided] = rec.of_type("request.decided")
    assert decided["data"]["values"] is None
    assert decided["data"]["values_shredded"] is True


def test_removed_endpoints_get_nothing_more(runtime: Runtime, rec: Receiver) -> None:
    endpoint_id = _register(runtime, rec, "subject.withdrawn")
    runtime.vault.withdraw(HOST, person(runtime))
    dispatch(runtime)
    endpoints.remove(runtime, endpoint_id, actor="test")
    deliver_due(runtime)
    [row] = _rows(runtime)
    assert (row.status, row.last_error) == ("failed", "endpoint_removed")
    assert not rec.events
    assert endpoints.listing(runtime) == []


def test_cookie_choices_of_a_known_person_become_consent_changes(
    runtime: Runtime, rec: Receiver
) -> None:
    from mamori.consent import links
    from mamori.consent.service import Consent

    _register(runtime, rec, "consent.changed")
    consent = Consent(runtime.engine, runtime.audit, runtime.published, days=180)
    current = consent.current()
    banner = consent.banner(current.version, "ja", gpc=False)

    def choose(consent_id: str | None, method: str) -> str:
        receipt, _ = consent.record(
            consent_id=consent_id,
            version=current.version,
            lang="ja",
            text_hash=banner.text_hash,
            gpc=False,
            method=method,
            source="banner",
        )
        return receipt.consent_id

    anonymous = choose(None, "accept_all")  # nobody mamori knows: no event
    subject = person(runtime)
    links.link(runtime.vault, HOST, subject, anonymous)
    choose(anonymous, "reject_all")  # the linked person changes their mind
    run(runtime)
    kinds = sorted((e["data"]["kind"], e["data"]["state"]) for e in rec.events.values())
    assert kinds == [("cookie", "linked"), ("cookie", "recorded")]
    [recorded] = [e for e in rec.events.values() if e["data"]["state"] == "recorded"]
    assert recorded["data"]["subject_id"] == subject
    assert recorded["data"]["categories"]["advertising"] is False


def test_a_retry_due_at_once_waits_for_the_next_run(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    settings = {**SETTINGS, "webhook_retry_schedule": [0, 0]}
    runtime = open_test_runtime(tmp_path, database_url, clock=clock, **settings)  # type: ignore[arg-type]
    try:
        service_keys.create(
            runtime.engine,
            runtime.audit,
            name="shop",
            purposes=["service_operation"],
            operations=["read"],
            actor="test",
        )
        with receiver(fail_first=5) as rec:
            _register(runtime, rec, "subject.withdrawn")
            runtime.vault.withdraw(HOST, person(runtime))
            run(runtime)
            [row] = _rows(runtime)
            assert (row.status, row.attempts) == ("pending", 1)  # one attempt per run
            run(runtime)
            run(runtime)
            [row] = _rows(runtime)
            assert (row.status, row.attempts, rec.requests) == ("failed", 3, 3)
    finally:
        runtime.close()


def test_a_policy_change_needing_consent_and_a_persons_consent_to_it(
    runtime: Runtime, rec: Receiver, tmp_path: Path
) -> None:
    from mamori.changes import consents as change_consents
    from tests.helpers import edits

    _register(runtime, rec, "policy.consent_required", "consent.changed")
    subject = person(runtime)
    path = edits.write_edited(tmp_path / "policy.yaml", edits.unrelated_purpose, edits.revision)
    version = runtime.publish_file(path, actor="test").version
    change_consents.consent(
        runtime.vault, Caller.person(subject), subject, version, channel="center"
    )
    run(runtime)
    [published] = rec.of_type("policy.consent_required")
    assert published["data"]["policy_version"] == version
    assert published["data"]["consent_uses"] == 2
    [given] = rec.of_type("consent.changed")
    assert given["data"] == {
        "subject_id": subject,
        "kind": "policy_change",
        "state": "given",
        "policy_version": version,
        "channel": "center",
    }
