"""Statistics and pseudonymised exports (:mod:`mamori.statistics`): the query log per purpose
(the shape of each query and a signature of the people it counted, to refuse differencing),
the sealed keys of pseudonymised exports, and the record of every export.

IDs, codes, counts and hashes only: no value of anyone."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from mamori.store.tables.base import UTCDateTime, metadata

__all__ = ["pseudonym_keys", "pseudonymised_exports", "statistics_queries"]

statistics_queries = Table(
    "statistics_queries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("purpose_id", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    # JSON: measure, by, since, until (the query as asked).
    Column("shape", Text, nullable=False),
    # JSON: what decides the people counted (events or people, since, until).
    Column("population_key", Text, nullable=False),
    Column("population", Integer, nullable=False),
    # SHA-256 of the sorted ids of the people counted.
    Column("signature", LargeBinary, nullable=False),
    # The people counted, as sorted 8-byte tokens of their ids (the first 16 hex digits), for
    # the exact difference with a later query; NULL once the query is no longer compared.
    Column("people", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_statistics_queries_purpose", "purpose_id", "created_at"),
)
"""Each query answered, per purpose: a later one whose people differ by 1 to k-1 from those of
one of the newest compared is refused."""

pseudonym_keys = Table(
    "pseudonym_keys",
    metadata,
    Column("purpose_id", String(64), nullable=False),
    Column("generation", Integer, nullable=False),
    # The key itself is the vault's system key pseudonym-<hash of the purpose>-<generation>.
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("destroyed_by", String(128), nullable=True),
    Column("destroyed_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("purpose_id", "generation"),
)
"""The generations of a pseudonymised purpose's key: live until ``destroyed_at``."""

pseudonymised_exports = Table(
    "pseudonymised_exports",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("purpose_id", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("format", String(16), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("key_generation", Integer, nullable=False),
    # JSON: kept, pseudonymised, dropped (item -> reason).
    Column("columns", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_pseudonymised_exports_purpose", "purpose_id", "created_at"),
)
"""Every pseudonymised export made (仮名加工情報, APPI 41): what it holds, never its rows."""
