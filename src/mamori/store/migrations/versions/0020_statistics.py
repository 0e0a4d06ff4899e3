"""Statistics and pseudonymised exports (issue 16): the query log per purpose, the sealed keys
of pseudonyms, and the record of every export.

Revision ID: 0020_statistics
Revises: 0019_webhooks
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_statistics"
down_revision: str | None = "0019_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statistics_queries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("purpose_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("shape", sa.Text(), nullable=False),
        sa.Column("population_key", sa.Text(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("people", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistics_queries")),
    )
    op.create_index(
        "ix_statistics_queries_purpose", "statistics_queries", ["purpose_id", "created_at"]
    )
    op.create_table(
        "pseudonym_keys",
        sa.Column("purpose_id", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_by", sa.String(length=128), nullable=True),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("purpose_id", "generation", name=op.f("pk_pseudonym_keys")),
    )
    op.create_table(
        "pseudonymised_exports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("purpose_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("key_generation", sa.Integer(), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pseudonymised_exports")),
    )
    op.create_index(
        "ix_pseudonymised_exports_purpose", "pseudonymised_exports", ["purpose_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_pseudonymised_exports_purpose", table_name="pseudonymised_exports")
    op.drop_table("pseudonymised_exports")
    op.drop_table("pseudonym_keys")
    op.drop_index("ix_statistics_queries_purpose", table_name="statistics_queries")
    op.drop_table("statistics_queries")
