"""What the request workflow needs from the running application, as a protocol.

The request functions take a :class:`RequestContext` rather than the application's
:class:`~mamori.app.Runtime` (which satisfies it), so that this domain package never imports
the wiring above it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mamori.audit.log import AuditLog
    from mamori.clock import Clock
    from mamori.config import Settings
    from mamori.mail.mailer import Mailer
    from mamori.publication.current import PublishedPolicy
    from mamori.requests.effects import Correction, RequestErasure, RequestStop
    from mamori.requests.sections import Section
    from mamori.store.db import Engine
    from mamori.vault.core import Vault
    from mamori.vault.crypto import MasterKeySource

__all__ = ["RequestContext"]


class RequestContext(Protocol):
    """Settings, storage, audit log, keys, clock, vault, mail and the published policy."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def keys(self) -> MasterKeySource: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def vault(self) -> Vault: ...

    @property
    def mail(self) -> Mailer: ...

    @property
    def published(self) -> PublishedPolicy: ...

    @property
    def sections(self) -> tuple[Section, ...]:
        """The disclosure-package sections other domains contribute."""
        ...

    @property
    def corrections(self) -> tuple[Correction, ...]:
        """Where else a granted correction is written (the connected databases)."""
        ...

    @property
    def request_erasures(self) -> tuple[RequestErasure, ...]:
        """Where else a granted erasure (the person withdrawn) is carried out."""
        ...

    @property
    def request_stops(self) -> tuple[RequestStop, ...]:
        """Where else a granted usage or provision stop is recorded for the host to honour."""
        ...
