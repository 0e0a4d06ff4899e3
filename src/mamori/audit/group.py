"""Group commit for audit entries that have no transaction of their own (reads, lookups).

A read changes nothing, so its audit entry is the only write it causes. Committing each one
alone costs a disk flush per read. Instead, callers queue their entry, and the first caller that
finds no commit in progress becomes the leader: it appends every queued entry in one transaction,
commits, and wakes the others (the way databases group their own commits). No caller returns
before its entry is durable, and a failure to store it raises in every caller of that batch, so
nothing is released unaudited.

There is no background thread: with one caller at a time each entry is committed by its own
caller at once; with many, the cost of a commit is shared by everyone who queued meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from mamori.audit.entry import AuditEntry, Details, NewEntry, prepare
from mamori.audit.log import AuditLog
from mamori.store import db

__all__ = ["GroupCommitter"]

MAX_BATCH = 1000


@dataclass
class _Waiter:
    entry: NewEntry
    done: bool = False
    result: AuditEntry | None = None
    error: BaseException | None = field(default=None)


class GroupCommitter:
    """Appends entries in shared transactions; :meth:`append` returns once its entry is durable."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self._cond = threading.Condition()
        self._queue: list[_Waiter] = []
        self._committing = False

    def append(
        self,
        *,
        actor: str,
        action: str,
        targets: Iterable[str] = (),
        details: Details | None = None,
    ) -> AuditEntry:
        targets = tuple(targets)
        details = dict(details or {})
        prepare(actor, action, targets, details)  # reject bad fields before queueing
        waiter = _Waiter(NewEntry(actor, action, targets, details))
        with self._cond:
            self._queue.append(waiter)
        while True:
            with self._cond:
                while not waiter.done and self._committing:
                    self._cond.wait()
                if waiter.done:
                    return self._outcome(waiter)
                # No commit in progress and ours is still queued: lead the next batch.
                self._committing = True
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            self._commit(batch)

    def _commit(self, batch: list[_Waiter]) -> None:
        try:
            with db.driver_write(self.audit.engine) as tx:
                stored = self.audit.append_many(tx, [w.entry for w in batch])
            for member, entry in zip(batch, stored, strict=True):
                member.result = entry
        except BaseException as exc:  # every caller of the batch learns of it
            for member in batch:
                member.error = exc
        finally:
            with self._cond:
                for member in batch:
                    member.done = True
                self._committing = False
                self._cond.notify_all()

    @staticmethod
    def _outcome(waiter: _Waiter) -> AuditEntry:
        if waiter.error is not None:
            raise waiter.error
        assert waiter.result is not None
        return waiter.result

    def close(self) -> None:
        """Nothing to release: there is no background thread."""
