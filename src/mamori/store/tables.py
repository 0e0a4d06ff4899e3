"""The database tables, declared once as SQLAlchemy Core ``Table`` objects on one ``MetaData``.

The migrations in ``mamori/store/migrations`` create exactly these tables; a test compares the
two. Only each domain's storage module (``mamori.<domain>.storage``) and the audit log read and
write them (an import-linter contract keeps it so); they return frozen dataclasses or rows,
never ORM objects. Tables are named for what they hold and grouped by the domain that owns them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
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
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "NAMING",
    "UTCDateTime",
    "audit_checkpoints",
    "audit_entries",
    "audit_nodes",
    "blind_indexes",
    "center_links",
    "center_sessions",
    "change_notice_reads",
    "consent_receipts",
    "consent_texts",
    "data_requests",
    "mail_optouts",
    "mail_outbox",
    "metadata",
    "policy_changes",
    "policy_consents",
    "policy_versions",
    "request_codes",
    "request_throttle",
    "restrictions",
    "service_keys",
    "staff_accounts",
    "staff_sessions",
    "staff_sign_in_failures",
    "subject_items",
    "subjects",
    "system_keys",
    "usage_events",
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


metadata = MetaData(naming_convention=NAMING)
"""Every table of mamori (what the migrations create and ``tests/store`` compares them with)."""


def _subject_fk() -> ForeignKey:
    return ForeignKey("subjects.id", ondelete="CASCADE")


# -- published policy versions and the audit log (mamori.publication, mamori.audit) ---------


policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("policy_id", String(63), nullable=False),
    # SHA-256 (hex) of ``canonical_json``.
    Column("content_hash", String(64), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("source_yaml", Text, nullable=False),
    Column("canonical_json", Text, nullable=False),
    CheckConstraint("version >= 1", name="version_positive"),
)
"""One published version of the policy declaration; versions count 1, 2, 3, ..."""


audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    # RFC 3339 UTC with microseconds (``2025-04-01T09:30:00.000000Z``), hashed as stored.
    Column("ts", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    # Canonical JSON array of IDs.
    Column("targets", Text, nullable=False),
    # Canonical JSON object (sorted keys) of IDs, codes, integers, booleans and nulls.
    Column("details", Text, nullable=False),
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("entry_hash", LargeBinary(32), nullable=False),
    CheckConstraint("seq >= 1", name="seq_positive"),
)
"""One entry of the hash-chained audit log (see :mod:`mamori.audit`)."""


audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("tree_size", Seq, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    # ``entry_hash`` of entry ``tree_size``: the chain head the tree covers.
    Column("head_hash", LargeBinary(32), nullable=False),
    # Roots of the perfect subtrees of the tree, left to right (to extend it incrementally).
    Column("frontier", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("tree_size >= 1", name="tree_size_positive"),
)
"""A Merkle tree head over the first ``tree_size`` audit entries."""


audit_nodes = Table(
    "audit_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)
"""A cached hash of a perfect Merkle subtree (``2**level`` entries from ``index * 2**level``).

Only levels from :data:`mamori.audit.log.NODE_LEVEL` up are stored, written by checkpoints,
so that an inclusion proof reads O(log n) rows. The cache is never trusted: a proof built
from a wrong node does not verify against the checkpoint root."""


# -- the personal-data vault (mamori.vault) -------------------------------------------------


system_keys = Table(
    "system_keys",
    metadata,
    Column("name", String(63), primary_key=True),
    # The key wrapped by master key ``master_version`` (the version is also in its header).
    Column("wrapped", LargeBinary, nullable=False),
    Column("master_version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
"""A random system key (blind-index root, link signing, ...) wrapped by the master key."""


subjects = Table(
    "subjects",
    metadata,
    Column("id", String(40), primary_key=True),
    # The data-subject id from the policy (``customer``, ``partner_contact``).
    Column("type", String(63), nullable=False),
    # Keyed HMAC of the host service's own user ID (never the ID itself).
    Column("external_ref", LargeBinary(32), nullable=True),
    Column("status", String(16), nullable=False),
    # The subject's data key wrapped by the master key; NULL once shredded (withdrawal).
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("master_version", Integer, nullable=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('active', 'withdrawn')", name="status_known"),
    Index("uq_subjects_type_external_ref", "type", "external_ref", unique=True),
)
"""A person whose data the vault holds. Holds no personal data in clear."""


subject_items = Table(
    "subject_items",
    metadata,
    Column("subject_id", String(40), _subject_fk(), primary_key=True),
    Column("item_id", String(63), primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("source", String(16), nullable=False),
    Column("collected_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When the policy's retention ends (documents, for example); purged after it.
    Column("expires_at", UTCDateTime, nullable=True, index=True),
)
"""One data item's value for one subject, encrypted under the subject's data key."""


blind_indexes = Table(
    "blind_indexes",
    metadata,
    Column("item_id", String(63), primary_key=True),
    Column("digest", BigInteger, primary_key=True, autoincrement=False),
    Column("subject_id", String(40), _subject_fk(), primary_key=True),
    Index("ix_blind_indexes_subject", "subject_id"),
)
"""A truncated keyed HMAC of a normalised value: finds candidates without plaintext."""


usage_events = Table(
    "usage_events",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("subject_id", String(40), _subject_fk(), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, index=True, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Index("ix_usage_events_subject_time", "subject_id", "occurred_at"),
)
"""A device or usage event (encrypted payload), kept until ``expires_at``."""


restrictions = Table(
    "restrictions",
    metadata,
    Column("subject_id", String(40), _subject_fk(), primary_key=True),
    Column("scope", String(8), primary_key=True),
    Column("target", String(63), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("scope IN ('item', 'purpose')", name="scope_known"),
)
"""A usage stop set by the person: an item, or a purpose, no longer used."""


service_keys = Table(
    "service_keys",
    metadata,
    # The public part of the key (``mk_...``), shown in lists and audit entries.
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", LargeBinary(32), nullable=False),
    # JSON array of purpose ids.
    Column("purposes", Text, nullable=False),
    # JSON array of ``read``, ``write``, ``delete``.
    Column("operations", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)
"""An API key of a service account: stored as a hash, scoped to purposes and operations."""


# -- the privacy center's ways in (mamori.center) ------------------------------------------


center_links = Table(
    "center_links",
    metadata,
    Column("nonce_hash", LargeBinary(32), primary_key=True),
    Column("subject_id", String(40), _subject_fk(), nullable=False),
    Column("expires_at", UTCDateTime, index=True, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    # The issuing key's operations, dot-separated (``read.write``): what the link allows.
    Column("operations", String(32), nullable=False, server_default="write"),
)
"""A single-use signed link into the privacy center, remembered until it expires."""


center_sessions = Table(
    "center_sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("subject_id", String(40), _subject_fk(), index=True, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, index=True, nullable=False),
    # The operations of the key that issued the link the session came from.
    Column("operations", String(32), nullable=False, server_default="write"),
)
"""A person's session in the privacy center (the cookie holds the token; this its hash)."""


# -- staff accounts and the admin console (mamori.staff) ------------------------------------


staff_accounts = Table(
    "staff_accounts",
    metadata,
    # ``st_`` and 10 base32 characters; names the account in audit entries (``staff:<id>``).
    Column("id", String(32), primary_key=True),
    Column("login_hash", LargeBinary(32), unique=True, nullable=False),
    Column("login_ct", LargeBinary, nullable=False),
    Column("name_ct", LargeBinary, nullable=False),
    Column("role", String(16), nullable=False),
    # The argon2id hash in PHC string form (parameters and salt included).
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("last_sign_in_at", UTCDateTime, nullable=True),
    Column("disabled_at", UTCDateTime, nullable=True),
    CheckConstraint("role IN ('viewer', 'handler', 'admin')", name="role_known"),
)
"""A staff member of the operator who signs in to the admin console.

The login ID and the display name are personal data of the staff member: they are stored
encrypted (``staff-names`` system key), and the login is found by a keyed HMAC of it."""


staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column(
        "staff_id",
        String(32),
        ForeignKey("staff_accounts.id", ondelete="CASCADE"),
        index=True,
        nullable=False,
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    # The absolute end (sign-in + MAMORI_ADMIN_SESSION_MAX_HOURS); idleness ends it sooner.
    Column("expires_at", UTCDateTime, index=True, nullable=False),
)
"""A signed-in staff member (the cookie holds the token; this its SHA-256)."""


staff_sign_in_failures = Table(
    "staff_sign_in_failures",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    # Keyed HMAC of the login ID as typed (known or not: unknown ones lock the same way).
    Column("login_hash", LargeBinary(32), index=True, nullable=False),
    # Keyed HMAC of the client address.
    Column("client_hash", LargeBinary(32), index=True, nullable=False),
    Column("at", UTCDateTime, index=True, nullable=False),
)
"""One failed sign-in, kept while it counts towards a lockout; no login or address in clear."""


# -- people's requests (mamori.requests) -----------------------------------------------------


data_requests = Table(
    "data_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("type", String(24), nullable=False),
    Column("status", String(16), nullable=False),
    Column("outcome", String(20), nullable=True),
    Column(
        "subject_id",
        String(40),
        ForeignKey("subjects.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    Column("language", String(2), nullable=False),
    Column("verified_by", String(16), nullable=True),
    Column("agent", String(24), nullable=True),
    Column("delivery", String(16), nullable=True),
    Column("ground", String(40), nullable=True),
    # JSON array of item ids the request concerns.
    Column("item_ids", Text, nullable=False),
    Column("fee", Integer, nullable=True),
    Column("substitute", Boolean, default=False, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    # Keyed HMAC of the normalised contact address (rate limits), never the address.
    Column("contact_ref", LargeBinary(32), nullable=True),
    Column("proof", LargeBinary, nullable=True),
    Column("proof_type", String(100), nullable=True),
    Column("handler", String(64), nullable=True),
    Column("session_hash", LargeBinary(32), nullable=True),
    Column("session_expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("notified_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("reminded_at", UTCDateTime, nullable=True),
    Column("download_until", UTCDateTime, nullable=True),
    Column("downloads_left", Integer, default=0, nullable=False),
    CheckConstraint(
        "status IN ('received', 'verified', 'in_review', 'decided', 'notified', 'closed')",
        name="status_known",
    ),
    Index("ix_data_requests_status_due", "status", "due_at"),
)
"""A person's request (disclosure, correction, stop, erasure, opt-out, inquiry).

Personal details (contact address, message, proposed values, the staff's reason) are in
``sealed``, encrypted under the ``requests`` system key; the agent's proof in ``proof``."""


request_codes = Table(
    "request_codes",
    metadata,
    Column(
        "request_id",
        String(32),
        ForeignKey("data_requests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("code_hash", LargeBinary(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, default=0, nullable=False),
)
"""The one-time confirmation code of a request: only its keyed hash is stored."""


request_throttle = Table(
    "request_throttle",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("key", LargeBinary(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_request_throttle_key_at", "key", "at"),
)
"""One confirmation code sent, by address and by client (keyed hashes), for rate limits."""


# -- outgoing mail (mamori.mail) ------------------------------------------------------------


mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("template", String(63), nullable=False),
    Column("language", String(8), nullable=False),
    Column("subject_id", String(40), nullable=True, index=True),
    Column("marketing", Boolean, nullable=False),
    Column("to_hash", LargeBinary(32), index=True, nullable=False),
    Column("to_ciphertext", LargeBinary, nullable=True),
    Column("content_ciphertext", LargeBinary, nullable=True),
    Column("status", String(8), nullable=False),
    Column("attempts", Integer, nullable=False),
    # The type of the last delivery error (``SMTPRecipientsRefused``), never its text.
    Column("last_error", String(64), nullable=True),
    Column("created_at", UTCDateTime, index=True, nullable=False),
    # When a queued mail is next tried; a worker that claims it moves this forward (a lease).
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    CheckConstraint(
        "status IN ('queued', 'sent', 'failed', 'outbox', 'skipped')", name="status_known"
    ),
    Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),
)
"""One mail mamori sends: its recipient and content encrypted, its delivery state in clear.

``to_ciphertext`` and ``content_ciphertext`` are encrypted under the ``mail-outbox`` system
key, bound to the mail's ID; ``to_hash`` is a keyed HMAC of the address (lookups, opt-outs).
A ``skipped`` mail (marketing to an opted-out address) holds neither."""


mail_optouts = Table(
    "mail_optouts",
    metadata,
    Column("address_hash", LargeBinary(32), primary_key=True),
    # The person the mail that carried the link was sent to, when it named one.
    Column("subject_id", String(40), nullable=True, index=True),
    # ``one-click`` (RFC 8058 POST), ``page`` (the preference page) or ``staff``.
    Column("source", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
"""An address that asked for no more marketing mail (seed §10(3), RFC 8058), as a keyed hash."""


# -- policy changes (mamori.publication, mamori.changes) ------------------------------------


policy_changes = Table(
    "policy_changes",
    metadata,
    Column(
        "version",
        Integer,
        ForeignKey("policy_versions.version"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("previous_version", Integer, nullable=False),
    Column("level", String(20), nullable=False),
    # JSON array of the changes, each ``{kind, level, ja, en}``.
    Column("changes", Text, nullable=False),
    # JSON array of ``[item, purpose]`` uses that wait for each person's consent.
    Column("consent_uses", Text, nullable=False),
    # JSON array of recipients each person must consent to.
    Column("consent_recipients", Text, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    # Change notices went to every subject id up to this one (keyset cursor).
    Column("notices_after", String(40), default="", nullable=False),
    Column("notices_queued", Integer, default=0, nullable=False),
    Column("notices_done_at", UTCDateTime, nullable=True),
    CheckConstraint("level IN ('cosmetic', 'notify', 'consent_required')", name="level_known"),
)
"""What a published version changed from the one before, and what the change requires."""


policy_consents = Table(
    "policy_consents",
    metadata,
    Column("subject_id", String(40), _subject_fk(), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("consented_at", UTCDateTime, nullable=False),
    # ``center`` (the person in the privacy center) or ``api`` (recorded by the host).
    Column("channel", String(16), nullable=False),
)
"""A person's consent to a policy change that needed it (kept after withdrawal: IDs only)."""


change_notice_reads = Table(
    "change_notice_reads",
    metadata,
    Column("subject_id", String(40), _subject_fk(), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("read_at", UTCDateTime, nullable=False),
)
"""A person has read the privacy center's notice of a policy change."""


# -- cookie consent (mamori.consent) ---------------------------------------------------------


consent_receipts = Table(
    "consent_receipts",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    # The random ID in the person's ``mamori_consent`` cookie.
    Column("consent_id", String(32), index=True, nullable=False),
    # The subject, when the choice was made signed in to the privacy center (no foreign key:
    # receipts outlive everything and are never deleted).
    Column("subject_id", String(40), nullable=True, index=True),
    Column("policy_version", Integer, nullable=False),
    # SHA-256 (hex) of the version's cookie section.
    Column("section_hash", String(64), nullable=False),
    Column("language", String(8), nullable=False),
    # SHA-256 (hex) of the exact banner text shown (``consent_texts``).
    Column("text_hash", String(64), nullable=False),
    Column("gpc", Boolean, nullable=False),
    Column("method", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    # Canonical JSON object: category id -> true/false.
    Column("categories", Text, nullable=False),
    # Canonical JSON object: service id -> true/false.
    Column("services", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("receipt_hash", LargeBinary(32), nullable=False),
    CheckConstraint("seq >= 1", name="seq_positive"),
)
"""One cookie choice, hash-chained (see :mod:`mamori.consent.receipts`). IDs only."""


consent_texts = Table(
    "consent_texts",
    metadata,
    Column("text_hash", String(64), primary_key=True),
    Column("policy_version", Integer, nullable=False),
    Column("language", String(8), nullable=False),
    Column("gpc", Boolean, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
"""The exact text of a banner as shown (canonical JSON), by its SHA-256."""
