"""What webhooks run with: the application's runtime, named as a protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mamori.audit.log import AuditLog
    from mamori.clock import Clock
    from mamori.config import Settings
    from mamori.store.db import Engine
    from mamori.vault.core import Vault

__all__ = ["WebhookContext"]


class WebhookContext(Protocol):
    """What the webhooks need (the application's runtime satisfies it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def vault(self) -> Vault: ...

    @property
    def clock(self) -> Clock: ...
