"""The queue of one SQLite database's writers (:class:`WriterQueue`), used by
:func:`mamori.store.db.write`: SQLite lets one writer in at a time, and waiting in SQLite's own
busy handler wakes late; this queue hands the lock on within milliseconds.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from mamori.errors import DatabaseUnavailable

__all__ = ["BUSY_TIMEOUT_MS", "WriterQueue"]

BUSY_TIMEOUT_MS: Final = 30_000
"""How long a writer waits for another to finish (SQLite's busy timeout too)."""


class WriterQueue:
    """Queues one SQLite database's writers: threads on a lock, processes on an ``flock``.

    Re-entrant within a thread (a nested :func:`write` then meets SQLite's own lock, as before).
    Waiting across processes polls a non-blocking ``flock`` every 0.2-2 ms, so a writer starts at
    most a couple of milliseconds after the lock is released and gives up after
    :data:`BUSY_TIMEOUT_MS`, as SQLite's busy timeout would.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fds: list[int] = []  # the lock file's descriptor, once opened
        self._closer = weakref.finalize(self, _close_fds, self._fds)

    def close(self) -> None:
        """Close the lock file (the engine is being disposed of)."""
        self._closer()

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._thread_lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise DatabaseUnavailable(_locked_message(self.path))
        try:
            if self._depth == 0:
                self._lock_file()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._unlock_file()
        finally:
            self._thread_lock.release()

    def _lock_file(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: SQLite's busy handler alone
            return
        if not self._fds:
            try:
                self._fds.append(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError:
                return  # a read-only folder: SQLite's own lock still serialises writers
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = 0.0002
        while True:
            try:
                fcntl.flock(self._fds[0], fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DatabaseUnavailable(_locked_message(self.path)) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.002)

    def _unlock_file(self) -> None:
        if not self._fds:
            return
        import fcntl

        fcntl.flock(self._fds[0], fcntl.LOCK_UN)


def _close_fds(fds: list[int]) -> None:
    while fds:
        os.close(fds.pop())


def _locked_message(path: Path) -> str:
    return (
        f"the SQLite database beside {path} stayed locked by another writer for more than "
        f"{BUSY_TIMEOUT_MS // 1000} s; try again, or look for a stuck mamori process"
    )
