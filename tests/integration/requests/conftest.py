from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Runtime
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()
