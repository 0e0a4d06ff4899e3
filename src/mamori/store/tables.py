"""The database tables, declared once (SQLAlchemy 2 ``Mapped[...]`` style).

The migrations in ``mamori/store/migrations`` create exactly these tables; a test compares the
two. Code reads and writes them through SQLAlchemy Core (``XRow.__table__``); repositories return
frozen dataclasses, never ORM objects.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AuditCheckpointRow",
    "AuditEntryRow",
    "AuditNodeRow",
    "Base",
    "PolicyVersionRow",
    "UTCDateTime",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite makes an ``INTEGER PRIMARY KEY`` column an alias of the row id (fast appends, ordered
# scans); ``BIGINT PRIMARY KEY`` would be a separate index.
Seq = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it as naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PolicyVersionRow(Base):
    """One published version of the policy declaration; versions count 1, 2, 3, ..."""

    __tablename__ = "policy_versions"
    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    policy_id: Mapped[str] = mapped_column(String(63))
    content_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of ``canonical_json``."""
    effective_date: Mapped[dt.date] = mapped_column(Date)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source_yaml: Mapped[str] = mapped_column(Text)
    canonical_json: Mapped[str] = mapped_column(Text)


class AuditEntryRow(Base):
    """One entry of the hash-chained audit log (see :mod:`mamori.audit`)."""

    __tablename__ = "audit_entries"
    __table_args__ = (CheckConstraint("seq >= 1", name="seq_positive"),)

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(32))
    """RFC 3339 UTC with microseconds (``2025-04-01T09:30:00.000000Z``), hashed as stored."""
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    targets: Mapped[str] = mapped_column(Text)
    """Canonical JSON array of IDs."""
    details: Mapped[str] = mapped_column(Text)
    """Canonical JSON object (sorted keys) of IDs, codes, integers, booleans and nulls."""
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpointRow(Base):
    """A Merkle tree head over the first ``tree_size`` audit entries."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (CheckConstraint("tree_size >= 1", name="tree_size_positive"),)

    tree_size: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    """``entry_hash`` of entry ``tree_size``: the chain head the tree covers."""
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    """Roots of the perfect subtrees of the tree, left to right (to extend it incrementally)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditNodeRow(Base):
    """A cached hash of a perfect Merkle subtree (``2**level`` entries from ``index * 2**level``).

    Only levels from :data:`mamori.audit.log.NODE_LEVEL` up are stored, written by checkpoints,
    so that an inclusion proof reads O(log n) rows. The cache is never trusted: a proof built
    from a wrong node does not verify against the checkpoint root.
    """

    __tablename__ = "audit_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
