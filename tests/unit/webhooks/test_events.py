"""Which audit entries become which webhook events (pure): one test per mapped action, and
the entries that raise nothing."""

from __future__ import annotations

import pytest

from mamori.audit.labels import ACTIONS
from mamori.webhooks.events import EVENT_TYPES, events_of


def _one(action: str, targets: list[str], details: dict[str, str | int | bool | None]) -> dict:  # type: ignore[type-arg]
    [event] = events_of(action, targets, details)
    return {"type": event.type, **event.data}


def test_a_withdrawal() -> None:
    assert _one("subject.withdraw", ["subject:s_1"], {"deleted.items": 3}) == {
        "type": "subject.withdrawn",
        "subject_id": "s_1",
    }


def test_usage_stops_stopped_and_resumed() -> None:
    found = _one(
        "subject.restrictions",
        ["subject:s_1"],
        {"item.phone": "stopped", "purpose.advertising": "resumed"},
    )
    assert found == {
        "type": "usage_stop.changed",
        "subject_id": "s_1",
        "stopped": [{"kind": "item", "id": "phone"}],
        "resumed": [{"kind": "purpose", "id": "advertising"}],
    }
    assert events_of("subject.restrictions", ["subject:s_1"], {}) == []


@pytest.mark.parametrize("kind", ["correction", "erasure", "usage_stop", "provision_stop"])
def test_a_decided_request(kind: str) -> None:
    [event] = events_of(
        "request.decide",
        ["request:rq_1", "subject:s_1"],
        {"type": kind, "outcome": "fulfilled", "effect": "x", "reason": False},
    )
    assert event.type == "request.decided"
    assert (event.request_id, event.subject_id) == ("rq_1", "s_1")
    assert event.data["type"] == kind
    assert "reason" not in event.data  # codes the host needs, not staff's notes
    assert event.correction is False


def test_a_correction_carried_out_is_marked_for_its_values() -> None:
    [event] = events_of(
        "request.decide",
        ["request:rq_1", "subject:s_1"],
        {"type": "correction", "outcome": "partly_fulfilled", "effect": "corrected"},
    )
    assert event.correction
    [refused] = events_of(
        "request.decide",
        ["request:rq_1", "subject:s_1"],
        {"type": "correction", "outcome": "refused"},
    )
    assert not refused.correction


def test_consents() -> None:
    given = _one(
        "provision_consent.give",
        ["subject:s_1", "recipient:a8net", "consent:pc_1"],
        {"purpose": "advertising", "channel": "center", "policy_version": 2},
    )
    assert given["state"] == "given" and given["recipient_id"] == "a8net"
    assert given["consent_id"] == "pc_1" and given["kind"] == "provision"
    revoked = _one(
        "provision_consent.revoke",
        ["subject:s_1", "recipient:a8net", "consent:pc_1"],
        {"purpose": "advertising", "channel": "api"},
    )
    assert revoked["state"] == "revoked"
    change = _one(
        "policy_change.consent",
        ["subject:s_1", "policy_version:4"],
        {"channel": "center", "uses": 1},
    )
    assert (change["kind"], change["policy_version"], change["type"]) == (
        "policy_change",
        4,
        "consent.changed",
    )
    cookie = _one("cookie_consent.link", ["subject:s_1"], {"receipt": 9, "created": True})
    assert (cookie["kind"], cookie["receipt"]) == ("cookie", 9)


def test_a_policy_change_needing_consent_and_one_that_does_not() -> None:
    found = _one(
        "policy.publish",
        ["policy:p", "policy_version:3"],
        {
            "content_hash": "ab",
            "effective_date": "2026-12-10",
            "change_level": "consent_required",
            "consent_uses": 1,
            "consent_recipients": 0,
        },
    )
    assert found["type"] == "policy.consent_required" and found["policy_version"] == 3
    assert events_of("policy.publish", ["policy_version:3"], {"change_level": "notify"}) == []
    assert events_of("policy.publish", ["policy_version:1"], {"content_hash": "ab"}) == []


def test_every_other_action_raises_nothing() -> None:
    mapped = {
        "subject.withdraw",
        "subject.restrictions",
        "request.decide",
        "provision_consent.give",
        "provision_consent.revoke",
        "policy_change.consent",
        "cookie_consent.link",
        "policy.publish",
    }
    details: dict[str, str | int | bool | None] = {"change_level": "consent_required"}
    for action in set(ACTIONS) - mapped:
        assert events_of(action, ["subject:s_1", "request:rq_1"], details) == [], action
    assert len(EVENT_TYPES) == 5
