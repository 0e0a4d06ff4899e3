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
    ForeignKey,
    Index,
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
    "BlindIndexRow",
    "CenterLinkRow",
    "CenterSessionRow",
    "PolicyVersionRow",
    "RestrictionRow",
    "ServiceKeyRow",
    "SubjectItemRow",
    "SubjectRow",
    "SystemKeyRow",
    "UTCDateTime",
    "UsageEventRow",
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


# -- the personal-data vault (mamori.vault) -------------------------------------------------


def _subject_fk() -> ForeignKey:
    return ForeignKey("subjects.id", ondelete="CASCADE")


class SystemKeyRow(Base):
    """A random system key (blind-index root, link signing, ...) wrapped by the master key."""

    __tablename__ = "system_keys"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    """The key wrapped by master key ``master_version`` (the version is also in its header)."""
    master_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SubjectRow(Base):
    """A person whose data the vault holds. Holds no personal data in clear."""

    __tablename__ = "subjects"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'withdrawn')", name="status_known"),
        Index("uq_subjects_type_external_ref", "type", "external_ref", unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(63))
    """The data-subject id from the policy (``customer``, ``partner_contact``)."""
    external_ref: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    """Keyed HMAC of the host service's own user ID (never the ID itself)."""
    status: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The subject's data key wrapped by the master key; NULL once shredded (withdrawal)."""
    master_version: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SubjectItemRow(Base):
    """One data item's value for one subject, encrypted under the subject's data key."""

    __tablename__ = "subject_items"

    subject_id: Mapped[str] = mapped_column(String(40), _subject_fk(), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16))
    collected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    """When the policy's retention ends (documents, for example); purged after it."""


class BlindIndexRow(Base):
    """A truncated keyed HMAC of a normalised value: finds candidates without plaintext."""

    __tablename__ = "blind_indexes"
    __table_args__ = (Index("ix_blind_indexes_subject", "subject_id"),)

    item_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    digest: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subject_id: Mapped[str] = mapped_column(String(40), _subject_fk(), primary_key=True)


class UsageEventRow(Base):
    """A device or usage event (encrypted payload), kept until ``expires_at``."""

    __tablename__ = "usage_events"
    __table_args__ = (Index("ix_usage_events_subject_time", "subject_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(String(40), _subject_fk())
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class RestrictionRow(Base):
    """A usage stop set by the person: an item, or a purpose, no longer used."""

    __tablename__ = "restrictions"
    __table_args__ = (CheckConstraint("scope IN ('item', 'purpose')", name="scope_known"),)

    subject_id: Mapped[str] = mapped_column(String(40), _subject_fk(), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    target: Mapped[str] = mapped_column(String(63), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ServiceKeyRow(Base):
    """An API key of a service account: stored as a hash, scoped to purposes and operations."""

    __tablename__ = "service_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """The public part of the key (``mk_...``), shown in lists and audit entries."""
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    purposes: Mapped[str] = mapped_column(Text)
    """JSON array of purpose ids."""
    operations: Mapped[str] = mapped_column(Text)
    """JSON array of ``read``, ``write``, ``delete``."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CenterLinkRow(Base):
    """A single-use signed link into the privacy center, remembered until it expires."""

    __tablename__ = "center_links"

    nonce_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(40), _subject_fk())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CenterSessionRow(Base):
    """A person's session in the privacy center (the cookie holds the token; this its hash)."""

    __tablename__ = "center_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(40), _subject_fk(), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
