"""The periodic jobs mamori runs, registered by the modules that own them.

A job is a function of the :class:`~mamori.runtime.Runtime`, run every ``every_seconds`` (an
int, or a function of the settings for a job whose period is a setting). Jobs must be
idempotent and safe to run in several processes at once: every server process runs them on
the embedded default, and beat may fire a job again before the last run ended.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mamori.config import Settings
    from mamori.runtime import Runtime

__all__ = ["PeriodicJob", "get", "jobs", "register_periodic"]

_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: int | Callable[[Settings], int]
    fn: Callable[[Runtime], object]

    def period(self, settings: Settings) -> int:
        """Seconds between two runs under ``settings`` (at least 1)."""
        every = self.every_seconds
        return max(1, every(settings) if callable(every) else every)


_jobs: dict[str, PeriodicJob] = {}
_lock = threading.Lock()


def register_periodic(
    name: str, every_seconds: int | Callable[[Settings], int], fn: Callable[[Runtime], object]
) -> PeriodicJob:
    """Run ``fn(runtime)`` every ``every_seconds``; ``name`` is dotted (``mail.deliver``).

    Registering a name again replaces the job (a module reloaded in a test registers anew).
    """
    if not _NAME.fullmatch(name) or len(name) > 64:
        raise ValueError(f"a job name is dotted lower-case identifiers, not {name!r}")
    if isinstance(every_seconds, int) and every_seconds < 1:
        raise ValueError(f"job {name}: every_seconds must be at least 1")
    job = PeriodicJob(name, every_seconds, fn)
    with _lock:
        _jobs[name] = job
    return job


def unregister(name: str) -> None:
    """Forget the job ``name`` (tests)."""
    with _lock:
        _jobs.pop(name, None)


def jobs() -> list[PeriodicJob]:
    """Every registered job, by name."""
    with _lock:
        return [_jobs[name] for name in sorted(_jobs)]


def get(name: str) -> PeriodicJob | None:
    with _lock:
        return _jobs.get(name)
