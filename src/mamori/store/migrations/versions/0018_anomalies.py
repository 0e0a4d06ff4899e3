"""Access anomalies and training records (issue 12, parts 5 and 6): alerts over the audit log,
the rules' counts per actor and window, the clients staff signed in from, the evaluation's
cursor; training courses and completions.

Revision ID: 0018_anomalies
Revises: 0017_totp
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_anomalies"
down_revision: str | None = "0017_totp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anomaly_alerts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("note", sa.LargeBinary(), nullable=True),
        sa.Column("dismissed_by", sa.String(length=128), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("incident_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'dismissed', 'incident')",
            name=op.f("ck_anomaly_alerts_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomaly_alerts")),
        sa.UniqueConstraint("key", name="uq_anomaly_alerts_key"),
    )
    op.create_index("ix_anomaly_alerts_status", "anomaly_alerts", ["status", "created_at"])
    op.create_table(
        "anomaly_counts",
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("rule", "actor", "window_start", name=op.f("pk_anomaly_counts")),
    )
    op.create_table(
        "anomaly_people",
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("actor", "window_start", "subject", name=op.f("pk_anomaly_people")),
    )
    op.create_table(
        "anomaly_clients",
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("actor", "client", name=op.f("pk_anomaly_clients")),
    )
    op.create_table(
        "anomaly_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_anomaly_cursor")),
    )
    op.create_table(
        "training_courses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("title_ja", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("every_months", sa.Integer(), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_courses")),
    )
    op.create_table(
        "training_completions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("course_id", sa.String(length=40), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_completions")),
    )
    op.create_index(
        "ix_training_completions_course_id", "training_completions", ["course_id", "staff_id"]
    )


def downgrade() -> None:
    op.drop_table("training_completions")
    op.drop_table("training_courses")
    op.drop_table("anomaly_cursor")
    op.drop_table("anomaly_clients")
    op.drop_table("anomaly_people")
    op.drop_table("anomaly_counts")
    op.drop_index("ix_anomaly_alerts_status", table_name="anomaly_alerts")
    op.drop_table("anomaly_alerts")
