"""The dispatcher: audit entries after the stored cursor become deliveries (part of the job
``webhooks.deliver``).

Every change a host must follow is in the audit log, appended in the transaction that made it,
so tailing the log from a cursor emits every event, and nothing else has to remember to. Each
page is one write transaction that holds the cursor's lock, reads the entries after the cursor,
inserts a delivery for each event and each enabled endpoint subscribed to its type (and
registered before the entry), and moves the cursor: several processes may run the job at once,
they take turns, and each entry is dispatched exactly once (the unique key (endpoint, entry,
event type) is the backstop).

A correction carries the person's new values: the dispatcher reads the items the request named
from the vault as ``system:webhooks`` (audited: ``webhook.read``, IDs and counts only) and seals
them under the person's own data key, so a withdrawal before delivery shreds them too.
"""

from __future__ import annotations

import datetime as dt
import secrets
from contextlib import closing
from dataclasses import dataclass
from typing import Final

import orjson

from mamori.audit import queries as audit_queries
from mamori.audit.entry import decode_fields, parse_ts
from mamori.consent import storage as consent_storage
from mamori.errors import RequestNotFound
from mamori.requests import store as request_store
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault import crypto
from mamori.vault.storage import subjects
from mamori.webhooks import storage
from mamori.webhooks.context import WebhookContext
from mamori.webhooks.events import Event, events_of

__all__ = ["ACTOR", "PAGE", "Dispatched", "dispatch", "open_values", "values_item"]

ACTOR: Final = "system:webhooks"
PAGE: Final = 500
"""Audit entries read per transaction."""


@dataclass(frozen=True)
class Dispatched:
    entries: int
    deliveries: int
    cursor: int


def values_item(delivery_id: str) -> str:
    """The item name a delivery's sealed values are bound to (the AEAD's associated data)."""
    return f"webhook:{delivery_id}"


def dispatch(ctx: WebhookContext, *, page: int = PAGE, pages: int | None = None) -> Dispatched:
    """Dispatch every entry after the cursor (or ``pages`` pages of them)."""
    with db.read(ctx.engine) as conn:
        head = audit_queries.size(conn)
        at = storage.cursor(conn)
    if head <= at:
        return Dispatched(0, 0, at)
    entries = queued = done = 0
    while pages is None or done < pages:
        with db.write(ctx.engine) as conn:
            after = storage.lock_cursor(conn)
            live = [e for e in storage.endpoints(conn) if e.enabled]
            if not live:  # nothing subscribed: skip to the head at once
                at = max(after, audit_queries.size(conn))
                storage.set_cursor(conn, at)
                break
            batch = _page(conn, after, page)
            if not batch:
                at = after
                break
            rows = _deliveries(ctx, conn, batch, live)
            storage.insert_deliveries(conn, rows)
            at = batch[-1][0]
            storage.set_cursor(conn, at)
        entries += len(batch)
        queued += len(rows)
        done += 1
    return Dispatched(entries, queued, at)


_Entry = tuple[int, dt.datetime, str, tuple[str, ...], dict[str, str | int | bool | None]]


def _page(conn: Connection, after: int, page: int) -> list[_Entry]:
    with closing(audit_queries.stream_entries(conn, after, after + page)) as pages:
        rows = next(pages, [])
    found: list[_Entry] = []
    for seq, ts, _actor, action, targets_json, details_json, _prev, _hash in rows[:page]:
        targets, details = decode_fields(targets_json, details_json)
        found.append((seq, parse_ts(ts), action, targets, details))
    return found


def _deliveries(
    ctx: WebhookContext,
    conn: Connection,
    batch: list[_Entry],
    live: list[storage.EndpointRow],
) -> list[storage.DeliveryRow]:
    now = ctx.clock.now()
    rows: list[storage.DeliveryRow] = []
    for seq, ts, action, targets, details in batch:
        found = events_of(action, targets, details)
        if action == "consent.record":
            found = _receipt_events(conn, targets)
        for event in found:
            wanted = [e for e in live if event.type in e.events and e.created_at <= ts]
            if not wanted:
                continue
            data = dict(event.data)
            items: dict[str, object] | None = None
            if event.type == "request.decided" and event.request_id:
                items = _request_facts(ctx, conn, event, data)
                if event.correction and items is None:  # withdrew since: nothing to carry
                    data.update(values=None, values_shredded=True)
            payload = orjson.dumps(
                {"type": event.type, "timestamp": ts.isoformat(), "data": data}
            ).decode()
            for endpoint in wanted:
                delivery_id = f"msg_{secrets.token_hex(12)}"
                sealed = _seal_values(ctx, conn, event, delivery_id, items)
                rows.append(
                    storage.DeliveryRow(
                        id=delivery_id,
                        endpoint_id=endpoint.id,
                        event_type=event.type,
                        seq=seq,
                        subject_id=event.subject_id,
                        request_id=event.request_id,
                        payload=payload,
                        values_sealed=sealed,
                        status="pending",
                        attempts=0,
                        next_at=now,
                        last_status=None,
                        last_error=None,
                        created_at=now,
                        delivered_at=None,
                    )
                )
    return rows


def _receipt_events(conn: Connection, targets: tuple[str, ...]) -> list[Event]:
    """A cookie choice recorded by a person mamori knows (signed in, or linked): one
    ``consent.changed`` each. The audit entry names the receipts ``consent-receipts:A-B``."""
    span = next((t.removeprefix("consent-receipts:") for t in targets if "receipts:" in t), "")
    first, _, last = span.partition("-")
    if not (first.isdigit() and last.isdigit()):
        return []
    return [
        Event(
            "consent.changed",
            {
                "subject_id": subject,
                "kind": "cookie",
                "state": "recorded",
                "receipt": seq,
                "categories": orjson.loads(categories),
            },
            subject,
        )
        for seq, subject, categories in consent_storage.people_of_receipts(
            conn, int(first), int(last)
        )
    ]


def _request_facts(
    ctx: WebhookContext, conn: Connection, event: Event, data: dict[str, object]
) -> dict[str, object] | None:
    """Add the request's number (and, for a correction, read the new values)."""
    assert event.request_id is not None
    try:
        request = request_store.load(conn, event.request_id)
    except RequestNotFound:
        return None
    data["request_number"] = request.number
    data["items"] = list(request.items)
    if not event.correction or event.subject_id is None:
        return None
    return _read_values(ctx, conn, event.subject_id, event.request_id, list(request.items))


def _read_values(
    ctx: WebhookContext, conn: Connection, subject_id: str, request_id: str, items: list[str]
) -> dict[str, object] | None:
    wrapped = subjects.wrapped_key(conn, subject_id)
    if wrapped is None:
        return None  # withdrawn since: nothing to carry
    held = subjects.items_of_people(conn, [subject_id], items).get(subject_id, [])
    cipher = ctx.vault.cipher(subject_id, wrapped)
    values: dict[str, object] = {}  # the items the person holds now; none other
    for item in held:
        values[item.item_id] = orjson.loads(
            crypto.decrypt(cipher, item.ciphertext, subject_id=subject_id, item_id=item.item_id)
        )
    ctx.audit.append(
        conn,
        actor=ACTOR,
        action="webhook.read",
        targets=[f"subject:{subject_id}", f"request:{request_id}"],
        details={"items": len(held)},
    )
    return values


def _seal_values(
    ctx: WebhookContext,
    conn: Connection,
    event: Event,
    delivery_id: str,
    values: dict[str, object] | None,
) -> bytes | None:
    if values is None or event.subject_id is None:
        return None
    wrapped = subjects.wrapped_key(conn, event.subject_id)
    cipher = ctx.vault.cipher(event.subject_id, wrapped)
    return crypto.encrypt(
        cipher, orjson.dumps(values), subject_id=event.subject_id, item_id=values_item(delivery_id)
    )


def open_values(ctx: WebhookContext, conn: Connection, row: storage.DeliveryRow) -> object:
    """A delivery's sealed values, or ``None`` when the person withdrew since (shredded)."""
    if row.values_sealed is None or row.subject_id is None:
        return None
    wrapped = subjects.wrapped_key(conn, row.subject_id)
    if wrapped is None:
        return None
    cipher = ctx.vault.cipher(row.subject_id, wrapped)
    plain = crypto.decrypt(
        cipher, row.values_sealed, subject_id=row.subject_id, item_id=values_item(row.id)
    )
    return orjson.loads(plain)
