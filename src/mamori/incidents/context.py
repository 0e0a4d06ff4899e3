"""What the register of breaches runs with: the application's runtime, named as a protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from mamori.staff import StaffDirectory

if TYPE_CHECKING:
    from mamori.audit.log import AuditLog
    from mamori.clock import Clock
    from mamori.config import Settings
    from mamori.mail.mailer import Mailer
    from mamori.store.db import Engine
    from mamori.vault.core import Vault

__all__ = ["IncidentContext", "directory"]


class IncidentContext(Protocol):
    """What the register needs (the application's runtime satisfies it)."""

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

    @property
    def mail(self) -> Mailer: ...


def directory(ctx: IncidentContext) -> StaffDirectory:
    return StaffDirectory(ctx.engine, ctx.audit, ctx.vault.system_keys, clock=ctx.clock)
