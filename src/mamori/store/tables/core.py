"""The tables of the published policy, the audit log, the vault, the privacy center's ways in
and staff accounts."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)

from mamori.store.tables.base import Seq, UTCDateTime, metadata, subject_fk

__all__ = [
    "audit_checkpoints",
    "audit_entries",
    "audit_nodes",
    "blind_indexes",
    "center_links",
    "center_sessions",
    "item_groups",
    "policy_versions",
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
    Column("subject_id", String(40), subject_fk(), primary_key=True),
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
    Column("subject_id", String(40), subject_fk(), primary_key=True),
    Index("ix_blind_indexes_subject", "subject_id"),
)
"""A truncated keyed HMAC of a normalised value: finds candidates without plaintext."""


item_groups = Table(
    "item_groups",
    metadata,
    Column("subject_id", String(40), subject_fk(), primary_key=True),
    Column("item_id", String(63), primary_key=True),
    Column("derive", String(16), primary_key=True),
    # AES-SIV of the group (a prefecture, not the address) under the statistics-groups key:
    # one group, one token (see mamori.vault.groups for what that reveals).
    Column("token", LargeBinary, nullable=False),
    # SQLite keeps the rows in primary-key order: a lookup by person reads the token with it.
    sqlite_with_rowid=False,
)
"""The statistics group of an item as a deterministic token, for counts grouped in the
database. A row, when there is one, is of the item's current value: every write of the item
rewrites or deletes it."""


usage_events = Table(
    "usage_events",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("subject_id", String(40), subject_fk(), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, index=True, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Index("ix_usage_events_subject_time", "subject_id", "occurred_at"),
)
"""A device or usage event (encrypted payload), kept until ``expires_at``."""


restrictions = Table(
    "restrictions",
    metadata,
    Column("subject_id", String(40), subject_fk(), primary_key=True),
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
    # A contractor's key (a recipient id of the policy): it reads only what the policy entrusts
    # to that contractor, and nothing while the entrustment is suspended.
    Column("contractor_id", String(64), nullable=True),
)
"""An API key of a service account: stored as a hash, scoped to purposes and operations."""


# -- the privacy center's ways in (mamori.center) ------------------------------------------


center_links = Table(
    "center_links",
    metadata,
    Column("nonce_hash", LargeBinary(32), primary_key=True),
    Column("subject_id", String(40), subject_fk(), nullable=False),
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
    Column("subject_id", String(40), subject_fk(), index=True, nullable=False),
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
    # The staff member's e-mail for reminders (encrypted like the name); None: none given.
    Column("email_ct", LargeBinary, nullable=True),
    Column("role", String(16), nullable=False),
    # The argon2id hash in PHC string form (parameters and salt included).
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("last_sign_in_at", UTCDateTime, nullable=True),
    Column("disabled_at", UTCDateTime, nullable=True),
    CheckConstraint(
        "role IN ('manager', 'lead', 'handler', 'auditor', 'viewer')", name="role_known"
    ),
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
    # When the member last proved who they are (password and code at sign-in, or the code
    # again before a sensitive action: MAMORI_ADMIN_REAUTH_MINUTES).
    Column("authenticated_at", UTCDateTime, nullable=False),
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
