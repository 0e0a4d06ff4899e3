"""The vault's bulk read pages in primary-key order, without sorting everyone for each page.

SQLite drove the page query by the index on the subject type and sorted every person of the
type for each page of 500: 100,000 people took 63 s (quadratic). The query plan of a page
must read subjects by primary key and use no temporary B-tree for the ORDER BY.

PostgreSQL did the same for another reason: the expression that steers SQLite hid the type
column's statistics from its planner, which then expected a handful of rows and sorted every
remaining person for each page (100,000 people: 47 s). With its statistics it must walk the
primary key and stop at the page's end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.store import db, tables
from mamori.vault.storage import subjects
from tests.helpers.runtime import open_test_runtime


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def _page_plan(runtime: Runtime, explain: str) -> list[str]:
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
        return [str(row[-1]) for row in conn.execute(sa.text(f"{explain} {compiled}")).all()]


def test_a_bulk_page_reads_by_primary_key_without_a_sort(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan (PostgreSQL's is the next test)")
    plan = _page_plan(runtime, "EXPLAIN QUERY PLAN")
    assert not [step for step in plan if "TEMP B-TREE" in step], plan
    assert any(
        step.startswith("SEARCH subjects USING INDEX sqlite_autoindex_subjects_1") for step in plan
    ), plan


def test_a_bulk_page_on_postgresql_walks_the_primary_key(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan (SQLite's is the test above)")
    now = dt.datetime.now(dt.UTC)
    people = [f"{n:032x}" for n in range(20_000)]
    with db.write(runtime.engine) as conn:
        conn.execute(
            tables.subjects.insert(),
            [
                {
                    "id": subject_id,
                    "type": "customer",
                    "external_ref": None,
                    "status": "active",
                    "wrapped_key": b"k",
                    "master_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for subject_id in people
            ],
        )
        conn.execute(
            tables.subject_items.insert(),
            [
                {
                    "subject_id": subject_id,
                    "item_id": "email",
                    "ciphertext": b"c",
                    "source": "form",
                    "collected_at": now,
                    "updated_at": now,
                    "expires_at": None,
                }
                for subject_id in people
            ],
        )
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE subjects, subject_items")
    plan = "\n".join(_page_plan(runtime, "EXPLAIN"))
    assert "Index Scan using pk_subjects" in plan, plan
    assert "Sort Key: subjects.id" not in plan, plan
