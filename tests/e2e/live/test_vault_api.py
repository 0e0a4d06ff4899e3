"""The vault through its REST API and the typed client, against a live server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import pytest

from mamori.client import Client
from mamori.errors import ApiError
from mamori.vault import service_keys
from tests.helpers.server import LiveServer

ALL = ("read", "write", "delete")


def key(server: LiveServer, purposes: Sequence[str], operations: Sequence[str] = ALL) -> str:
    runtime = server.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="test",
        purposes=list(purposes),
        operations=list(operations),
        actor="test",
    )
    return token


@pytest.fixture
def app(live_server: LiveServer) -> Iterator[Client]:
    token = key(live_server, ["service_operation", "promotion", "statistics", "advertising"])
    with Client(live_server.url, token) as client:
        yield client


def hanako(client: Client, **extra: object) -> str:
    return client.create_subject(
        "customer",
        external_id="host-user-1",
        items={
            "name": "山田 花子",
            "email": "Hanako.Yamada@Example.JP",
            "phone": "090-1234-5678",
            "device_model": "Pixel 9",
            **extra,
        },
    )


def test_allowed_items_are_released_and_normalised(app: Client) -> None:
    subject = hanako(app)
    result = app.read(subject, purpose="service_operation", items=["name", "email", "phone"])
    assert result.items == {
        "name": "山田 花子",
        "email": "Hanako.Yamada@Example.JP",
        "phone": "+819012345678",
    }
    assert result.refused == {} and result.missing == []
    assert app.read(subject, purpose="service_operation", items=["address"]).missing == ["address"]


def test_each_refusal_reason(app: Client, live_server: LiveServer) -> None:
    subject = hanako(app)
    # the policy does not allow the identity document for promotion
    refused = app.read(subject, purpose="promotion", items=["email", "identity_document"]).refused
    assert refused == {"identity_document": "purpose_not_allowed"}
    # a statistics-only purpose never releases values
    stats = app.read(subject, purpose="statistics", items=["device_model"])
    assert stats.refused == {"device_model": "statistics_only"}
    # the key is not granted the purpose
    narrow = key(live_server, ["shipping"])
    with Client(live_server.url, narrow) as shipping_only:
        result = shipping_only.read(subject, purpose="promotion", items=["email"])
        assert result.refused == {"email": "key_not_granted"}
        assert shipping_only.read(subject, purpose="shipping", items=["email"]).items
    # the person stopped it
    app.set_restrictions(subject, stopped_items=["phone"], stopped_purposes=["promotion"])
    assert app.read(subject, purpose="service_operation", items=["phone"]).refused == {
        "phone": "stopped_by_person"
    }
    assert app.read(subject, purpose="promotion", items=["email"]).refused == {
        "email": "stopped_by_person"
    }
    # withdrawn
    app.withdraw(subject)
    assert app.read(subject, purpose="service_operation", items=["name", "email"]).refused == {
        "name": "withdrawn",
        "email": "withdrawn",
    }


def test_not_for_subject_type(live_server: LiveServer) -> None:
    token = key(live_server, ["business_communication"])
    with Client(live_server.url, token) as client:
        partner = client.create_subject("business_contact", items={"contact_name": "佐藤"})
        assert client.read(
            partner, purpose="business_communication", items=["contact_name"]
        ).items == {"contact_name": "佐藤"}
        with pytest.raises(ApiError, match="not held for subjects of type 'business_contact'"):
            client.write(partner, {"email": "x@example.jp"})


def test_a_stop_takes_effect_on_the_very_next_read(app: Client) -> None:
    subject = hanako(app)
    assert app.read(subject, purpose="promotion", items=["email"]).items
    settings = app.set_restrictions(subject, stopped_purposes=["promotion"])
    assert settings.stopped_purposes == {"promotion"}
    assert app.read(subject, purpose="promotion", items=["email"]).refused
    app.set_restrictions(subject)  # resume everything
    assert app.read(subject, purpose="promotion", items=["email"]).items


def test_essential_items_and_purposes_stop_only_on_withdrawal(app: Client) -> None:
    subject = hanako(app)
    settings = app.restrictions(subject)
    email = next(i for i in settings.items if i.id == "email")
    assert email.essential is True and email.label.ja == "メールアドレス"
    service = next(p for p in settings.purposes if p.id == "service_operation")
    assert service.stoppable is False
    with pytest.raises(ApiError, match="essential to the service: it stops only on withdrawal"):
        app.set_restrictions(subject, stopped_items=["email"])
    with pytest.raises(ApiError, match="stops only on withdrawal") as caught:
        app.set_restrictions(subject, stopped_purposes=["service_operation"])
    assert caught.value.status == 400


def test_lookup_by_email_phone_and_host_id(app: Client) -> None:
    subject = hanako(app)
    other = app.create_subject("customer", items={"email": "someone@example.jp"})
    assert app.find("email", "hanako.yamada@example.jp") == [subject]
    assert app.find("phone", "+81 90 1234 5678") == [subject]
    assert app.find("phone", "０９０１２３４５６７８") == [subject]
    assert app.find("email", "nobody@example.jp") == []
    assert app.find_external("customer", "host-user-1") == subject
    assert app.find_external("customer", "host-user-2") is None
    assert other != subject
    with pytest.raises(ApiError, match="only e-mail and phone items are indexed"):
        app.find("name", "山田 花子")


def test_events_are_stored_and_dropped_when_the_person_stopped_them(app: Client) -> None:
    subject = hanako(app)
    event = {
        "occurred_at": "2026-11-01T09:00:00+09:00",
        "action": "invitation.view",
        "device_model": "Pixel 9",
        "ip_address": "203.0.113.7",
    }
    assert app.add_events(subject, [event, event]).stored == 2
    app.set_restrictions(subject, stopped_items=["usage_history"])
    dropped = app.add_events(subject, [event])
    assert (dropped.stored, dropped.dropped, dropped.reason) == (0, 1, "stopped_by_person")
    with pytest.raises(ApiError, match=r"events\[0\].ip_address: not an IP address"):
        app.add_events(subject, [{**event, "ip_address": "999.1.1.1"}])


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        ("0001-01-01T00:00:00+09:00", "out of range"),  # year 0 in UTC: OverflowError before
        ("9999-12-31T23:59:59-09:00", "out of range"),  # year 10000 in UTC
        ("0001-01-01T00:00:00Z", "before 1970-01-01"),
        ("9999-12-31T23:59:59Z", "is in the future"),
    ],
)
def test_event_times_at_the_ends_of_the_calendar_are_a_400(
    app: Client, live_server: LiveServer, occurred_at: str, message: str
) -> None:
    subject = hanako(app)
    with pytest.raises(ApiError, match=rf"events\[0\].occurred_at: {message}") as caught:
        app.add_events(subject, [{"occurred_at": occurred_at, "action": "login"}])
    assert caught.value.status == 400
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200


def test_bulk_read_leaves_out_stopped_and_withdrawn_people(app: Client) -> None:
    people = [app.create_subject("customer", items={"email": f"p{n}@example.jp"}) for n in range(5)]
    app.set_restrictions(people[1], stopped_purposes=["promotion"])
    app.withdraw(people[2])
    rows = dict(app.bulk_read("promotion", "email"))
    assert set(rows) == {people[0], people[3], people[4]}
    assert rows[people[0]] == "p0@example.jp"
    with pytest.raises(ApiError, match="uses data only as statistics"):
        list(app.bulk_read("statistics", "device_model"))


@pytest.mark.parametrize(
    ("call", "status", "message"),
    [
        (
            lambda c, s: c.read(s, purpose="service_operation", items=["emial"]),
            400,
            "unknown data item 'emial' (did you mean 'email'?)",
        ),
        (
            lambda c, s: c.read(s, purpose="servce_operation", items=["email"]),
            400,
            "undeclared purpose 'servce_operation' (did you mean 'service_operation'?)",
        ),
        (lambda c, s: c.write(s, {"email": "not-an-address"}), 400, "item 'email'"),
        (lambda c, s: c.write(s, {"phone": "12"}), 400, "item 'phone'"),
        (lambda c, s: c.write(s, {"name": "x" * 70_000}), 413, "the limit is"),
        (
            lambda c, s: c.read("0" * 32, purpose="service_operation", items=["email"]),
            404,
            "no subject",
        ),
        (
            lambda c, s: c.create_subject("customr"),
            400,
            "unknown data subject type 'customr' (did you mean 'customer'?)",
        ),
    ],
    ids=[
        "unknown item",
        "undeclared purpose",
        "bad email",
        "bad phone",
        "too large",
        "unknown subject",
        "unknown type",
    ],
)
def test_bad_input_gets_a_clear_4xx(app: Client, call, status: int, message: str) -> None:
    subject = hanako(app)
    with pytest.raises(ApiError) as caught:
        call(app, subject)
    assert caught.value.status == status
    assert message in caught.value.message
    assert "Hanako" not in caught.value.message and "not-an-address" not in caught.value.message
    # nothing was changed by the refused call
    assert app.read(subject, purpose="service_operation", items=["email"]).items == {
        "email": "Hanako.Yamada@Example.JP"
    }


def test_keys_unknown_revoked_and_without_the_operation(live_server: LiveServer) -> None:
    with Client(live_server.url, "mamori_mk_nothing_here") as stranger:
        with pytest.raises(ApiError) as caught:
            stranger.create_subject("customer")
        assert caught.value.status == 401
    read_only = key(live_server, ["service_operation"], ["read"])
    with Client(live_server.url, read_only) as client:
        with pytest.raises(ApiError) as caught:
            client.create_subject("customer")
        assert caught.value.status == 403 and "may not write" in caught.value.message
    runtime = live_server.runtime
    account, token = service_keys.create(
        runtime.engine, runtime.audit, name="gone", purposes=["shipping"], actor="test"
    )
    service_keys.revoke(runtime.engine, runtime.audit, account.id, actor="test")
    with Client(live_server.url, token) as revoked:
        with pytest.raises(ApiError) as caught:
            revoked.find_external("customer", "x")
        assert caught.value.status == 401


def test_every_read_is_audited_with_ids_only(app: Client, live_server: LiveServer) -> None:
    subject = hanako(app)
    app.set_restrictions(subject, stopped_items=["phone"])
    app.read(subject, purpose="service_operation", items=["email", "phone"])
    audit = live_server.runtime.audit
    entries = audit.tail(50)
    read = next(e for e in reversed(entries) if e.action == "subject.read")
    assert read.targets == (f"subject:{subject}",) or list(read.targets) == [f"subject:{subject}"]
    assert read.details["item.email"] == "released"
    assert read.details["item.phone"] == "stopped_by_person"
    assert read.details["purpose"] == "service_operation"
    text = repr(entries)
    for secret in ("Hanako", "hanako", "山田", "9012345678", "Pixel"):
        assert secret not in text
    assert audit.verify().ok


def test_read_by_email_finds_and_reads_in_one_call(app: Client, live_server: LiveServer) -> None:
    subject = hanako(app)
    app.create_subject("customer", items={"email": "other@example.jp"})
    app.set_restrictions(subject, stopped_items=["phone"])
    found = app.read_by(
        "email",
        "HANAKO.yamada@example.jp",
        purpose="service_operation",
        items=["name", "phone", "address"],
    )
    assert list(found) == [subject]
    result = found[subject]
    assert result.items == {"name": "山田 花子"}
    assert result.refused == {"phone": "stopped_by_person"}
    assert result.missing == ["address"]
    assert app.read_by("email", "nobody@example.jp", purpose="promotion", items=["email"]) == {}
    entry = live_server.runtime.audit.tail(2)[0]  # the last one is the read that found nobody
    assert entry.action == "subject.read", entry
    assert entry.details["s0.phone"] == "stopped_by_person", entry


def test_a_body_that_is_not_json_is_named_so(live_server: LiveServer) -> None:
    token = key(live_server, ["service_operation"], ["write"])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    answer = httpx.post(f"{live_server.url}/api/v1/subjects", content=b"{bad", headers=headers)
    assert answer.status_code == 422
    message = answer.json()["error"]
    assert message.startswith("the body is not valid JSON at character 1")
    assert "property name" in message
