"""The time staff sessions and lockouts are measured against. Tests replace :func:`now`."""

from __future__ import annotations

import datetime as dt

__all__ = ["now"]


def now() -> dt.datetime:
    """The current time (UTC)."""
    return dt.datetime.now(dt.UTC)
