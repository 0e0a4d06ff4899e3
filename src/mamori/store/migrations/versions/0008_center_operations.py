"""What a privacy-center link allows: the operations of the key that asked for it (issue 10).

A link and the session it opens carry the issuing key's operations; the center offers
withdrawal only to a session from a key that may ``delete``, and counts a request filed in the
session as verified only when the key could do what the request asks. Links and sessions made
before this revision live minutes at most and keep ``write``, the least a link ever needed.

Revision ID: 0008_center_operations
Revises: 0007_policy_changes
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_center_operations"
down_revision: str | None = "0007_policy_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("center_links", "center_sessions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "operations", sa.String(length=32), nullable=False, server_default="write"
                )
            )
