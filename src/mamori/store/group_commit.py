"""Group commit: callers that each need one durable write share one transaction.

Callers queue their item, and the first caller that finds no commit in progress becomes the
leader: it writes every queued item (up to ``max_batch``) in one transaction, and wakes the others
(the way databases group their own commits). No caller returns before its item is durable, and a
failure to store the batch raises in every caller of that batch, so nothing is acknowledged
unwritten. There is no background thread: with one caller at a time each item is committed by its
own caller at once; with many, the cost of a commit is shared by everyone who queued meanwhile.
Used by the audit log's read entries and by the consent receipts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["GroupCommit", "Observer", "observe"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Waiter(Generic[T, R]):
    item: T
    done: bool = False
    result: R | None = None
    error: BaseException | None = field(default=None)


Observer = Callable[[str, int, float], None]
"""Told of every committed batch: ``(name, items, seconds the commit took)``."""

_observers: list[Observer] = []


def observe(observer: Observer) -> None:
    """Tell ``observer`` of every batch any group commit of this process commits (the metrics
    at ``/metrics``); once per batch, never per item, so it costs nothing a caller would see."""
    if observer not in _observers:
        _observers.append(observer)


class GroupCommit(Generic[T, R]):
    """Runs ``commit(batch)`` for batches of submitted items; one result per item, in order.

    ``name`` names the batches for the observers (:func:`observe`).
    """

    def __init__(
        self, commit: Callable[[list[T]], list[R]], *, max_batch: int = 1000, name: str = "group"
    ) -> None:
        self.name = name
        self._commit = commit
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._queue: list[_Waiter[T, R]] = []
        self._committing = False

    def submit(self, item: T) -> R:
        """Queue ``item``; return its result once the batch holding it is committed."""
        waiter: _Waiter[T, R] = _Waiter(item)
        with self._cond:
            self._queue.append(waiter)
        while True:
            with self._cond:
                while not waiter.done and self._committing:
                    self._cond.wait()
                if waiter.done:
                    if waiter.error is not None:
                        raise waiter.error
                    return waiter.result  # type: ignore[return-value]  # set with done
                # No commit in progress and ours is still queued: lead the next batch.
                self._committing = True
                batch = self._queue[: self._max_batch]
                self._queue = self._queue[self._max_batch :]
            self._run(batch)

    def _run(self, batch: list[_Waiter[T, R]]) -> None:
        started = time.perf_counter()
        try:
            results = self._commit([w.item for w in batch])
            for member, result in zip(batch, results, strict=True):
                member.result = result
        except BaseException as exc:  # every caller of the batch learns of it
            for member in batch:
                member.error = exc
        finally:
            with self._cond:
                for member in batch:
                    member.done = True
                self._committing = False
                self._cond.notify_all()
            if _observers:
                took = time.perf_counter() - started
                for observer in _observers:
                    observer(self.name, len(batch), took)
