"""The register of contractors (委託先, APPI 25): contracts with them and the supervision checks
of each (:mod:`mamori.contractors`). The policy declares who the contractors are and what they
may receive; these tables hold the operational facts. IDs, dates, codes and short evidence
references only: never personal data."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Date, Index, Integer, String, Table, Text

from mamori.store.tables.base import UTCDateTime, metadata

__all__ = ["NOTE_MAX", "contractor_checks", "contractor_contracts"]

NOTE_MAX = 500
"""The longest evidence note (a document reference, a ticket id), in characters."""

contractor_contracts = Table(
    "contractor_contracts",
    metadata,
    Column("id", String(40), primary_key=True),
    # A recipient of the policy whose relationship is ``contractor``.
    Column("recipient_id", String(64), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("starts_on", Date, nullable=False),
    # None: until ended (no fixed term).
    Column("ends_on", Date, nullable=True),
    # Canonical JSON list of the item ids entrusted (a subset of what the policy lets the
    # recipient receive when the contract was recorded).
    Column("items", Text, nullable=False),
    # Where the contract is kept (a document number, a file reference): not personal data.
    Column("note", String(NOTE_MAX), nullable=True),
    Column("policy_version", Integer, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Ended before its term (or a contract without a term ended): when and by whom.
    Column("ended_at", UTCDateTime, nullable=True),
    Column("ended_by", String(128), nullable=True),
    Index("ix_contractor_contracts_recipient_id", "recipient_id", "starts_on"),
)
"""A contract of entrustment with a contractor: its date, term and the items entrusted."""

contractor_checks = Table(
    "contractor_checks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("recipient_id", String(64), nullable=False),
    # The contract in force when the check was scheduled (None: none on file then).
    Column("contract_id", String(40), nullable=True),
    Column("due_on", Date, nullable=False),
    Column("done_on", Date, nullable=True),
    Column("result", String(16), nullable=True),
    # What the check was based on (an audit report's reference, a questionnaire's id).
    Column("note", String(NOTE_MAX), nullable=True),
    Column("actor", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("completed_by", String(128), nullable=True),
    Column("completed_at", UTCDateTime, nullable=True),
    CheckConstraint(
        "result IS NULL OR result IN ('passed', 'issues_found', 'failed')", name="result_known"
    ),
    CheckConstraint(
        "(done_on IS NULL AND result IS NULL) OR (done_on IS NOT NULL AND result IS NOT NULL)",
        name="done_with_result",
    ),
    Index("ix_contractor_checks_recipient_id", "recipient_id", "due_on"),
)
"""A supervision check of a contractor (APPI 25): when it is due, when it was done, its result."""
