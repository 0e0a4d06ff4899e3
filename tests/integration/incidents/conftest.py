"""A runtime for the breach register's tests: the example policy with ``content`` marked
要配慮 (sensitive), a clock at 2026-05-01 12:00 in Tokyo, a lead (responsible, with an
e-mail) and a viewer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mamori.app import Runtime
from tests.helpers.clock import ManualClock
from tests.helpers.edits import write_edited
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, directory

NOON_JST = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)


def _sensitive_content(data: dict[str, Any]) -> None:
    for item in data["items"]:
        if item["id"] == "content":
            item["sensitive"] = True


@pytest.fixture
def clock() -> ManualClock:
    clock = ManualClock()
    clock.freeze(NOON_JST)
    return clock


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    policy = write_edited(tmp_path / "policy.yaml", _sensitive_content)
    runtime = open_test_runtime(tmp_path, database_url, clock=clock, policy=policy)
    yield runtime
    runtime.close()


@pytest.fixture
def lead(runtime: Runtime) -> str:
    """The id of a lead with an e-mail (reminders go there)."""
    return (
        directory(runtime)
        .create("lead", "職員 lead", "lead", PASSWORD, actor="test", email="lead@example.jp")
        .id
    )
