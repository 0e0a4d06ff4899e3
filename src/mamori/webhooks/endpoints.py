"""Webhook endpoints, registered per service: a URL, the event types it wants, a secret.

The secret (``whsec_`` and 32 random bytes, base64, as the Standard Webhooks libraries read it)
is shown once, when the endpoint is created or its secret rotated, and stored sealed with the
``webhooks`` system key (itself wrapped by the master key), never in plain text. A service is
the name of a live service key (``mamori keys list``). URLs are https, without credentials; an
http URL is accepted only to a loopback address, when MAMORI_WEBHOOK_ALLOW_HTTP_LOOPBACK is on.
Every change is audited (``webhook.*``, IDs and codes only).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import urlsplit

from mamori.config import Settings
from mamori.errors import WebhookEndpointInvalid, WebhookNotFound
from mamori.store import db
from mamori.vault import crypto, service_keys
from mamori.webhooks import storage
from mamori.webhooks.context import WebhookContext
from mamori.webhooks.events import EVENT_TYPES

__all__ = [
    "KEY",
    "Endpoint",
    "check_url",
    "create",
    "get",
    "listing",
    "remove",
    "rotate",
    "secret_of",
    "set_enabled",
]

KEY: Final = "webhooks"
"""The system key that seals endpoint secrets."""
URL_MAX: Final = 2000


@dataclass(frozen=True)
class Endpoint:
    id: str
    service: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    created_at: dt.datetime
    removed: bool


def _public(row: storage.EndpointRow) -> Endpoint:
    return Endpoint(
        row.id,
        row.service,
        row.url,
        row.events,
        row.enabled,
        row.created_at,
        row.removed_at is not None,
    )


def check_url(settings: Settings, url: str) -> str:
    """``url`` if an endpoint may have it; :class:`WebhookEndpointInvalid` saying why not."""
    url = url.strip()
    if not url or len(url) > URL_MAX:
        raise WebhookEndpointInvalid(f"url: give a URL of 1 to {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise WebhookEndpointInvalid("url: not a valid URL") from None
    if parts.username is not None or parts.password is not None:
        raise WebhookEndpointInvalid(
            "url: must not hold a user name or password; the signature authenticates mamori"
        )
    if not host:
        raise WebhookEndpointInvalid("url: give a host, e.g. https://host.example.jp/hooks")
    if parts.fragment:
        raise WebhookEndpointInvalid("url: must not have a #fragment")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http":
        if not _loopback(host):
            raise WebhookEndpointInvalid("url: must be https:// (http only to a loopback address)")
        if not settings.webhook_allow_http_loopback:
            raise WebhookEndpointInvalid(
                "url: must be https://; set MAMORI_WEBHOOK_ALLOW_HTTP_LOOPBACK=true to allow "
                "http to a loopback address"
            )
        return url
    raise WebhookEndpointInvalid("url: must be https://")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_events(events: Iterable[str]) -> tuple[str, ...]:
    wanted = list(dict.fromkeys(e.strip() for e in events if e.strip()))
    if not wanted:
        return EVENT_TYPES
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown:
        raise WebhookEndpointInvalid(
            f"events: unknown event type {unknown[0][:64]!r}; known: {', '.join(EVENT_TYPES)}"
        )
    return tuple(e for e in EVENT_TYPES if e in wanted)


def _check_service(ctx: WebhookContext, service: str) -> str:
    service = service.strip()
    live = sorted({a.name for a in service_keys.list_keys(ctx.engine) if not a.revoked})
    if service not in live:
        known = f"; services with a live key: {', '.join(live)}" if live else ""
        raise WebhookEndpointInvalid(
            f"service: {service[:100]!r} is not the name of a live service key"
            f" (`mamori keys create` makes one){known}"
        )
    return service


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _seal(ctx: WebhookContext, endpoint_id: str, secret: str) -> bytes:
    key = ctx.vault.system_keys.get(KEY)
    return crypto.encrypt(
        key, secret.encode(), subject_id=f"webhook:{endpoint_id}", item_id="secret"
    )


def secret_of(ctx: WebhookContext, row: storage.EndpointRow) -> str:
    """The endpoint's secret, unsealed (for signing only; never shown again)."""
    key = ctx.vault.system_keys.get(KEY)
    plain = crypto.decrypt(key, row.secret, subject_id=f"webhook:{row.id}", item_id="secret")
    return plain.decode()


def create(
    ctx: WebhookContext, *, service: str, url: str, events: Iterable[str], actor: str
) -> tuple[Endpoint, str]:
    """Register an endpoint; returns it and its secret (shown this once)."""
    checked_url = check_url(ctx.settings, url)
    checked_events = _check_events(events)
    checked_service = _check_service(ctx, service)
    endpoint_id = f"wh_{secrets.token_hex(8)}"
    secret = _new_secret()
    sealed = _seal(ctx, endpoint_id, secret)
    now = ctx.clock.now()
    row = storage.EndpointRow(
        id=endpoint_id,
        service=checked_service,
        url=checked_url,
        events=checked_events,
        secret=sealed,
        enabled=True,
        created_by=actor,
        created_at=now,
        updated_at=now,
        removed_at=None,
    )
    with db.write(ctx.engine) as conn:
        storage.insert_endpoint(conn, row)
        ctx.audit.append(
            conn,
            actor=actor,
            action="webhook.create",
            targets=[f"webhook:{endpoint_id}"],
            details={"service": checked_service, "events": len(checked_events)},
        )
    return _public(row), secret


def get(ctx: WebhookContext, endpoint_id: str) -> Endpoint:
    with db.read(ctx.engine) as conn:
        row = storage.endpoint(conn, endpoint_id)
    if row is None or row.removed_at is not None:
        raise WebhookNotFound(f"no webhook endpoint {endpoint_id[:40]!r} (see `webhooks list`)")
    return _public(row)


def listing(ctx: WebhookContext) -> list[Endpoint]:
    """The live endpoints, oldest first."""
    with db.read(ctx.engine) as conn:
        return [_public(r) for r in storage.endpoints(conn)]


def rotate(ctx: WebhookContext, endpoint_id: str, *, actor: str) -> str:
    """A new secret for the endpoint (returned, shown this once); the old one stops at once."""
    get(ctx, endpoint_id)
    secret = _new_secret()
    sealed = _seal(ctx, endpoint_id, secret)
    with db.write(ctx.engine) as conn:
        if not storage.update_endpoint(
            conn, endpoint_id, secret=sealed, updated_at=ctx.clock.now()
        ):
            raise WebhookNotFound(f"no webhook endpoint {endpoint_id[:40]!r}")
        ctx.audit.append(
            conn, actor=actor, action="webhook.rotate", targets=[f"webhook:{endpoint_id}"]
        )
    return secret


def set_enabled(ctx: WebhookContext, endpoint_id: str, enabled: bool, *, actor: str) -> Endpoint:
    """Switch the endpoint on or off (off: no new deliveries are queued for it)."""
    current = get(ctx, endpoint_id)
    with db.write(ctx.engine) as conn:
        storage.update_endpoint(conn, endpoint_id, enabled=enabled, updated_at=ctx.clock.now())
        ctx.audit.append(
            conn,
            actor=actor,
            action="webhook.update",
            targets=[f"webhook:{endpoint_id}"],
            details={"enabled": enabled},
        )
    return replace(current, enabled=enabled)


def remove(ctx: WebhookContext, endpoint_id: str, *, actor: str) -> None:
    """Remove the endpoint: nothing more is queued or sent to it; its log stays."""
    get(ctx, endpoint_id)
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        if not storage.update_endpoint(
            conn, endpoint_id, removed_at=now, enabled=False, updated_at=now
        ):
            raise WebhookNotFound(f"no webhook endpoint {endpoint_id[:40]!r}")
        ctx.audit.append(
            conn, actor=actor, action="webhook.remove", targets=[f"webhook:{endpoint_id}"]
        )
