"""Records of data received from other businesses (issue 11; APPI 30), and the contract flag
of provision records (a contract with the person stands in: kept one year, rules 21/25).

Revision ID: 0010_acquisitions
Revises: 0009_provisions
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_acquisitions"
down_revision: str | None = "0009_provisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provision_records") as batch:
        batch.add_column(
            sa.Column("contract", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "provision_acquisitions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("contract", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provision_acquisitions")),
    )
    for column in ("subject_id", "retain_until"):
        op.create_index(
            op.f(f"ix_provision_acquisitions_{column}"), "provision_acquisitions", [column]
        )


def downgrade() -> None:
    op.drop_table("provision_acquisitions")
    with op.batch_alter_table("provision_records") as batch:
        batch.drop_column("contract")
