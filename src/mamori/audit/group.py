"""Group commit of audit entries that have no transaction of their own (reads, lookups).

A read changes nothing, so its audit entry is the only write it causes. Committing each one
alone costs a flush per read; :class:`~mamori.store.group_commit.GroupCommit` shares one
transaction between the reads that arrive while a commit is in progress. No read returns before
its entry is durable, and a failure to store it raises in every caller of that batch, so nothing
is released unaudited.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from mamori.audit.entry import AuditEntry, Details, Prepared, prepare
from mamori.audit.log import AuditLog, written_meanwhile
from mamori.store import db
from mamori.store.group_commit import GroupCommit

__all__ = ["GroupCommitter"]

MAX_BATCH = 1000


class GroupCommitter:
    """Appends entries in shared transactions; :meth:`append` returns once its entry is durable."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self._group: GroupCommit[Prepared, AuditEntry] = GroupCommit(
            self._commit, max_batch=MAX_BATCH, name="audit"
        )

    def append(
        self,
        *,
        actor: str,
        action: str,
        targets: Iterable[str] = (),
        details: Details | None = None,
    ) -> AuditEntry:
        # Bad fields are refused here, before queueing; the batch is not checked again.
        prepared = prepare(actor, action, tuple(targets), dict(details or {}))
        return self._group.submit(prepared)

    def _commit(self, entries: list[Prepared]) -> list[AuditEntry]:
        # PostgreSQL: two round trips for the batch, BEGIN with the lock and the head's read,
        # then the entries' INSERT with COMMIT (see mamori.store.db.driver_write).
        appended: list[AuditEntry] = []
        try:
            with db.driver_write(self.audit.engine, explicit=True) as tx:
                appended = self.audit.append_prepared(tx, entries)
        except sa.exc.IntegrityError as exc:  # raised by the commit of a pipeline
            raise written_meanwhile(appended[0].seq if appended else 0) from exc
        return appended

    def close(self) -> None:
        """Nothing to release: there is no background thread."""
