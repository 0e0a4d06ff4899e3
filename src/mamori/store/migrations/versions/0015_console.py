"""The console for daily work (issue 12, part 7): request numbers that can be read out on the
phone (``data_requests.number``, twelve digits with a check digit; existing requests get one
here), the member a request is assigned to, and staff's internal notes on a request (sealed).

Revision ID: 0015_console
Revises: 0014_roles
Create Date: 2026-12-03
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from stdnum import damm

revision: str = "0015_console"
down_revision: str | None = "0014_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _number(taken: set[str]) -> str:
    # The same form as mamori.requests.numbers.new_number (a migration keeps its own copy so
    # that later changes to the module do not change what this step did).
    while True:
        body = "".join(secrets.choice("0123456789") for _ in range(11))
        number = body + str(damm.calc_check_digit(body))
        if number not in taken:
            taken.add(number)
            return number


def upgrade() -> None:
    with op.batch_alter_table("data_requests") as batch:
        batch.add_column(sa.Column("number", sa.String(12), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(40), nullable=True))
    conn = op.get_bind()
    requests = sa.table("data_requests", sa.column("id", sa.String), sa.column("number"))
    taken: set[str] = set()
    ids = [row.id for row in conn.execute(sa.select(requests.c.id))]
    for request_id in ids:
        conn.execute(
            requests.update().where(requests.c.id == request_id).values(number=_number(taken))
        )
    op.create_index("ux_data_requests_number", "data_requests", ["number"], unique=True)
    op.create_index("ix_data_requests_assignee", "data_requests", ["assignee"])
    op.create_table(
        "request_notes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "request_id",
            sa.String(32),
            sa.ForeignKey("data_requests.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
    )
    op.create_index(
        "ix_request_notes_request_created", "request_notes", ["request_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_request_notes_request_created", table_name="request_notes")
    op.drop_table("request_notes")
    op.drop_index("ix_data_requests_assignee", table_name="data_requests")
    op.drop_index("ux_data_requests_number", table_name="data_requests")
    with op.batch_alter_table("data_requests") as batch:
        batch.drop_column("assignee")
        batch.drop_column("number")
