"""Who is reading or writing, and what a read returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mamori.errors import ContractorKeyRefused, PermissionDenied
from mamori.policy.rules import Refusal
from mamori.vault import service_keys

__all__ = ["OPERATIONS", "Caller", "ReadResult"]

OPERATIONS = frozenset(service_keys.OPERATIONS)


@dataclass(frozen=True)
class Caller:
    """The party behind a vault call, as recorded in the audit log.

    ``purposes`` limits reads to those purposes (a service key's grant); None means the person
    themself or staff acting on their request, who are limited by the policy alone.
    ``contractor`` names the contractor (a recipient of the policy) whose key this is: it reads
    only what the policy entrusts to that contractor, and nothing while the register suspends
    the entrustment.
    """

    actor_id: str
    purposes: frozenset[str] | None = None
    operations: frozenset[str] = OPERATIONS
    contractor: str | None = None

    def require(self, operation: str) -> None:
        """Raise :class:`~mamori.errors.PermissionDenied` unless the caller may do ``operation``
        (the same message as :meth:`ServiceAccount.require` for a key). A contractor's key
        may only read."""
        if self.contractor is not None and operation != "read":
            raise ContractorKeyRefused(
                f"'{self.actor_id}' is the key of contractor '{self.contractor}': it may only"
                " read the vault, for what the policy entrusts to that contractor"
            )
        if operation not in self.operations:
            held = ", ".join(op for op in service_keys.OPERATIONS if op in self.operations)
            hint = (
                f"; create a key with --operation {operation} for this"
                if self.actor_id.startswith("key:")
                else ""
            )
            may = f"it may {held}" if held else "it may do nothing"
            raise PermissionDenied(f"'{self.actor_id}' may not {operation} ({may}){hint}")

    @classmethod
    def of_key(cls, account: service_keys.ServiceAccount) -> Caller:
        """The caller holding a service key: limited to the key's purposes and operations."""
        return cls(
            account.actor_id,
            frozenset(account.purposes),
            frozenset(account.operations),
            account.contractor_id,
        )

    @classmethod
    def system(cls, name: str) -> Caller:
        return cls(actor_id=f"system:{name}")

    @classmethod
    def person(cls, subject_id: str) -> Caller:
        return cls(actor_id=f"subject:{subject_id}")


@dataclass(frozen=True)
class ReadResult:
    """Released values, refused items with their reason, items allowed but not held, and the
    kind of each released value."""

    items: Mapping[str, Any]
    refused: Mapping[str, Refusal]
    missing: tuple[str, ...] = field(default=())
    kinds: Mapping[str, str] = field(default_factory=dict)
