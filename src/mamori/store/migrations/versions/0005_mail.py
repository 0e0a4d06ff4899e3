"""Outgoing mail, its outbox and mail opt-outs (issue 4).

Revision ID: 0005_mail
Revises: 0004_staff
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_mail"
down_revision: str | None = "0004_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=63), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=True),
        sa.Column("marketing", sa.Boolean(), nullable=False),
        sa.Column("to_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("to_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("content_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed', 'outbox', 'skipped')",
            name=op.f("ck_mail_outbox_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index(
        "ix_mail_outbox_status_next", "mail_outbox", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(op.f("ix_mail_outbox_created_at"), "mail_outbox", ["created_at"], unique=False)
    op.create_index(op.f("ix_mail_outbox_subject_id"), "mail_outbox", ["subject_id"], unique=False)
    op.create_index(op.f("ix_mail_outbox_to_hash"), "mail_outbox", ["to_hash"], unique=False)
    op.create_table(
        "mail_optouts",
        sa.Column("address_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address_hash", name=op.f("pk_mail_optouts")),
    )
    op.create_index(
        op.f("ix_mail_optouts_subject_id"), "mail_optouts", ["subject_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_mail_optouts_subject_id"), table_name="mail_optouts")
    op.drop_table("mail_optouts")
    op.drop_index(op.f("ix_mail_outbox_to_hash"), table_name="mail_outbox")
    op.drop_index(op.f("ix_mail_outbox_subject_id"), table_name="mail_outbox")
    op.drop_index(op.f("ix_mail_outbox_created_at"), table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_status_next", table_name="mail_outbox")
    op.drop_table("mail_outbox")
