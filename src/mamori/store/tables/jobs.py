"""When each periodic job last started, cluster-wide (:mod:`mamori.tasks.storage`): the lease
that lets every server process schedule the jobs while each runs once per period."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from mamori.store.tables.base import UTCDateTime, metadata

__all__ = ["job_runs"]

job_runs = Table(
    "job_runs",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    # Which process took the period: host name and process id (no personal data).
    Column("holder", String(128), nullable=False),
)
"""The last start of each periodic job and the process that made it."""
