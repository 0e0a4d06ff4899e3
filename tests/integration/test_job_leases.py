"""Periodic jobs run once per period across every process that schedules them (issue 17).

Every ``mamori serve`` process runs a scheduler on the embedded default, and two Celery beats
may fire the same job: the period is claimed in the database first. Two runtimes on one
database stand for two processes (on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Job, Runtime
from mamori.app.parts import JobContext
from mamori.tasks import storage
from mamori.tasks.inprocess import InProcessRunner
from tests.helpers.runtime import open_test_runtime


@pytest.fixture
def two(tmp_path: Path, database_url: str) -> Iterator[tuple[Runtime, Runtime]]:
    first = open_test_runtime(tmp_path, database_url)
    second = open_test_runtime(tmp_path, database_url)
    yield first, second
    second.close()
    first.close()


def test_of_many_parallel_claims_of_a_period_one_wins(two: tuple[Runtime, Runtime]) -> None:
    now = dt.datetime.now(dt.UTC)
    start = threading.Barrier(8)
    won: list[str] = []

    def claim(runtime: Runtime, holder: str) -> None:
        start.wait()
        if storage.claim(runtime.engine, "test.lease", holder, now, 60):
            won.append(holder)

    threads = [threading.Thread(target=claim, args=(two[n % 2], f"p{n}")) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert storage.last_start(two[0].engine, "test.lease") == (now, won[0])


def test_the_next_period_is_claimed_again_and_a_little_early(two: tuple[Runtime, Runtime]) -> None:
    engine = two[0].engine
    now = dt.datetime.now(dt.UTC)
    assert storage.claim(engine, "test.lease", "a", now, 60)
    assert not storage.claim(engine, "test.lease", "b", now + dt.timedelta(seconds=53), 60)
    # Nine tenths of the period on, a scheduler whose clock runs a little ahead takes it.
    assert storage.claim(engine, "test.lease", "b", now + dt.timedelta(seconds=54), 60)
    assert storage.last_start(engine, "test.lease") == (now + dt.timedelta(seconds=54), "b")
    assert storage.last_start(engine, "test.never") is None


def test_two_schedulers_run_a_job_once_per_period(two: tuple[Runtime, Runtime]) -> None:
    ran: list[str] = []

    def job(runtime: JobContext) -> None:
        ran.append(runtime.settings.task_queue)

    runners = [InProcessRunner(r, jobs=[Job("test.hourly", 3600, job)]) for r in two]
    for runner in runners:
        runner.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            tried = sum(
                r.runs.get("test.hourly", 0) + r.skipped.get("test.hourly", 0) for r in runners
            )
            if tried == 2:
                break
            time.sleep(0.02)
    finally:
        for runner in runners:
            runner.stop()
    assert len(ran) == 1
    assert sorted(sum(r.runs.values()) for r in runners) == [0, 1]
    assert sorted(sum(r.skipped.values()) for r in runners) == [0, 1]
