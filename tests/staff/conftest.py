"""A mamori runtime and its staff directory, on the backend under test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.runtime import Runtime
from mamori.staff import StaffDirectory, clock
from tests.admin_support import directory as make_directory
from tests.support import open_test_runtime

PASSWORD = "correct horse battery"


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


@pytest.fixture
def staff(runtime: Runtime) -> StaffDirectory:
    return make_directory(runtime)


class Clock:
    """The staff clock, moved by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(clock, "now", fake)
    return fake
