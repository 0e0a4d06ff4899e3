"""The provision ledger (issue 11): indexes on (time, id) of the records of provision and of
data received, which the admin pages and the exports walk newest first; batch records of
provision (APPI rule 19(2)), whose people are listed in ``provision_record_people``.

Revision ID: 0013_ledger
Revises: 0012_person_related
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_ledger"
down_revision: str | None = "0012_person_related"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_provision_records_provided_at_id", "provision_records", ["provided_at", "id"]
    )
    op.create_index(
        "ix_provision_acquisitions_received_at_id",
        "provision_acquisitions",
        ["received_at", "id"],
    )
    with op.batch_alter_table("provision_records") as batch:
        batch.alter_column("subject_id", existing_type=sa.String(length=40), nullable=True)
        batch.add_column(
            sa.Column("people", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    op.create_table(
        "provision_record_people",
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("consent_id", sa.String(length=40), nullable=True),
        sa.Column("receipt", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["provision_records.id"],
            name=op.f("fk_provision_record_people_record_id_provision_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "subject_id", name=op.f("pk_provision_record_people")),
    )
    op.create_index(
        op.f("ix_provision_record_people_subject_id"), "provision_record_people", ["subject_id"]
    )


def downgrade() -> None:
    op.drop_table("provision_record_people")
    # Batch records have no single person: they go with the downgrade.
    op.execute("DELETE FROM provision_records WHERE subject_id IS NULL")
    with op.batch_alter_table("provision_records") as batch:
        batch.drop_column("people")
        batch.alter_column("subject_id", existing_type=sa.String(length=40), nullable=False)
    op.drop_index("ix_provision_acquisitions_received_at_id", table_name="provision_acquisitions")
    op.drop_index("ix_provision_records_provided_at_id", table_name="provision_records")
