"""The delivery log, as staff read it (console and CLI): IDs, codes and counts only."""

from __future__ import annotations

from mamori.store import db
from mamori.webhooks import storage
from mamori.webhooks.context import WebhookContext

__all__ = ["attempts", "deliveries"]


def deliveries(
    ctx: WebhookContext,
    *,
    status: str | None = None,
    endpoint_id: str | None = None,
    limit: int = 100,
) -> list[storage.DeliveryRow]:
    """The newest deliveries first."""
    with db.read(ctx.engine) as conn:
        return storage.deliveries(conn, status=status, endpoint_id=endpoint_id, limit=limit)


def attempts(ctx: WebhookContext, delivery_id: str) -> list[storage.AttemptRow]:
    with db.read(ctx.engine) as conn:
        return storage.attempts_of(conn, delivery_id)
