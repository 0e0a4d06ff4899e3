"""Service keys for the tests: a token of a new key with the operations and purposes asked."""

from __future__ import annotations

from collections.abc import Sequence

from mamori.app import Runtime
from mamori.vault import service_keys

__all__ = ["service_key"]


def service_key(
    runtime: Runtime, *operations: str, purposes: Sequence[str], name: str = "test"
) -> str:
    """The bearer token of a new key granted ``purposes`` and ``operations``."""
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name=name,
        purposes=list(purposes),
        operations=list(operations),
        actor="test",
    )
    return token
