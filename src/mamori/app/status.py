"""What a running mamori can say about itself: readiness, and the state behind ``/metrics``.

Both are computed when asked (a probe, a scrape), from a few cheap queries, never on the request
path. They hold counts and IDs-free figures only: no personal data, no key material.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mamori.anomalies import storage as anomalies_storage
from mamori.audit import queries as audit_queries
from mamori.errors import MamoriError
from mamori.mail import storage as mail_storage
from mamori.requests import desk
from mamori.store import db
from mamori.webhooks import storage as webhooks_storage

if TYPE_CHECKING:
    from mamori.app.runtime import Runtime

__all__ = ["Readiness", "State", "readiness", "state"]


@dataclass(frozen=True)
class Readiness:
    """Whether this process should be sent requests: each check ``ok`` or why not."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(v == "ok" for v in self.checks.values())


def readiness(runtime: Runtime) -> Readiness:
    """The database answers, its migrations are at the head this mamori ships, and the master
    key is loaded (its current version can be read)."""
    checks: dict[str, str] = {}
    try:
        db.check_connection(runtime.engine)
        checks["database"] = "ok"
    except (MamoriError, db.SQLAlchemyError):
        checks["database"] = "unreachable"
    if checks["database"] == "ok":
        try:
            at = db.current_revision(runtime.engine)
            checks["migrations"] = "ok" if at == db.head_revision() else "behind"
        except (MamoriError, db.SQLAlchemyError):
            checks["migrations"] = "unknown"
    else:
        checks["migrations"] = "unknown"
    try:
        runtime.keys.get(runtime.keys.current_version)
        checks["keys"] = "ok"
    except MamoriError:
        checks["keys"] = "missing"
    return Readiness(checks)


@dataclass(frozen=True)
class State:
    """Figures read at scrape time (see :func:`state`)."""

    audit_entries: int
    followers: dict[str, int] = field(default_factory=dict)
    """Audit entries each follower (alerts, webhooks) has not acted on yet."""
    outbox: dict[str, int] = field(default_factory=dict)
    """Mail by outbox status (queued, sent, failed, kept)."""
    webhooks_pending: int = 0
    requests_owed: int = 0
    requests_overdue: int = 0


def state(runtime: Runtime, now: dt.datetime | None = None) -> State:
    """The figures, in one read transaction."""
    now = now or runtime.clock.now()
    with db.read(runtime.engine) as conn:
        size = audit_queries.size(conn)
        followers = {
            "anomalies": max(0, size - anomalies_storage.cursor(conn)),
            "webhooks": max(0, size - webhooks_storage.cursor(conn)),
        }
        outbox = mail_storage.count_by_status(conn)
        pending = webhooks_storage.count_pending(conn)
        counts = desk.counts(conn, now=now, soon_days=0)
    return State(size, followers, outbox, pending, counts.open, counts.overdue)
