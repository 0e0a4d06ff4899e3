"""The register of breaches (漏えい等, APPI 法26; :mod:`mamori.incidents`): incidents, the
people affected, the reports sent to the PPC and the corrective actions. Dates, counts, codes
and IDs in clear; every free text (the nine fields of the report draft, an action's text) is
sealed with the ``incidents`` system key, since it may describe people."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from mamori.store.tables.base import UTCDateTime, metadata

__all__ = ["incident_actions", "incident_people", "incident_reports", "incidents"]

TEXTS = ("summary", "cause", "harm", "response", "publication", "prevention", "other")
"""The sealed texts of an incident (column ``<name>_ct``), report fields 1 and 4-9 of 規則8."""

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("discovered_at", UTCDateTime, nullable=False),
    Column("aware_at", UTCDateTime, nullable=False),
    # The operator's calendar day of ``aware_at`` (MAMORI_TIME_ZONE): the deadlines count from it.
    Column("aware_on", Date, nullable=False),
    # Canonical JSON list of the policy's item ids involved.
    Column("items", Text, nullable=False),
    Column("people_estimated", Integer, nullable=False),
    Column("people_confirmed", Integer, nullable=True),
    Column("encrypted", Boolean, nullable=False),
    Column("key_leaked", Boolean, nullable=False),
    # Canonical JSON list of the trigger codes staff set (the count trigger is computed).
    Column("triggers", Text, nullable=False),
    # The staff member responsible (``st_...``), who is reminded of the deadlines.
    Column("responsible", String(32), nullable=True),
    *(Column(f"{name}_ct", LargeBinary, nullable=True) for name in TEXTS),
    Column("actor", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("preliminary_reminded_at", UTCDateTime, nullable=True),
    Column("final_reminded_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("closed_by", String(128), nullable=True),
    CheckConstraint("status IN ('open', 'reported', 'closed')", name="status_known"),
    CheckConstraint("people_estimated >= 0", name="estimate_not_negative"),
    CheckConstraint(
        "people_confirmed IS NULL OR people_confirmed >= 0", name="confirmed_not_negative"
    ),
    Index("ix_incidents_status", "status", "aware_on"),
)
"""A breach, actual or suspected: when it was found, what and whom it concerns, its texts."""

incident_people = Table(
    "incident_people",
    metadata,
    Column(
        "incident_id",
        String(40),
        ForeignKey("incidents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # No foreign key: the register outlives a person's withdrawal.
    Column("subject_id", String(40), primary_key=True),
    Column("added_at", UTCDateTime, nullable=False),
    Column("added_by", String(128), nullable=False),
    # The notice queued to the person (one at most), when it was.
    Column("notice_mail_id", String(40), nullable=True),
    Column("noticed_at", UTCDateTime, nullable=True),
)
"""A person affected by an incident (subject ids only)."""

incident_reports = Table(
    "incident_reports",
    metadata,
    Column(
        "incident_id",
        String(40),
        ForeignKey("incidents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(16), primary_key=True),
    Column("sent_on", Date, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint("kind IN ('preliminary', 'final')", name="kind_known"),
)
"""A report sent to the PPC: which (速報 or 確報), on which day, recorded by whom."""

incident_actions = Table(
    "incident_actions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column(
        "incident_id",
        String(40),
        ForeignKey("incidents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("text_ct", LargeBinary, nullable=False),
    Column("owner", String(32), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
    Column("done_by", String(128), nullable=True),
    Index("ix_incident_actions_incident_id", "incident_id", "due_on"),
)
"""A corrective action of an incident: what (sealed), who owns it, when it is due, when done."""
