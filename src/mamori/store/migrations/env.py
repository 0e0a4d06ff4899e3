"""Alembic environment: runs on the connection handed over by :func:`mamori.store.db.migrate`.

No ``alembic.ini`` is needed at run time. To write a new migration, copy the newest file in
``versions/``, give it the next number as ``revision`` and the previous one as ``down_revision``,
and check it with ``tests/store/test_migrations.py`` (which compares the result with
:mod:`mamori.store.tables`).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from mamori.store import tables

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("mamori's migrations run through mamori.store.db.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=tables.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
