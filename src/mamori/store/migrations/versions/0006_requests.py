"""People's requests: intake, identity codes, workflow, decisions (issue 4).

Revision ID: 0006_requests
Revises: 0005_mail
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_requests"
down_revision: str | None = "0005_mail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "data_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("subject_id", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("verified_by", sa.String(length=16), nullable=True),
        sa.Column("agent", sa.String(length=24), nullable=True),
        sa.Column("delivery", sa.String(length=16), nullable=True),
        sa.Column("ground", sa.String(length=40), nullable=True),
        sa.Column("item_ids", sa.Text(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=True),
        sa.Column("substitute", sa.Boolean(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("contact_ref", sa.LargeBinary(length=32), nullable=True),
        sa.Column("proof", sa.LargeBinary(), nullable=True),
        sa.Column("proof_type", sa.String(length=100), nullable=True),
        sa.Column("handler", sa.String(length=64), nullable=True),
        sa.Column("session_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("session_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("download_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("downloads_left", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('received', 'verified', 'in_review', 'decided', 'notified', 'closed')",
            name=op.f("ck_data_requests_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_data_requests_subject_id_subjects"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_requests")),
    )
    op.create_index(
        op.f("ix_data_requests_subject_id"), "data_requests", ["subject_id"], unique=False
    )
    op.create_index(
        "ix_data_requests_status_due", "data_requests", ["status", "due_at"], unique=False
    )
    op.create_table(
        "request_codes",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["data_requests.id"],
            name=op.f("fk_request_codes_request_id_data_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_request_codes")),
    )
    op.create_table(
        "request_throttle",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_throttle")),
    )
    op.create_index("ix_request_throttle_key_at", "request_throttle", ["key", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_request_throttle_key_at", table_name="request_throttle")
    op.drop_table("request_throttle")
    op.drop_table("request_codes")
    op.drop_index("ix_data_requests_status_due", table_name="data_requests")
    op.drop_index(op.f("ix_data_requests_subject_id"), table_name="data_requests")
    op.drop_table("data_requests")
