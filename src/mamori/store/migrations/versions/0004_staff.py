"""Staff accounts and admin sessions (issue 4).

Revision ID: 0004_staff
Revises: 0003_consent
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_staff"
down_revision: str | None = "0003_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("login_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("login_ct", sa.LargeBinary(), nullable=False),
        sa.Column("name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('viewer', 'handler', 'admin')", name=op.f("ck_staff_accounts_role_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("login_hash", name=op.f("uq_staff_accounts_login_hash")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_staff_sessions_staff_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index(
        op.f("ix_staff_sessions_expires_at"), "staff_sessions", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_staff_sessions_staff_id"), "staff_sessions", ["staff_id"], unique=False
    )
    op.create_table(
        "staff_sign_in_failures",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("login_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("client_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sign_in_failures")),
    )
    op.create_index(
        op.f("ix_staff_sign_in_failures_at"), "staff_sign_in_failures", ["at"], unique=False
    )
    op.create_index(
        op.f("ix_staff_sign_in_failures_client_hash"),
        "staff_sign_in_failures",
        ["client_hash"],
        unique=False,
    )
    op.create_index(
        op.f("ix_staff_sign_in_failures_login_hash"),
        "staff_sign_in_failures",
        ["login_hash"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_sign_in_failures_login_hash"), table_name="staff_sign_in_failures")
    op.drop_index(
        op.f("ix_staff_sign_in_failures_client_hash"), table_name="staff_sign_in_failures"
    )
    op.drop_index(op.f("ix_staff_sign_in_failures_at"), table_name="staff_sign_in_failures")
    op.drop_table("staff_sign_in_failures")
    op.drop_index(op.f("ix_staff_sessions_staff_id"), table_name="staff_sessions")
    op.drop_index(op.f("ix_staff_sessions_expires_at"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_accounts")
