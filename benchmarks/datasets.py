"""Connected-database benchmark: a person's rows found and erased in 10 tables of N rows each,
beside the same statements issued by hand in the same run.

On a scratch PostgreSQL database (the operator's), ``accounts`` holds N accounts (the e-mail
indexed) and 9 tables ``t1`` .. ``t9`` hold N rows each, each referring to an account by a
foreign key (indexed). Two people, A and B, each have one account and ``--matches`` rows in
each of the 9 tables. mamori's own database is a temporary SQLite file with the worked
example's policy and one dataset file declaring the 10 tables.

* traversal: :func:`mamori.datasets.traversal.walk` of A's rows, from the vault's e-mail
  (decrypted), through the foreign keys read by the inspector, every page consumed; beside
  the 10 SELECTs by hand (the account by e-mail, then each table by the account id) through
  the same driver.
* erasure: plan, record, run (checkpoints) and verify of A's erasure request; beside B's
  rows deleted by hand (9 DELETEs by account id, then the account, one transaction).
* memory: the peak of Python allocations (tracemalloc) of a traversal at N/10 and at N rows a
  table (separate runs); flat means it streams.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks.audit import machine
from mamori.app import Runtime, open_runtime
from mamori.config import Settings, example_policy_path
from mamori.datasets import erasure, sources, traversal
from mamori.requests import service
from mamori.requests.intake import check_intake
from mamori.requests.model import Verification
from mamori.store import db
from mamori.vault.access import Caller

__all__ = ["main"]

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOST = Caller(actor_id="service:bench")
CHILDREN = 9
A, B = 1, 2


@contextmanager
def _scratch(url: str) -> Iterator[str]:
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"mamori_bench_ds_{uuid.uuid4().hex[:10]}"
    with server.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def _seed(url: str, rows: int, matches: int) -> float:
    started = time.perf_counter()
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        run = conn.exec_driver_sql
        run("CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, name text)")
        run(
            "INSERT INTO accounts SELECT g, 'u' || g || '@example.jp', 'name ' || g "
            f"FROM generate_series(1, {rows}) g"
        )
        run("CREATE INDEX ON accounts (email)")
        for k in range(1, CHILDREN + 1):
            run(f"CREATE TABLE t{k} (id bigint PRIMARY KEY, account_id bigint, note text)")
            # A's and B's rows first, then the others spread over every account
            run(
                f"INSERT INTO t{k} SELECT g, CASE WHEN g <= {matches} THEN {A} "
                f"WHEN g <= {2 * matches} THEN {B} ELSE 3 + g %% {max(rows - 3, 1)} END, "
                f"'note ' || g FROM generate_series(1, {rows}) g"
            )
            run(f"CREATE INDEX ON t{k} (account_id)")
            # the foreign key after the rows: one validating scan instead of a check per row
            run(f"ALTER TABLE t{k} ADD FOREIGN KEY (account_id) REFERENCES accounts (id)")
        run("ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def _dataset(setting: str) -> str:
    lines = [
        "id: bench",
        f"connection: {setting}",
        "tables:",
        "  accounts:",
        "    identities: {email: email}",
        "    columns:",
        "      email: {item: email, erase: delete}",
        "      name: {item: name, erase: delete}",
    ]
    for k in range(1, CHILDREN + 1):
        lines += [f"  t{k}:", "    columns:", "      note: {item: content, erase: delete}"]
    return "\n".join(lines) + "\n"


def _runtime(tmp: Path) -> Runtime:
    folder = tmp / "policy"
    (folder / "datasets").mkdir(parents=True)
    policy = folder / "policy.yaml"
    policy.write_text(example_policy_path().read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "datasets" / "bench.yaml").write_text(_dataset("MAMORI_BENCH_DATASET_URL"))
    settings = Settings(
        data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'mamori.db'}", policy=policy
    )
    return open_runtime(settings, initialise=True)


def _traverse(runtime: Runtime, subject: str) -> tuple[float, int, float]:
    """Seconds of a whole traversal, rows found, and the seconds of it spent opening the
    database and reading its constraints (the inspector)."""
    started = time.perf_counter()
    loaded = sources.declared(runtime.settings)
    with db.read(runtime.engine) as conn:
        seeds = traversal.identities(runtime.vault, conn, subject, traversal.seed_items(loaded))
    found = 0
    inspecting = 0.0
    for item in loaded:
        opened = time.perf_counter()
        with sources.connected(item) as connected:
            inspecting += time.perf_counter() - opened
            for page in traversal.walk(connected, seeds):
                found += len(page.rows)
    return time.perf_counter() - started, found, inspecting


def _by_hand_select(url: str, email: str) -> tuple[float, int]:
    engine = sa.create_engine(url, poolclass=NullPool)
    started = time.perf_counter()
    found = 0
    with engine.connect() as conn:
        ids = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT id, email, name FROM accounts WHERE email = %(e)s", {"e": email}
            )
        ]
        found += len(ids)
        for k in range(1, CHILDREN + 1):
            found += len(
                conn.exec_driver_sql(
                    f"SELECT id, note, account_id FROM t{k} WHERE account_id = ANY(%(ids)s)",
                    {"ids": ids},
                ).all()
            )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, found


def _by_hand_delete(url: str, account: int) -> float:
    engine = sa.create_engine(url, poolclass=NullPool)
    started = time.perf_counter()
    with engine.begin() as conn:
        for k in range(1, CHILDREN + 1):
            conn.exec_driver_sql(f"DELETE FROM t{k} WHERE account_id = %(a)s", {"a": account})
        conn.exec_driver_sql("DELETE FROM accounts WHERE id = %(a)s", {"a": account})
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _erasure_request(runtime: Runtime, subject: str, email: str) -> str:
    intake = check_intake(
        runtime.vault.rules(),
        type="erasure",
        language="ja",
        email=email,
        items=["email", "name"],
        ground="no_longer_needed",
    )
    request = service.file_request(
        runtime,
        intake,
        actor=f"subject:{subject}",
        client="bench",
        base_url="http://mamori.bench",
        subject_id=subject,
        verified_by=Verification.session,
    )
    return request.id


def _memory(url: str, rows: int, matches: int) -> float:
    """Peak MiB of Python allocations of one traversal over a fresh database of ``rows``."""
    import os

    with _scratch(url) as target, tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        _seed(target, rows, matches)
        os.environ["MAMORI_BENCH_DATASET_URL"] = target
        runtime = _runtime(Path(tmp))
        try:
            subject = runtime.vault.create_subject(
                HOST, type="customer", items={"email": f"u{A}@example.jp", "name": "A"}
            )
            tracemalloc.start()
            _traverse(runtime, subject)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            runtime.close()
    return peak / 2**20


def main(server: str | None, rows: int, matches: int, memory: bool) -> None:
    import os

    console = Console()
    url = server or SERVER
    console.print(f"datasets benchmark on {machine()}", markup=False)
    with _scratch(url) as target, tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp:
        seeded = _seed(target, rows, matches)
        console.print(
            f"operator database: PostgreSQL, 10 tables of {rows:,} rows "
            f"(seeded in {seeded:.1f} s); the person has {matches} rows in each of 9 "
            "tables and their account",
            markup=False,
        )
        os.environ["MAMORI_BENCH_DATASET_URL"] = target
        runtime = _runtime(Path(tmp))
        try:
            people = {
                n: runtime.vault.create_subject(
                    HOST, type="customer", items={"email": f"u{n}@example.jp", "name": f"P{n}"}
                )
                for n in (A, B)
            }
            _traverse(runtime, people[A])  # warm: inspector, pool, caches
            _by_hand_select(target, f"u{A}@example.jp")
            walked, found, inspecting = _traverse(runtime, people[A])
            by_hand, hand_found = _by_hand_select(target, f"u{A}@example.jp")
            request = _erasure_request(runtime, people[A], f"u{A}@example.jp")
            started = time.perf_counter()
            plan = erasure.compute(runtime, request)
            erasure.record(runtime, plan, actor="staff:bench")
            done = erasure.run(runtime, request, actor="staff:bench")
            erased = time.perf_counter() - started
            hand_delete = _by_hand_delete(target, B)
        finally:
            runtime.close()
    table = Table(title=f"a person in 10 tables of {rows:,} rows")
    for column in ("what", "rows", "mamori", "by hand", "ratio"):
        table.add_column(column)
    table.add_row(
        "traversal (disclosure)",
        f"{found} / {hand_found}",
        f"{walked * 1000:.1f} ms",
        f"{by_hand * 1000:.1f} ms",
        f"{walked / by_hand:.1f}x",
    )
    table.add_row(
        "erasure (plan, record, run, verify)",
        f"{done.row_count} in {done.steps} steps",
        f"{erased * 1000:.1f} ms",
        f"{hand_delete * 1000:.1f} ms",
        f"{erased / hand_delete:.1f}x",
    )
    console.print(table)
    console.print(
        f"of the traversal, {inspecting * 1000:.1f} ms opened the database and read its "
        f"constraints; the queries and pages took {(walked - inspecting) * 1000:.1f} ms",
        markup=False,
    )
    if memory:
        small = _memory(url, max(rows // 10, 1000), matches)
        large = _memory(url, rows, matches)
        console.print(
            f"traversal peak Python memory: {small:.2f} MiB at {max(rows // 10, 1000):,} rows "
            f"a table, {large:.2f} MiB at {rows:,}",
            markup=False,
        )
