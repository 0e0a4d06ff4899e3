"""Fixtures of the integration tests (a database; web and CLI in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """The settings of a `mamori` command run against this test's database and data folder."""
    return {"MAMORI_DATA_DIR": str(tmp_path / "data"), "MAMORI_DATABASE_URL": database_url}
