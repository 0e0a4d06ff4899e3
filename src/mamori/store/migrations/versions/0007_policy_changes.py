"""Policy changes: per-person consent to a new use, notices (issue 5).

Revision ID: 0007_policy_changes
Revises: 0006_requests
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_policy_changes"
down_revision: str | None = "0006_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_changes",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("consent_uses", sa.Text(), nullable=False),
        sa.Column("consent_recipients", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notices_after", sa.String(length=40), nullable=False),
        sa.Column("notices_queued", sa.Integer(), nullable=False),
        sa.Column("notices_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "level IN ('cosmetic', 'notify', 'consent_required')",
            name=op.f("ck_policy_changes_level_known"),
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["policy_versions.version"],
            name=op.f("fk_policy_changes_version_policy_versions"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policy_changes")),
    )
    op.create_table(
        "policy_consents",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_policy_consents_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "version", name=op.f("pk_policy_consents")),
    )
    op.create_table(
        "change_notice_reads",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_change_notice_reads_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "version", name=op.f("pk_change_notice_reads")),
    )


def downgrade() -> None:
    op.drop_table("change_notice_reads")
    op.drop_table("policy_consents")
    op.drop_table("policy_changes")
