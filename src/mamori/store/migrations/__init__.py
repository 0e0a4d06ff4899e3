"""Alembic migrations of mamori's database, applied with :func:`mamori.store.db.migrate`."""
