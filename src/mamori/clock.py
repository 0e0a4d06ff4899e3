"""The time mamori measures against: one :class:`Clock`, passed in, never a module global.

Every part that stamps or compares times (audit entries, sessions, codes, due dates, retries,
caches) takes the clock of the :class:`~mamori.app.Runtime` it belongs to. Production uses
:data:`SYSTEM`; tests pass a clock they move by hand (``tests.helpers.clock.ManualClock``).
"""

from __future__ import annotations

import datetime as dt
import time
from functools import lru_cache
from typing import Final, Protocol
from zoneinfo import ZoneInfo

__all__ = ["SYSTEM", "Clock", "SystemClock", "local_date", "local_text"]


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


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(now: dt.datetime, zone: str) -> dt.date:
    """The calendar day ``now`` (timezone-aware) falls on in the time zone ``zone``
    (MAMORI_TIME_ZONE): the operator's "today" for dates without a time (due dates, contract
    terms). ``2026-05-01T15:00Z`` is 2026-05-02 in Asia/Tokyo."""
    if now.tzinfo is None:
        raise ValueError("local_date() needs a timezone-aware time")
    return now.astimezone(_zone(zone)).date()


def local_text(value: dt.datetime, zone: str) -> str:
    """A stored (UTC) time as people read it: to the minute, in the time zone ``zone``, with
    the zone's abbreviation (``2026-12-02 19:54 JST``)."""
    if value.tzinfo is None:
        raise ValueError("local_text() needs a timezone-aware time")
    return value.astimezone(_zone(zone)).strftime("%Y-%m-%d %H:%M %Z")
