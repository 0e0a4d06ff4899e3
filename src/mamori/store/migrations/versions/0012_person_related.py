"""Person-related information (issue 11; APPI 31): which person made the cookie choices of a
consent ID, and how a provision record's consent was confirmed.

Revision ID: 0012_person_related
Revises: 0011_contractors
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_person_related"
down_revision: str | None = "0011_contractors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_links",
        sa.Column("consent_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_consent_links_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("consent_id", "subject_id", name=op.f("pk_consent_links")),
    )
    op.create_index(op.f("ix_consent_links_subject_id"), "consent_links", ["subject_id"])
    with op.batch_alter_table("provision_records") as batch:
        batch.add_column(sa.Column("confirmation", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provision_records") as batch:
        batch.drop_column("confirmation")
    op.drop_table("consent_links")
