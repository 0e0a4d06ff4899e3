"""The tables of what people ask and are sent: requests, mail, policy-change consents, cookie
consent, third-party provision."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    false,
)

from mamori.store.tables.base import Seq, UTCDateTime, metadata, subject_fk

__all__ = [
    "change_notice_reads",
    "consent_links",
    "consent_receipts",
    "consent_texts",
    "data_requests",
    "mail_optouts",
    "mail_outbox",
    "policy_changes",
    "policy_consents",
    "provision_acquisitions",
    "provision_consents",
    "provision_record_people",
    "provision_records",
    "request_codes",
    "request_notes",
    "request_throttle",
]


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
    # The staff member the request is assigned to (``st_...``), if any.
    Column("assignee", String(40), nullable=True, index=True),
    # The number people read out on the phone (mamori.requests.numbers), twelve digits.
    Column("number", String(12), nullable=True),
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
    Index("ux_data_requests_number", "number", unique=True),
)
"""A person's request (disclosure, correction, stop, erasure, opt-out, inquiry).

Personal details (contact address, message, proposed values, the staff's reason) are in
``sealed``, encrypted under the ``requests`` system key; the agent's proof in ``proof``."""


request_notes = Table(
    "request_notes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column(
        "request_id",
        String(32),
        ForeignKey("data_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("author", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Index("ix_request_notes_request_created", "request_id", "created_at"),
)
"""Staff's internal notes on a request: the text sealed under the ``requests`` system key (it
may name the person), the author's staff id, when. Never shown to the person."""


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
    Column("subject_id", String(40), subject_fk(), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("consented_at", UTCDateTime, nullable=False),
    # ``center`` (the person in the privacy center) or ``api`` (recorded by the host).
    Column("channel", String(16), nullable=False),
)
"""A person's consent to a policy change that needed it (kept after withdrawal: IDs only)."""


change_notice_reads = Table(
    "change_notice_reads",
    metadata,
    Column("subject_id", String(40), subject_fk(), primary_key=True),
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


consent_links = Table(
    "consent_links",
    metadata,
    # The random ID of a browser's ``mamori_consent`` cookie, and the person the host says
    # made the choices under it (APPI 31: their cookie choice is confirmed before a send).
    Column("consent_id", String(32), primary_key=True),
    Column("subject_id", String(40), subject_fk(), primary_key=True, index=True),
    Column("linked_at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
)
"""Which person made the cookie choices of a consent ID (IDs only)."""


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


# -- third-party provision (mamori.provisions) --------------------------------------------------


provision_consents = Table(
    "provision_consents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("subject_id", String(40), subject_fk(), nullable=False),
    Column("recipient_id", String(64), nullable=False),
    Column("purpose_id", String(64), nullable=False),
    # The published version whose recipient the person agreed to (what they were shown).
    Column("policy_version", Integer, nullable=False),
    Column("consented_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    # ``center`` (the person in the privacy center) or ``api`` (recorded by the host).
    Column("channel", String(16), nullable=False),
    Index("ix_provision_consents_subject_recipient", "subject_id", "recipient_id", "purpose_id"),
)
"""A person's consent to a provision to one recipient for one purpose (IDs and dates only)."""


provision_records = Table(
    "provision_records",
    metadata,
    Column("id", String(40), primary_key=True),
    # One call of the gate: the records of a batch provision share it.
    Column("batch_id", String(40), nullable=False, index=True),
    Column("provided_at", UTCDateTime, nullable=False),
    Column("recipient_id", String(64), nullable=False, index=True),
    # Canonical JSON: the recipient as the policy declared it then (name, address,
    # representative, country, relationship), as APPI 29 and rule 20 ask the record to hold.
    Column("recipient", Text, nullable=False),
    # The person; None for a batch record (APPI rule 19(2): a provision made continuously to
    # one recipient may be recorded together), whose people are ``provision_record_people``.
    Column("subject_id", String(40), nullable=True, index=True),
    # Canonical JSON list of the item ids provided.
    Column("items", Text, nullable=False),
    Column("purpose_id", String(64), nullable=False),
    Column("basis", String(32), nullable=False),
    # The consent relied on (basis ``consent``), or the stated reason of an exception.
    Column("consent_id", String(40), nullable=True),
    Column("reason", Text, nullable=True),
    Column("policy_version", Integer, nullable=False),
    Column("actor", String(128), nullable=False),
    # A contract with the person stands in for the record (rule 19(3)): kept one year.
    Column("contract", Boolean, nullable=False, server_default=false()),
    Column("retain_until", UTCDateTime, nullable=False, index=True),
    # Canonical JSON: to a recipient that links person-related information (APPI 31), how
    # the person's consent was confirmed (the cookie choice's receipt, consent ID, services).
    Column("confirmation", Text, nullable=True),
    # How many people the record is about: 1, or a batch record's people.
    Column("people", Integer, nullable=False, server_default="1"),
    # The ledger's pages and exports walk the records newest first (keyset on both).
    Index("ix_provision_records_provided_at_id", "provided_at", "id"),
)
"""What was provided to whom, when, on what basis (APPI 29). Kept after withdrawal until
``retain_until``: the law asks for the record, not for the data."""


provision_record_people = Table(
    "provision_record_people",
    metadata,
    Column(
        "record_id",
        String(40),
        ForeignKey("provision_records.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("subject_id", String(40), primary_key=True, index=True),
    # Per person, what the record's basis relied on: their consent to the recipient, and for
    # person-related information the receipt of the cookie choice confirmed (APPI 31).
    Column("consent_id", String(40), nullable=True),
    Column("receipt", BigInteger, nullable=True),
)
"""The people of a batch record of provision (IDs only), deleted with it."""


provision_acquisitions = Table(
    "provision_acquisitions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("subject_id", String(40), nullable=False, index=True),
    Column("received_at", UTCDateTime, nullable=False),
    # Canonical JSON: the provider business's facts APPI 30(1) asks the recipient to confirm
    # (name ``{ja, en}``, address, representative, individual, keeps_records, how_obtained),
    # as the host gave them. Never the person's data: that is in the vault.
    Column("provider", Text, nullable=False),
    # Canonical JSON list of the item ids received.
    Column("items", Text, nullable=False),
    # A contract with the person stands in for the record (rule 23(3)): kept one year.
    Column("contract", Boolean, nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("retain_until", UTCDateTime, nullable=False, index=True),
    Index("ix_provision_acquisitions_received_at_id", "received_at", "id"),
)
"""Data about a person received from another business (APPI 30(3), rule 24). Kept after
withdrawal until ``retain_until``, like the provision records."""
