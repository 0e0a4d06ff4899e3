"""Cookie consent receipts (issue 5).

Revision ID: 0003_consent
Revises: 0002_vault
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_consent"
down_revision: str | None = "0002_vault"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "consent_receipts",
        sa.Column("seq", Seq, autoincrement=False, nullable=False),
        sa.Column("consent_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("section_hash", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("gpc", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("services", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("receipt_hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_consent_receipts_seq_positive")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_consent_receipts")),
    )
    op.create_index(
        op.f("ix_consent_receipts_consent_id"), "consent_receipts", ["consent_id"], unique=False
    )
    op.create_index(
        op.f("ix_consent_receipts_subject_id"), "consent_receipts", ["subject_id"], unique=False
    )
    op.create_table(
        "consent_texts",
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("gpc", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("text_hash", name=op.f("pk_consent_texts")),
    )


def downgrade() -> None:
    op.drop_table("consent_texts")
    op.drop_index(op.f("ix_consent_receipts_subject_id"), table_name="consent_receipts")
    op.drop_index(op.f("ix_consent_receipts_consent_id"), table_name="consent_receipts")
    op.drop_table("consent_receipts")
