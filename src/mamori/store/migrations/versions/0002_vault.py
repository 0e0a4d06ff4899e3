"""The personal-data vault: subjects, encrypted items, blind indexes, usage events,
usage stops, service keys, system keys and privacy-center links and sessions.

Revision ID: 0002_vault
Revises: 0001_initial
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_vault"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "service_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("purposes", sa.Text(), nullable=False),
        sa.Column("operations", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_keys")),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=63), nullable=False),
        sa.Column("external_ref", sa.LargeBinary(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("master_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'withdrawn')", name=op.f("ck_subjects_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
    )
    op.create_index(
        op.f("ix_subjects_master_version"), "subjects", ["master_version"], unique=False
    )
    op.create_index(
        "uq_subjects_type_external_ref", "subjects", ["type", "external_ref"], unique=True
    )
    op.create_table(
        "system_keys",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("master_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_system_keys")),
    )
    op.create_table(
        "blind_indexes",
        sa.Column("item_id", sa.String(length=63), nullable=False),
        sa.Column("digest", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_blind_indexes_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "digest", "subject_id", name=op.f("pk_blind_indexes")),
    )
    op.create_index("ix_blind_indexes_subject", "blind_indexes", ["subject_id"], unique=False)
    op.create_table(
        "center_links",
        sa.Column("nonce_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_center_links_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("nonce_hash", name=op.f("pk_center_links")),
    )
    op.create_index(
        op.f("ix_center_links_expires_at"), "center_links", ["expires_at"], unique=False
    )
    op.create_table(
        "center_sessions",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_center_sessions_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_center_sessions")),
    )
    op.create_index(
        op.f("ix_center_sessions_expires_at"), "center_sessions", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_center_sessions_subject_id"), "center_sessions", ["subject_id"], unique=False
    )
    op.create_table(
        "restrictions",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "scope IN ('item', 'purpose')", name=op.f("ck_restrictions_scope_known")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_restrictions_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "scope", "target", name=op.f("pk_restrictions")),
    )
    op.create_table(
        "subject_items",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=63), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_items_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "item_id", name=op.f("pk_subject_items")),
    )
    op.create_index(
        op.f("ix_subject_items_expires_at"), "subject_items", ["expires_at"], unique=False
    )
    op.create_table(
        "usage_events",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_usage_events_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
    )
    op.create_index(
        op.f("ix_usage_events_expires_at"), "usage_events", ["expires_at"], unique=False
    )
    op.create_index(
        "ix_usage_events_subject_time", "usage_events", ["subject_id", "occurred_at"], unique=False
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index("ix_usage_events_subject_time", table_name="usage_events")
    op.drop_index(op.f("ix_usage_events_expires_at"), table_name="usage_events")
    op.drop_table("usage_events")
    op.drop_index(op.f("ix_subject_items_expires_at"), table_name="subject_items")
    op.drop_table("subject_items")
    op.drop_table("restrictions")
    op.drop_index(op.f("ix_center_sessions_subject_id"), table_name="center_sessions")
    op.drop_index(op.f("ix_center_sessions_expires_at"), table_name="center_sessions")
    op.drop_table("center_sessions")
    op.drop_index(op.f("ix_center_links_expires_at"), table_name="center_links")
    op.drop_table("center_links")
    op.drop_index("ix_blind_indexes_subject", table_name="blind_indexes")
    op.drop_table("blind_indexes")
    op.drop_table("system_keys")
    op.drop_index("uq_subjects_type_external_ref", table_name="subjects")
    op.drop_index(op.f("ix_subjects_master_version"), table_name="subjects")
    op.drop_table("subjects")
    op.drop_table("service_keys")
    # ### end Alembic commands ###
