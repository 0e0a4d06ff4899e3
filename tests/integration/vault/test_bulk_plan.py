"""The vault's bulk read pages in primary-key order, without sorting everyone for each page.

SQLite drove the page query by the index on the subject type and sorted every person of the
type for each page of 500: 100,000 people took 63 s (quadratic). The query plan of a page
must read subjects by primary key and use no temporary B-tree for the ORDER BY.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.store import db
from mamori.vault.storage import subjects
from tests.helpers.runtime import open_test_runtime


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def test_a_bulk_page_reads_by_primary_key_without_a_sort(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("the plan checked is SQLite's (PostgreSQL plans by statistics)")
    captured: list[Any] = []
    with db.read(runtime.engine) as conn:
        execute = conn.execute

        def capture(statement: Any, *args: Any, **kwargs: Any) -> Any:
            captured.append(statement)
            return execute(statement, *args, **kwargs)

        conn.execute = capture  # type: ignore[method-assign]
        subjects.bulk_page(
            conn,
            item_id="email",
            purpose="promotion",
            types=["customer"],
            after="",
            limit=500,
            consent_gates=[],
            leave_out_opted_out=True,
        )
        conn.execute = execute  # type: ignore[method-assign]
        compiled = captured[0].compile(runtime.engine, compile_kwargs={"literal_binds": True})
        plan = [
            str(row[-1]) for row in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        ]
    assert not [step for step in plan if "TEMP B-TREE" in step], plan
    assert any(
        step.startswith("SEARCH subjects USING INDEX sqlite_autoindex_subjects_1") for step in plan
    ), plan
