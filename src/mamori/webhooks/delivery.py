"""Delivery: each due delivery is claimed, signed (Standard Webhooks, through the
``standardwebhooks`` library) and POSTed to its endpoint; the attempt is recorded.

A delivery's ``id`` is its ``webhook-id`` header, the same on every retry and on a replay, so a
receiver that remembers the ids it has processed sees each event once. A claim is one
conditional ``UPDATE`` (the row must still be due with the attempt count that was read), so two
workers never send the same attempt; the claim is a lease, and a worker that dies mid-send
leaves a delivery that becomes due again when the lease ends. A 2xx answer delivers; anything
else (another status, a timeout, a refused connection) is retried after the next wait of
MAMORI_WEBHOOK_RETRY_SCHEDULE, and after the last one the delivery is ``failed``. What is
stored of an attempt is its status code, the type of the error and its duration: never the
answer's body. Staff may replay a failed delivery (:func:`replay`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Final

import httpx
import orjson
from standardwebhooks import Webhook

from mamori.errors import Conflict, WebhookNotFound
from mamori.store import db
from mamori.webhooks import storage
from mamori.webhooks.context import WebhookContext
from mamori.webhooks.dispatch import dispatch, open_values
from mamori.webhooks.endpoints import secret_of

__all__ = ["BATCH", "NAME", "Attempted", "deliver_due", "headers_for", "replay", "run"]

log = logging.getLogger("mamori.webhooks")

NAME: Final = "webhooks.deliver"
BATCH: Final = 50
USER_AGENT: Final = "mamori-webhooks/1"


@dataclass(frozen=True)
class Attempted:
    sent: int
    failed: int


def headers_for(secret: str, delivery_id: str, at: dt.datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of ``body`` sent as ``delivery_id`` at ``at``."""
    signature = Webhook(secret).sign(delivery_id, at, body)
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def deliver_due(ctx: WebhookContext, *, client: httpx.Client | None = None) -> Attempted:
    """Send every delivery that is due now; returns how many were delivered and how many
    attempts failed."""
    sent = failed = 0
    seen: set[str] = set()
    own = client is None
    http = client or httpx.Client(
        timeout=ctx.settings.webhook_timeout_seconds, follow_redirects=False
    )
    try:
        while True:
            claimed = _claim(ctx, seen)
            if not claimed:
                return Attempted(sent, failed)
            for delivery_id, attempts in claimed:
                seen.add(delivery_id)
                if _attempt(ctx, http, delivery_id, attempts):
                    sent += 1
                else:
                    failed += 1
    finally:
        if own:
            http.close()


def run(ctx: WebhookContext) -> Attempted:
    """The job ``webhooks.deliver``: dispatch new audit entries, then send what is due."""
    dispatch(ctx)
    return deliver_due(ctx)


def _claim(ctx: WebhookContext, seen: set[str]) -> list[tuple[str, int]]:
    """Claim due deliveries not attempted in this run yet (one due again at once, after a
    wait of 0, waits for the next run rather than being tried in a loop)."""
    now = ctx.clock.now()
    lease = now + dt.timedelta(seconds=ctx.settings.webhook_timeout_seconds * 3 + 30)
    with db.read(ctx.engine) as conn:
        due = [d for d in storage.due(conn, now, BATCH + len(seen)) if d[0] not in seen]
    if not due:
        return []
    claimed: list[tuple[str, int]] = []
    with db.write(ctx.engine) as conn:
        for delivery_id, at, attempts in due:
            if storage.claim(conn, delivery_id, at, attempts, lease):
                claimed.append((delivery_id, attempts))
    return claimed


def _attempt(ctx: WebhookContext, http: httpx.Client, delivery_id: str, attempts: int) -> bool:
    with db.read(ctx.engine) as conn:
        row = storage.delivery(conn, delivery_id)
        endpoint = storage.endpoint(conn, row.endpoint_id) if row is not None else None
        values = open_values(ctx, conn, row) if row is not None else None
    if row is None:
        return False
    status: int | None = None
    error: str | None = None
    started = time.monotonic()
    if endpoint is None or endpoint.removed_at is not None:
        error = "endpoint_removed"
    elif not endpoint.enabled:
        error = "endpoint_disabled"
    else:
        body = _body(row, values)
        headers = headers_for(secret_of(ctx, endpoint), row.id, ctx.clock.now(), body)
        try:
            answer = http.post(endpoint.url, content=body.encode(), headers=headers)
            status = answer.status_code
            if not 200 <= status < 300:
                error = f"http_{status}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
    millis = int((time.monotonic() - started) * 1000)
    final = endpoint is None or endpoint.removed_at is not None or not endpoint.enabled
    _record(ctx, row, attempts + 1, status, error, millis, final=final)
    if error is not None:
        log.info("webhook delivery %s: attempt %d failed: %s", row.id, attempts + 1, error)
    return error is None


def _body(row: storage.DeliveryRow, values: object) -> str:
    if row.values_sealed is None:
        return row.payload
    event = orjson.loads(row.payload)
    event["data"]["values"] = values
    if values is None:
        event["data"]["values_shredded"] = True  # the person withdrew before delivery
    return orjson.dumps(event).decode()


def _record(
    ctx: WebhookContext,
    row: storage.DeliveryRow,
    attempts: int,
    status: int | None,
    error: str | None,
    millis: int,
    *,
    final: bool,
) -> None:
    now = ctx.clock.now()
    schedule = ctx.settings.webhook_retry_schedule
    if error is None:
        result, next_at, delivered = "delivered", None, now
    elif final or attempts > len(schedule):
        result, next_at, delivered = "failed", None, None
    else:
        result, next_at = "pending", now + dt.timedelta(seconds=schedule[attempts - 1])
        delivered = None
    with db.write(ctx.engine) as conn:
        if not storage.finish(
            conn,
            row.id,
            attempts=attempts,
            status=result,
            next_at=next_at,
            last_status=status,
            last_error=error,
            delivered_at=delivered,
        ):
            return  # the lease ran out and another worker took over: its record stands
        storage.add_attempt(conn, storage.AttemptRow(row.id, attempts, now, status, error, millis))


def replay(ctx: WebhookContext, delivery_id: str, *, actor: str) -> None:
    """Queue a failed delivery again, with the same ``webhook-id``. Audited."""
    with db.write(ctx.engine) as conn:
        row = storage.delivery(conn, delivery_id)
        if row is None:
            raise WebhookNotFound(f"no webhook delivery {delivery_id[:40]!r}")
        if not storage.replay(conn, delivery_id, ctx.clock.now()):
            raise Conflict(f"delivery {delivery_id} has not failed: only a failed one is replayed")
        ctx.audit.append(
            conn,
            actor=actor,
            action="webhook.replay",
            targets=[f"webhook:{row.endpoint_id}", f"webhook_delivery:{row.id}"],
            details={"event": row.event_type, "attempts": row.attempts},
        )
