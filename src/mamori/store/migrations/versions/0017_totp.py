"""The second factor of staff sign-in (issue 12): TOTP secrets, recovery codes, half-finished
sign-ins, and when a session last proved who its member is.

Sessions opened before this revision proved a password only: they are ended, so that everyone
signs in again, with a code or through enrolment.

Revision ID: 0017_totp
Revises: 0016_incidents
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_totp"
down_revision: str | None = "0016_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _staff_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["staff_id"],
        ["staff_accounts.id"],
        name=op.f(f"fk_{table}_staff_id_staff_accounts"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "staff_totp",
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("secret_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        _staff_fk("staff_totp"),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_totp")),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _staff_fk("staff_recovery_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
        sa.UniqueConstraint("staff_id", "code_hash", name=op.f("uq_staff_recovery_codes_staff_id")),
    )
    op.create_index(op.f("ix_staff_recovery_codes_staff_id"), "staff_recovery_codes", ["staff_id"])
    op.create_table(
        "staff_pending_sign_ins",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "stage IN ('code', 'enrol')", name=op.f("ck_staff_pending_sign_ins_stage_known")
        ),
        _staff_fk("staff_pending_sign_ins"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_pending_sign_ins")),
    )
    op.create_index(
        op.f("ix_staff_pending_sign_ins_expires_at"), "staff_pending_sign_ins", ["expires_at"]
    )
    op.create_index(
        op.f("ix_staff_pending_sign_ins_staff_id"), "staff_pending_sign_ins", ["staff_id"]
    )
    op.execute(sa.text("DELETE FROM staff_sessions"))
    with op.batch_alter_table("staff_sessions") as batch:
        batch.add_column(sa.Column("authenticated_at", sa.DateTime(timezone=True), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("staff_sessions") as batch:
        batch.drop_column("authenticated_at")
    op.drop_table("staff_pending_sign_ins")
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_totp")
