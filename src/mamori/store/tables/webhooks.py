"""Webhooks to the host service (:mod:`mamori.webhooks`): the endpoints registered per service,
the deliveries queued for them from the audit log, each attempt, and the dispatcher's cursor.

IDs, codes and counts only. An endpoint's secret is sealed (the ``webhooks`` system key, itself
wrapped by the master key); the new values a correction carries are sealed under the person's
own data key, so that their withdrawal shreds them with everything else."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mamori.store.tables.base import UTCDateTime, metadata

__all__ = ["webhook_attempts", "webhook_cursor", "webhook_deliveries", "webhook_endpoints"]

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("service", String(100), nullable=False),
    Column("url", Text, nullable=False),
    # JSON list of event types.
    Column("events", Text, nullable=False),
    Column("secret", LargeBinary, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime, nullable=True),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    # The webhook-id header: the same on every attempt and replay.
    Column("id", String(40), primary_key=True),
    Column("endpoint_id", String(40), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("subject_id", String(64), nullable=True),
    Column("request_id", String(64), nullable=True),
    # The event without personal values (JSON): type, timestamp, data of IDs and codes.
    Column("payload", Text, nullable=False),
    # A correction's new values, sealed under the person's data key (None: none carried).
    Column("values_sealed", LargeBinary, nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_at", UTCDateTime, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", String(120), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    CheckConstraint(
        "status IN ('pending', 'delivering', 'delivered', 'failed')", name="status_known"
    ),
    UniqueConstraint("endpoint_id", "seq", "event_type", name="uq_webhook_deliveries_event"),
    Index("ix_webhook_deliveries_due", "status", "next_at"),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("status", Integer, nullable=True),
    Column("error", String(120), nullable=True),
    Column("millis", Integer, nullable=False),
)

webhook_cursor = Table(
    "webhook_cursor",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)
