"""The event catalogue, and which audit entries become which events (pure: no I/O).

Every change a host service must follow is appended to the audit log in the transaction that
makes it, so the audit log is the one complete source of events: :func:`events_of` maps one
entry to the events it raises (none for most entries). The data of an event holds IDs and codes
only; a correction's new values are added at dispatch, sealed (:mod:`mamori.webhooks.dispatch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["EVENT_TYPES", "Event", "events_of"]

EVENT_TYPES: Final[tuple[str, ...]] = (
    "subject.withdrawn",
    "usage_stop.changed",
    "request.decided",
    "consent.changed",
    "policy.consent_required",
)
"""Every event type, in the order the documentation lists them."""

Details = Mapping[str, str | int | bool | None]


@dataclass(frozen=True)
class Event:
    type: str
    data: dict[str, object]
    subject_id: str | None = None
    request_id: str | None = None

    @property
    def correction(self) -> bool:
        """A correction carried out: the dispatcher adds the person's new values."""
        return (
            self.type == "request.decided"
            and self.data.get("type") == "correction"
            and self.data.get("effect") == "corrected"
            and self.subject_id is not None
        )


def _target(targets: Sequence[str], kind: str) -> str | None:
    prefix = f"{kind}:"
    return next((t.removeprefix(prefix) for t in targets if t.startswith(prefix)), None)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def events_of(action: str, targets: Sequence[str], details: Details) -> list[Event]:
    """The events the audit entry (``action``, ``targets``, ``details``) raises."""
    subject = _target(targets, "subject")
    if action == "subject.withdraw" and subject:
        return [Event("subject.withdrawn", {"subject_id": subject}, subject)]
    if action == "subject.restrictions" and subject:
        stopped = sorted(k for k, v in details.items() if v == "stopped")
        resumed = sorted(k for k, v in details.items() if v == "resumed")
        if not stopped and not resumed:
            return []
        data: dict[str, object] = {
            "subject_id": subject,
            "stopped": [_stop(k) for k in stopped],
            "resumed": [_stop(k) for k in resumed],
        }
        return [Event("usage_stop.changed", data, subject)]
    if action == "request.decide":
        return [_decided(targets, details, subject)]
    if action in ("provision_consent.give", "provision_consent.revoke") and subject:
        data = {
            "subject_id": subject,
            "kind": "provision",
            "state": "given" if action.endswith("give") else "revoked",
            "consent_id": _target(targets, "consent"),
            "recipient_id": _target(targets, "recipient"),
            "purpose_id": details.get("purpose"),
            "channel": details.get("channel"),
        }
        return [Event("consent.changed", data, subject)]
    if action == "policy_change.consent" and subject:
        version = _int(_target(targets, "policy_version"))
        data = {
            "subject_id": subject,
            "kind": "policy_change",
            "state": "given",
            "policy_version": version,
            "channel": details.get("channel"),
        }
        return [Event("consent.changed", data, subject)]
    if action == "cookie_consent.link" and subject:
        data = {
            "subject_id": subject,
            "kind": "cookie",
            "state": "linked",
            "receipt": details.get("receipt"),
        }
        return [Event("consent.changed", data, subject)]
    if action == "policy.publish" and details.get("change_level") == "consent_required":
        data = {
            "policy_version": _int(_target(targets, "policy_version")),
            "effective_date": details.get("effective_date"),
            "consent_uses": details.get("consent_uses"),
            "consent_recipients": details.get("consent_recipients"),
        }
        return [Event("policy.consent_required", data)]
    return []


def _stop(key: str) -> dict[str, str]:
    kind, _, name = key.partition(".")
    return {"kind": kind, "id": name}


def _decided(targets: Sequence[str], details: Details, subject: str | None) -> Event:
    request = _target(targets, "request")
    data: dict[str, object] = {
        "request_id": request,
        "subject_id": subject,
        "type": details.get("type"),
        "outcome": details.get("outcome"),
        "effect": details.get("effect"),
    }
    return Event("request.decided", data, subject, request)
