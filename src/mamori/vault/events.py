"""Device and usage events (seed §1 (3)②): a time series, encrypted, kept for its retention.

Each event is encrypted under the subject's data key. An event's fields map to the policy's
device items; a field whose item the person stopped is not stored, and when the person stopped
the event stream itself (or withdrew) nothing is stored. ``purge_expired`` deletes events and
items past their retention; the job ``vault.retention_purge`` runs it on a schedule.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from mamori.errors import SubjectWithdrawn, UserInputError
from mamori.store import db
from mamori.vault import crypto
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.storage import subjects as storage
from mamori.vault.storage import usage_events

__all__ = ["EVENT_FIELDS", "EventsStored", "Purged", "add_events", "purge_expired"]

EVENT_FIELDS = ("device_model", "os_version", "ip_address", "advertising_id", "cookie_id")
"""Optional fields of an event; each is stored only while the item of the same id is in use."""
MAX_EVENTS = 1000
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
"""No device or usage event is older than this (an older time is a client's mistake)."""
DEFAULT_EVENT_DAYS = 365


@dataclass(frozen=True)
class EventsStored:
    stored: int
    dropped: int
    reason: str | None = None


@dataclass(frozen=True)
class Purged:
    events: int
    items: int


def _event(raw: Mapping[str, Any], index: int, now: dt.datetime) -> dict[str, Any]:
    where = f"events[{index}]"
    if not isinstance(raw, Mapping):
        raise UserInputError(f"{where}: an event is an object")
    unknown = set(raw) - {"occurred_at", "action", *EVENT_FIELDS}
    if unknown:
        raise UserInputError(f"{where}: unknown field '{sorted(unknown)[0]}'")
    action = raw.get("action")
    if not isinstance(action, str) or not (1 <= len(action) <= 64):
        raise UserInputError(f"{where}.action: give a short action code (1-64 characters)")
    occurred = raw.get("occurred_at")
    try:
        when = dt.datetime.fromisoformat(str(occurred).replace("Z", "+00:00"))
    except ValueError:
        raise UserInputError(f"{where}.occurred_at: not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise UserInputError(f"{where}.occurred_at: give a time zone (e.g. Z or +09:00)")
    try:
        when = when.astimezone(dt.UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise UserInputError(f"{where}.occurred_at: out of range") from None
    if when < EARLIEST:
        raise UserInputError(f"{where}.occurred_at: before 1970-01-01")
    if when > now + dt.timedelta(days=1):
        raise UserInputError(f"{where}.occurred_at: is in the future")
    event: dict[str, Any] = {"occurred_at": when.isoformat(), "action": action}
    for name in EVENT_FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 256:
            raise UserInputError(f"{where}.{name}: a string of at most 256 characters")
        if name == "ip_address":
            try:
                value = str(ipaddress.ip_address(value))
            except ValueError:
                raise UserInputError(f"{where}.ip_address: not an IP address") from None
        event[name] = value
    return event


def add_events(
    vault: Vault, caller: Caller, subject_id: str, events: Sequence[Mapping[str, Any]]
) -> EventsStored:
    caller.require("write")
    if len(events) > MAX_EVENTS:
        raise UserInputError(f"send at most {MAX_EVENTS} events per call")
    rules = vault.rules()
    stream = rules.event_item()
    if stream is None:
        raise UserInputError("the policy declares no item of kind 'events'")
    now = vault.clock.now()
    parsed = [_event(raw, i, now) for i, raw in enumerate(events)]
    days = stream.retention.days or DEFAULT_EVENT_DAYS
    with db.write(vault.engine) as conn:
        loaded = vault.load(conn, subject_id)
        if loaded.status == "withdrawn":
            raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
        stopped_items, _ = vault.stops(conn, subject_id)
        if stream.id in stopped_items:
            result = EventsStored(0, len(parsed), "stopped_by_person")
        else:
            data_key = vault.data_key(subject_id, loaded.wrapped_key)
            rows = []
            for event in parsed:
                kept = {k: v for k, v in event.items() if k not in stopped_items}
                when = dt.datetime.fromisoformat(event["occurred_at"])
                rows.append(
                    {
                        "subject_id": subject_id,
                        "occurred_at": when,
                        "expires_at": when + dt.timedelta(days=days),
                        "ciphertext": crypto.encrypt(
                            data_key, orjson.dumps(kept), subject_id=subject_id, item_id="event"
                        ),
                    }
                )
            usage_events.insert_events(conn, rows)
            result = EventsStored(len(rows), 0)
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="subject.events",
            targets=[f"subject:{subject_id}"],
            details={"stored": result.stored, "dropped": result.dropped, "reason": result.reason},
        )
    return result


def read_events(vault: Vault, subject_id: str, *, batch: int = 1000) -> Any:
    """Every stored event of a subject, oldest first, decrypted (a generator: constant memory)."""
    with db.read(vault.engine) as conn:
        loaded = vault.load(conn, subject_id)
    data_key = vault.data_key(subject_id, loaded.wrapped_key)
    after = 0
    while True:
        with db.read(vault.engine) as conn:
            rows = usage_events.event_page(conn, subject_id, after=after, limit=batch)
        if not rows:
            return
        for _id, ciphertext, _occurred in rows:
            yield orjson.loads(
                crypto.decrypt(data_key, ciphertext, subject_id=subject_id, item_id="event")
            )
        after = rows[-1][0]


def purge_expired(vault: Vault, *, now: dt.datetime | None = None) -> Purged:
    """Delete events and items whose retention has ended. Audited with counts."""
    now = now or vault.clock.now()
    with db.write(vault.engine) as conn:
        events, items = storage.purge_expired(conn, now)
        if events or items:
            vault.audit.append(
                conn,
                actor="system:retention",
                action="retention.purge",
                targets=[],
                details={"events": events, "items": items},
            )
    return Purged(events, items)
