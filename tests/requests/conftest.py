from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.runtime import Runtime
from tests.support import open_test_runtime


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()
