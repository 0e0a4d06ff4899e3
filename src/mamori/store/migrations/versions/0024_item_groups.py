"""Statistics groups as deterministic tokens beside the items (issue 16: a grouped count is a
GROUP BY in the database).

Revision ID: 0024_item_groups
Revises: 0023_job_runs
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_item_groups"
down_revision: str | None = "0023_job_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "item_groups",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=63), nullable=False),
        sa.Column("derive", sa.String(length=16), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_item_groups_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "item_id", "derive", name=op.f("pk_item_groups")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("item_groups")
