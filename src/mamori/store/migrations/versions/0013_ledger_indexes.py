"""The provision ledger's order (issue 11, part 9): indexes on (time, id) of the records of
provision and of data received, which the admin pages and the exports walk newest first.

Revision ID: 0013_ledger_indexes
Revises: 0012_person_related
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_ledger_indexes"
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


def downgrade() -> None:
    op.drop_index("ix_provision_acquisitions_received_at_id", table_name="provision_acquisitions")
    op.drop_index("ix_provision_records_provided_at_id", table_name="provision_records")
