"""Many callers released at once: the way to test that a limit holds under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["race"]

T = TypeVar("T")


def race(count: int, attempt: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``attempt(i)`` for i in 0..count-1 in ``count`` threads released together by a
    barrier; each result, or the exception it raised, in the order of ``i``."""
    barrier = threading.Barrier(count)

    def one(i: int) -> T | BaseException:
        barrier.wait(timeout=60)
        try:
            return attempt(i)
        except BaseException as exc:  # every outcome is data here
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))
