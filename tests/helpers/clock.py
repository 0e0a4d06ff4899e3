"""A clock the tests move by hand, passed to the runtime like the system clock."""

from __future__ import annotations

import datetime as dt
import threading
import time

__all__ = ["ManualClock"]


class ManualClock:
    """The machine's time moved by hand: :meth:`advance` jumps ahead, :meth:`freeze` stops it.

    Unfrozen, it follows real time plus the offset it was advanced by (so code that waits on
    real time still sees time pass); frozen, it stays where it was put until moved again.
    Both wall time and the monotonic reading move together.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen: tuple[dt.datetime, float] | None = None

    def now(self) -> dt.datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen[0]
            return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        with self._lock:
            if self._frozen is not None:
                return self._frozen[1]
            return time.monotonic() + self._offset

    def advance(self, **delta: float) -> dt.datetime:
        """Move time forward by ``delta`` (``timedelta`` keywords); returns the new time."""
        step = dt.timedelta(**delta).total_seconds()
        with self._lock:
            self._offset += step
            if self._frozen is not None:
                at, mono = self._frozen
                self._frozen = (at + dt.timedelta(seconds=step), mono + step)
        return self.now()

    def freeze(self, at: dt.datetime | None = None) -> dt.datetime:
        """Stop time at ``at`` (default: now); returns it."""
        at = at or self.now()
        if at.tzinfo is None:
            raise ValueError("freeze() needs a timezone-aware time")
        with self._lock:
            self._frozen = (at.astimezone(dt.UTC), time.monotonic() + self._offset)
        return at

    def thaw(self) -> None:
        """Let time run again (real time plus the offset it was advanced by)."""
        with self._lock:
            self._frozen = None

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now().isoformat()})"
