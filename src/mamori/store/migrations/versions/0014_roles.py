"""Staff roles as the seed names them (issue 12): ``admin`` becomes ``manager``
(個人情報保護管理者), and ``lead`` (個人情報取扱責任者) and ``auditor`` join ``handler`` and
``viewer``.

Revision ID: 0014_roles
Revises: 0013_ledger
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_roles"
down_revision: str | None = "0013_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = "ck_staff_accounts_role_known"


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
    op.execute(sa.text("UPDATE staff_accounts SET role = 'manager' WHERE role = 'admin'"))
    with op.batch_alter_table("staff_accounts") as batch:
        batch.create_check_constraint(
            op.f(_CHECK), "role IN ('manager', 'lead', 'handler', 'auditor', 'viewer')"
        )


def downgrade() -> None:
    # A lead or an auditor has no earlier role that allows no more than theirs: viewer.
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
    op.execute(sa.text("UPDATE staff_accounts SET role = 'admin' WHERE role = 'manager'"))
    op.execute(
        sa.text("UPDATE staff_accounts SET role = 'viewer' WHERE role IN ('lead', 'auditor')")
    )
    with op.batch_alter_table("staff_accounts") as batch:
        batch.create_check_constraint(op.f(_CHECK), "role IN ('viewer', 'handler', 'admin')")
