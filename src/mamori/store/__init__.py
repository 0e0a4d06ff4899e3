"""Storage infrastructure: engines, transactions and migrations (:mod:`.db`), the tables
(:mod:`.tables`), group commit (:mod:`.group_commit`). No domain logic: each domain package
holds its own queries. This package re-exports only the engine functions."""

from __future__ import annotations

from mamori.store.db import check_connection, create_engine, migrate, read, write

__all__ = ["check_connection", "create_engine", "migrate", "read", "write"]
