"""The time mamori measures against: one :class:`Clock`, passed in, never a module global.

Every part that stamps or compares times (audit entries, sessions, codes, due dates, retries,
caches) takes the clock of the :class:`~mamori.app.Runtime` it belongs to. Production uses
:data:`SYSTEM`; tests pass a clock they move by hand (``tests.helpers.clock.ManualClock``).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Final, Protocol
from zoneinfo import ZoneInfo

__all__ = ["SYSTEM", "Clock", "SystemClock", "local_date"]


class Clock(Protocol):
    """Wall time (timezone-aware UTC) and a monotonic reading for intervals."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never go backwards (for timeouts, caches)."""
        ...


class SystemClock:
    """The machine's clock."""

    __slots__ = ()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM: Final[Clock] = SystemClock()
"""The clock of every runtime that is not given another."""


def local_date(at: dt.datetime, zone: str) -> dt.date:
    """The calendar day ``at`` falls on in ``zone`` (the operator's, ``Asia/Tokyo`` unless
    set): the day deadlines, revision dates and due dates are counted in."""
    return at.astimezone(ZoneInfo(zone)).date()
