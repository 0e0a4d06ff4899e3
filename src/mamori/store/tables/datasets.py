"""Erasures in the operator's connected databases (:mod:`mamori.datasets`): the plan of each
request, recorded before anything changes, and its steps with their checkpoints.

IDs, table names, keys of rows and counts only: never a value of a row. A step's keys are the
primary keys of the rows it acts on (the operator's ids, as JSON), so that a resumed erasure
acts on exactly the rows planned."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from mamori.store.tables.base import UTCDateTime, metadata

__all__ = ["dataset_erasure_steps", "dataset_erasures"]

dataset_erasures = Table(
    "dataset_erasures",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("subject_id", String(64), nullable=False),
    # planned -> running -> verified, or failed (with its reason) until resumed.
    Column("state", String(16), nullable=False),
    Column("steps", Integer, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("reason", Text, nullable=True),
    Column("planned_by", String(128), nullable=False),
    Column("planned_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
)

dataset_erasure_steps = Table(
    "dataset_erasure_steps",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("dataset", String(40), nullable=False),
    Column("table_name", String(64), nullable=False),
    # delete, or update (the columns and what each gets are in `columns`).
    Column("action", String(16), nullable=False),
    Column("columns", Text, nullable=False),
    Column("keys", Text, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
    Column("affected", Integer, nullable=True),
)
