"""Storage: engines and migrations (:mod:`.db`), tables (:mod:`.tables`), repositories.

Repositories such as :mod:`mamori.store.policies` are imported from their own modules; this
package re-exports only the engine functions so that importing it stays cheap and acyclic.
"""

from __future__ import annotations

from mamori.store.db import check_connection, create_engine, migrate, read, write

__all__ = ["check_connection", "create_engine", "migrate", "read", "write"]
