"""Access anomalies (:mod:`mamori.anomalies`): the alerts raised over the audit log, the counts
the rules keep per actor and window, the clients staff signed in from, and the evaluation's
cursor. IDs, codes, counts and entry numbers only; a dismissal's note is sealed."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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

__all__ = [
    "anomaly_alerts",
    "anomaly_clients",
    "anomaly_counts",
    "anomaly_cursor",
    "anomaly_people",
]

anomaly_alerts = Table(
    "anomaly_alerts",
    metadata,
    Column("id", String(40), primary_key=True),
    # rule:actor:window -- one alert per rule, actor and window, whichever process raises it.
    Column("key", String(200), nullable=False),
    Column("rule", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("window_end", UTCDateTime, nullable=False),
    Column("count", Integer, nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    # JSON list of entry numbers, at most mamori.anomalies.rules.EVIDENCE_MAX.
    Column("evidence", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("note", LargeBinary, nullable=True),
    Column("dismissed_by", String(128), nullable=True),
    Column("dismissed_at", UTCDateTime, nullable=True),
    Column("incident_id", String(40), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("key", name="uq_anomaly_alerts_key"),
    CheckConstraint("status IN ('open', 'dismissed', 'incident')", name="status_known"),
    Index("ix_anomaly_alerts_status", "status", "created_at"),
)
"""An alert: a rule an actor went beyond in a window, with its evidence."""

anomaly_counts = Table(
    "anomaly_counts",
    metadata,
    Column("rule", String(16), primary_key=True),
    Column("actor", String(128), primary_key=True),
    Column("window_start", UTCDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("evidence", Text, nullable=False),
)
"""What a rule counted of an actor in a window so far (kept for the baseline windows)."""

anomaly_people = Table(
    "anomaly_people",
    metadata,
    Column("actor", String(128), primary_key=True),
    Column("window_start", UTCDateTime, primary_key=True),
    Column("subject", String(128), primary_key=True),
)
"""The people (``subject:<id>``) each reader read in the current windows, so that the volume
rule counts each person once per window (purged once a window is over)."""

anomaly_clients = Table(
    "anomaly_clients",
    metadata,
    Column("actor", String(128), primary_key=True),
    Column("client", String(64), primary_key=True),
    Column("first_seq", BigInteger, nullable=False),
)
"""The client fingerprints each staff member signed in from."""

anomaly_cursor = Table(
    "anomaly_cursor",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)
"""The last audit entry evaluated (one row, ``name`` = ``audit``)."""
