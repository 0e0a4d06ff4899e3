"""The register of contractors (issue 11; APPI 25): contracts and supervision checks, and the
contractor a service key may be scoped to.

Revision ID: 0011_contractors
Revises: 0010_acquisitions
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_contractors"
down_revision: str | None = "0010_acquisitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contractor_contracts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contractor_contracts")),
    )
    op.create_index(
        "ix_contractor_contracts_recipient_id",
        "contractor_contracts",
        ["recipient_id", "starts_on"],
    )
    op.create_table(
        "contractor_checks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_by", sa.String(length=128), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "result IS NULL OR result IN ('passed', 'issues_found', 'failed')",
            name=op.f("ck_contractor_checks_result_known"),
        ),
        sa.CheckConstraint(
            "(done_on IS NULL AND result IS NULL) OR (done_on IS NOT NULL AND result IS NOT NULL)",
            name=op.f("ck_contractor_checks_done_with_result"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contractor_checks")),
    )
    op.create_index(
        "ix_contractor_checks_recipient_id", "contractor_checks", ["recipient_id", "due_on"]
    )
    with op.batch_alter_table("service_keys") as batch:
        batch.add_column(sa.Column("contractor_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_keys") as batch:
        batch.drop_column("contractor_id")
    op.drop_table("contractor_checks")
    op.drop_table("contractor_contracts")
