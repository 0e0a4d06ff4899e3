"""The register of breaches (issue 12; APPI 法26): incidents, the people affected, the reports
sent and the corrective actions; and an optional e-mail of a staff member (encrypted), where
the reminders of an incident's deadlines go.

Revision ID: 0016_incidents
Revises: 0015_console
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_incidents"
down_revision: str | None = "0015_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXTS = ("summary", "cause", "harm", "response", "publication", "prevention", "other")


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aware_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aware_on", sa.Date(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("people_estimated", sa.Integer(), nullable=False),
        sa.Column("people_confirmed", sa.Integer(), nullable=True),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("key_leaked", sa.Boolean(), nullable=False),
        sa.Column("triggers", sa.Text(), nullable=False),
        sa.Column("responsible", sa.String(length=32), nullable=True),
        *(sa.Column(f"{name}_ct", sa.LargeBinary(), nullable=True) for name in _TEXTS),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("preliminary_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'reported', 'closed')", name=op.f("ck_incidents_status_known")
        ),
        sa.CheckConstraint(
            "people_estimated >= 0", name=op.f("ck_incidents_estimate_not_negative")
        ),
        sa.CheckConstraint(
            "people_confirmed IS NULL OR people_confirmed >= 0",
            name=op.f("ck_incidents_confirmed_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("ix_incidents_status", "incidents", ["status", "aware_on"])
    op.create_table(
        "incident_people",
        sa.Column("incident_id", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("notice_mail_id", sa.String(length=40), nullable=True),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_people_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "subject_id", name=op.f("pk_incident_people")),
    )
    op.create_table(
        "incident_reports",
        sa.Column("incident_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('preliminary', 'final')", name=op.f("ck_incident_reports_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_reports_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "kind", name=op.f("pk_incident_reports")),
    )
    op.create_table(
        "incident_actions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("incident_id", sa.String(length=40), nullable=False),
        sa.Column("text_ct", sa.LargeBinary(), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_actions_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_actions")),
    )
    op.create_index(
        "ix_incident_actions_incident_id", "incident_actions", ["incident_id", "due_on"]
    )
    with op.batch_alter_table("staff_accounts") as batch:
        batch.add_column(sa.Column("email_ct", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_column("email_ct")
    op.drop_table("incident_actions")
    op.drop_table("incident_reports")
    op.drop_table("incident_people")
    op.drop_table("incidents")
