"""A mamori runtime and its staff directory, on the backend under test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Runtime
from mamori.staff import StaffDirectory
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import directory as make_directory


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()


@pytest.fixture
def staff(runtime: Runtime) -> StaffDirectory:
    return make_directory(runtime)


@pytest.fixture
def frozen(clock: ManualClock) -> ManualClock:
    """The runtime's clock, stopped at 2026-04-01 09:00 UTC and moved by hand."""
    clock.freeze(dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC))
    return clock
