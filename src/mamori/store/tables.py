"""The database tables, declared once (SQLAlchemy 2 ``Mapped[...]`` style).

The migrations in ``mamori/store/migrations`` create exactly these tables; a test compares the
two. Code reads and writes them through SQLAlchemy Core (``XRow.__table__``); repositories return
frozen dataclasses, never ORM objects.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
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
    "ChangeNoticeReadRow",
    "ConsentReceiptRow",
    "ConsentTextRow",
    "DataRequestRow",
    "MailOptoutRow",
    "MailOutboxRow",
    "PolicyChangeRow",
    "PolicyConsentRow",
    "PolicyVersionRow",
    "RequestCodeRow",
    "RequestThrottleRow",
    "RestrictionRow",
    "ServiceKeyRow",
    "StaffAccountRow",
    "StaffSessionRow",
    "StaffSignInFailureRow",
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


# -- staff accounts and the admin console (mamori.staff) ------------------------------------


class StaffAccountRow(Base):
    """A staff member of the operator who signs in to the admin console.

    The login ID and the display name are personal data of the staff member: they are stored
    encrypted (``staff-names`` system key), and the login is found by a keyed HMAC of it.
    """

    __tablename__ = "staff_accounts"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'handler', 'admin')", name="role_known"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """``st_`` and 10 base32 characters; names the account in audit entries (``staff:<id>``)."""
    login_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    login_ct: Mapped[bytes] = mapped_column(LargeBinary)
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    """The argon2id hash in PHC string form (parameters and salt included)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffSessionRow(Base):
    """A signed-in staff member (the cookie holds the token; this its SHA-256)."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    staff_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    """The absolute end (sign-in + MAMORI_ADMIN_SESSION_MAX_HOURS); idleness ends it sooner."""


class StaffSignInFailureRow(Base):
    """One failed sign-in, kept while it counts towards a lockout; no login or address in clear."""

    __tablename__ = "staff_sign_in_failures"

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    login_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    """Keyed HMAC of the login ID as typed (known or not: unknown ones lock the same way)."""
    client_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    """Keyed HMAC of the client address."""
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


# -- people's requests (mamori.requests) -----------------------------------------------------


class DataRequestRow(Base):
    """A person's request (disclosure, correction, stop, erasure, opt-out, inquiry).

    Personal details (contact address, message, proposed values, the staff's reason) are in
    ``sealed``, encrypted under the ``requests`` system key; the agent's proof in ``proof``.
    """

    __tablename__ = "data_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'verified', 'in_review', 'decided', 'notified', 'closed')",
            name="status_known",
        ),
        Index("ix_data_requests_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("subjects.id", ondelete="SET NULL"), nullable=True, index=True
    )
    language: Mapped[str] = mapped_column(String(2))
    verified_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    agent: Mapped[str | None] = mapped_column(String(24), nullable=True)
    delivery: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ground: Mapped[str | None] = mapped_column(String(40), nullable=True)
    item_ids: Mapped[str] = mapped_column(Text)
    """JSON array of item ids the request concerns."""
    fee: Mapped[int | None] = mapped_column(Integer, nullable=True)
    substitute: Mapped[bool] = mapped_column(Boolean, default=False)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    contact_ref: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    """Keyed HMAC of the normalised contact address (rate limits), never the address."""
    proof: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    proof_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    handler: Mapped[str | None] = mapped_column(String(64), nullable=True)
    session_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    session_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    download_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    downloads_left: Mapped[int] = mapped_column(Integer, default=0)


class RequestCodeRow(Base):
    """The one-time confirmation code of a request: only its keyed hash is stored."""

    __tablename__ = "request_codes"

    request_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class RequestThrottleRow(Base):
    """One confirmation code sent, by address and by client (keyed hashes), for rate limits."""

    __tablename__ = "request_throttle"
    __table_args__ = (Index("ix_request_throttle_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    key: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# -- outgoing mail (mamori.mail) ------------------------------------------------------------


class MailOutboxRow(Base):
    """One mail mamori sends: its recipient and content encrypted, its delivery state in clear.

    ``to_ciphertext`` and ``content_ciphertext`` are encrypted under the ``mail-outbox`` system
    key, bound to the mail's ID; ``to_hash`` is a keyed HMAC of the address (lookups, opt-outs).
    A ``skipped`` mail (marketing to an opted-out address) holds neither.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'sent', 'failed', 'outbox', 'skipped')", name="status_known"
        ),
        Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    template: Mapped[str] = mapped_column(String(63))
    language: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    marketing: Mapped[bool] = mapped_column(Boolean)
    to_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    to_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    content_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The type of the last delivery error (``SMTPRecipientsRefused``), never its text."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    """When a queued mail is next tried; a worker that claims it moves this forward (a lease)."""
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MailOptoutRow(Base):
    """An address that asked for no more marketing mail (seed §10(3), RFC 8058), as a keyed hash."""

    __tablename__ = "mail_optouts"

    address_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    subject_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    """The person the mail that carried the link was sent to, when it named one."""
    source: Mapped[str] = mapped_column(String(16))
    """``one-click`` (RFC 8058 POST), ``page`` (the preference page) or ``staff``."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# -- policy changes (mamori.changes) --------------------------------------------------------


class PolicyChangeRow(Base):
    """What a published version changed from the one before, and what the change requires."""

    __tablename__ = "policy_changes"
    __table_args__ = (
        CheckConstraint("level IN ('cosmetic', 'notify', 'consent_required')", name="level_known"),
    )

    version: Mapped[int] = mapped_column(
        Integer, ForeignKey("policy_versions.version"), primary_key=True, autoincrement=False
    )
    previous_version: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(20))
    changes: Mapped[str] = mapped_column(Text)
    """JSON array of the changes, each ``{kind, level, ja, en}``."""
    consent_uses: Mapped[str] = mapped_column(Text)
    """JSON array of ``[item, purpose]`` uses that wait for each person's consent."""
    consent_recipients: Mapped[str] = mapped_column(Text)
    """JSON array of recipients each person must consent to."""
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    notices_after: Mapped[str] = mapped_column(String(40), default="")
    """Change notices went to every subject id up to this one (keyset cursor)."""
    notices_queued: Mapped[int] = mapped_column(Integer, default=0)
    notices_done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PolicyConsentRow(Base):
    """A person's consent to a policy change that needed it (kept after withdrawal: IDs only)."""

    __tablename__ = "policy_consents"

    subject_id: Mapped[str] = mapped_column(String(40), _subject_fk(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    consented_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16))
    """``center`` (the person in the privacy center) or ``api`` (recorded by the host)."""


class ChangeNoticeReadRow(Base):
    """A person has read the privacy center's notice of a policy change."""

    __tablename__ = "change_notice_reads"

    subject_id: Mapped[str] = mapped_column(String(40), _subject_fk(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# -- cookie consent (mamori.consent) ---------------------------------------------------------


class ConsentReceiptRow(Base):
    """One cookie choice, hash-chained (see :mod:`mamori.consent.receipts`). IDs only."""

    __tablename__ = "consent_receipts"
    __table_args__ = (CheckConstraint("seq >= 1", name="seq_positive"),)

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=False)
    consent_id: Mapped[str] = mapped_column(String(32), index=True)
    """The random ID in the person's ``mamori_consent`` cookie."""
    subject_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    """The subject, when the choice was made signed in to the privacy center (no foreign key:
    receipts outlive everything and are never deleted)."""
    policy_version: Mapped[int] = mapped_column(Integer)
    section_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the version's cookie section."""
    language: Mapped[str] = mapped_column(String(8))
    text_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the exact banner text shown (``consent_texts``)."""
    gpc: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    categories: Mapped[str] = mapped_column(Text)
    """Canonical JSON object: category id -> true/false."""
    services: Mapped[str] = mapped_column(Text)
    """Canonical JSON object: service id -> true/false."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    receipt_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class ConsentTextRow(Base):
    """The exact text of a banner as shown (canonical JSON), by its SHA-256."""

    __tablename__ = "consent_texts"

    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy_version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    gpc: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
