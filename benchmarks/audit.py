"""Audit log benchmark: append and verify rates beside a plain insert of the same rows.

``run(url, n, batch)`` works on a fresh temporary database on the server (or beside the file)
named by ``url`` and removes it afterwards: for SQLite a new file in a temporary folder, for
PostgreSQL a database created on that server and dropped at the end. It measures, in two
transaction shapes (one row per transaction, ``batch`` rows per transaction):

* plain: ``INSERT`` of ready-made rows with the same columns into a table without constraints
  beyond its primary key, through the same SQLAlchemy Core path;
* audit: :meth:`AuditLog.append` / :meth:`AuditLog.append_many` from the raw fields, so the
  figure includes checking, encoding, the writer lock, reading the chain head and hashing;

and then the rate of :meth:`AuditLog.verify` over everything appended (best of three).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine, make_url

from mamori.audit import AuditLog, NewEntry
from mamori.audit.entry import encode_fields, format_ts
from mamori.store import db

if TYPE_CHECKING:
    from mamori.app import Runtime

__all__ = ["AuditBenchResult", "main", "run"]

_metadata = sa.MetaData()
_plain = sa.Table(
    "bench_plain",
    _metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("ts", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("targets", sa.Text(), nullable=False),
    sa.Column("details", sa.Text(), nullable=False),
    sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("entry_hash", sa.LargeBinary(32), nullable=False),
)


@dataclass(frozen=True, slots=True)
class AuditBenchResult:
    """Rates in rows (entries) per second."""

    backend: str
    n: int
    batch: int
    plain_single: float
    audit_single: float
    plain_batch: float
    audit_batch: float
    verify: float
    verified_entries: int
    checkpoint_seconds: float

    @property
    def ratio_single(self) -> float:
        return self.audit_single / self.plain_single

    @property
    def ratio_batch(self) -> float:
        return self.audit_batch / self.plain_batch


def _entry(i: int) -> NewEntry:
    return NewEntry(
        actor=f"staff:{i % 50}",
        action="subject.field.read",
        targets=[f"subject:{i:08x}", "field:email"],
        details={"purpose": "support", "request": f"req-{i // 10}", "count": 1, "ok": True},
    )


def _plain_row(i: int, seq: int) -> dict[str, Any]:
    e = _entry(i)
    targets, details = encode_fields(tuple(e.targets), e.details)
    return {
        "seq": seq,
        "ts": format_ts(dt.datetime.now(dt.UTC)),
        "actor": e.actor,
        "action": e.action,
        "targets": targets,
        "details": details,
        "prev_hash": bytes(32),
        "entry_hash": bytes(32),
    }


def _rate(count: int, work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def _measure(engine: Engine, n: int, batch: int) -> tuple[float, float, float, float]:
    log = AuditLog(engine)
    insert = sa.insert(_plain)
    seq = iter(range(1, 10 * n + 10_000))

    def plain_single(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            with db.write(engine) as conn:
                conn.execute(insert, row)

    def audit_single(entries: list[NewEntry]) -> None:
        for e in entries:
            with db.write(engine) as conn:
                log.append(
                    conn, actor=e.actor, action=e.action, targets=e.targets, details=e.details
                )

    def plain_batch(rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), batch):
            with db.write(engine) as conn:
                conn.execute(insert, rows[start : start + batch])

    def audit_batch(entries: list[NewEntry]) -> None:
        for start in range(0, len(entries), batch):
            with db.write(engine) as conn:
                log.append_many(conn, entries[start : start + batch])

    def rows(count: int) -> list[dict[str, Any]]:
        return [_plain_row(i, next(seq)) for i in range(count)]

    entries = [_entry(i) for i in range(n)]
    warm = min(200, n)
    plain_single(rows(warm))  # connections, statement caches, table pages
    audit_single(entries[:warm])
    figures = []
    for plain, audit in ((plain_single, audit_single), (plain_batch, audit_batch)):
        ready = rows(n)
        figures.append(_rate(n, lambda ready=ready, plain=plain: plain(ready)))  # type: ignore[misc]
        figures.append(_rate(n, lambda audit=audit: audit(entries)))  # type: ignore[misc]
    return figures[0], figures[1], figures[2], figures[3]


@contextmanager
def _scratch_database(url: str | None) -> Iterator[tuple[str, str]]:
    """A fresh database for the benchmark (URL, description), removed afterwards."""
    if url is None or make_url(url).get_backend_name() == "sqlite":
        folder = None
        if url is not None:
            database = make_url(url).database
            if database and database != ":memory:":
                parent = Path(database).expanduser().resolve().parent
                folder = str(parent) if parent.is_dir() else None
        with tempfile.TemporaryDirectory(prefix="mamori-bench-", dir=folder) as tmp:
            path = Path(tmp) / "bench.db"
            yield (
                f"sqlite:///{path}",
                f"SQLite {sqlite3.sqlite_version}, a new file in {tmp}",
            )
        return
    server = db.create_engine(url)
    name = f"mamori_bench_{uuid.uuid4().hex[:12]}"
    try:
        db.check_connection(server)
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            target = server.url.set(database=name)
            where = f"{db.describe(target)} (PostgreSQL {version})"
            yield target.render_as_string(hide_password=False), where
        finally:
            with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        server.dispose()


def analyze(runtime: Runtime) -> None:
    """PostgreSQL's statistics of the seeded tables, as autovacuum gathers them within a minute
    of a bulk load (the planner picks its plans by them)."""
    if runtime.engine.dialect.name == "postgresql":
        autocommit = runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with autocommit as conn:
            conn.exec_driver_sql("ANALYZE")


@contextmanager
def scratch_runtime(
    url: str | None, policy: Callable[[Path], Path] | None = None
) -> Iterator[tuple[Runtime, str]]:
    """mamori on a fresh scratch database next to ``url`` (:func:`_scratch_database`), with a
    random master key given in the settings (never written) and no retention purge; ``policy``
    writes the policy file to use into the run's temporary folder. (runtime, description)."""
    import base64
    import secrets

    from mamori.app import open_runtime
    from mamori.config import Settings

    key = base64.b64encode(secrets.token_bytes(32)).decode()
    with (
        _scratch_database(url) as (scratch, where),
        tempfile.TemporaryDirectory(prefix="mamori-bench-") as tmp,
    ):
        extra: dict[str, Any] = {} if policy is None else {"policy": policy(Path(tmp))}
        settings = Settings(
            data_dir=Path(tmp) / "data",
            database_url=scratch,
            master_key=f"1:{key}",
            retention_purge_minutes=0,
            **extra,
        )
        runtime = open_runtime(settings, actor="bench")
        try:
            yield runtime, where
        finally:
            runtime.close()


def run(url: str | None, n: int, batch: int) -> AuditBenchResult:
    """Measure on a temporary database next to ``url`` (``None``: a temporary SQLite file)."""
    if n < 1 or batch < 1:
        raise ValueError("n and batch must be positive")
    with _scratch_database(url) as (scratch, where):
        engine = db.create_engine(scratch)
        try:
            db.migrate(engine)
            _metadata.create_all(engine)
            plain_single, audit_single, plain_batch, audit_batch = _measure(engine, n, batch)
            log = AuditLog(engine)
            started = time.perf_counter()
            log.checkpoint()
            checkpoint_seconds = time.perf_counter() - started
            best = 0.0
            entries = 0
            for _ in range(3):
                started = time.perf_counter()
                report = log.verify()
                elapsed = time.perf_counter() - started
                report.raise_for_mismatch()
                entries = report.entries
                best = max(best, entries / elapsed)
        finally:
            engine.dispose()
    return AuditBenchResult(
        backend=where,
        n=n,
        batch=batch,
        plain_single=plain_single,
        audit_single=audit_single,
        plain_batch=plain_batch,
        audit_batch=audit_batch,
        verify=best,
        verified_entries=entries,
        checkpoint_seconds=checkpoint_seconds,
    )


def machine() -> str:
    """A one-line description of this machine and Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLAlchemy {sa.__version__}"
    )


def render(result: AuditBenchResult) -> Table:
    """The side-by-side table printed by :func:`main`."""
    table = Table(
        title=f"mamori audit log: {result.n:,} entries per transaction shape",
        caption=f"{result.backend}\n{machine()}",
    )
    table.add_column("shape")
    table.add_column("plain insert/s", justify="right")
    table.add_column("audit append/s", justify="right")
    table.add_column("audit/plain", justify="right")
    for label, plain, audit, ratio in (
        ("1 per transaction", result.plain_single, result.audit_single, result.ratio_single),
        (
            f"{result.batch} per transaction",
            result.plain_batch,
            result.audit_batch,
            result.ratio_batch,
        ),
    ):
        table.add_row(label, f"{plain:,.0f}", f"{audit:,.0f}", f"{ratio:.2f}x")
    table.add_section()
    table.add_row(f"verify, {result.verified_entries:,} entries", "", f"{result.verify:,.0f}", "")
    table.add_row(
        "first checkpoint", "", f"{result.verified_entries / result.checkpoint_seconds:,.0f}", ""
    )
    return table


def main(
    url: str | None = None, n: int = 20_000, batch: int = 100, console: Console | None = None
) -> AuditBenchResult:
    """Run the benchmark and print the table (``./dev bench audit``)."""
    console = console or Console()
    with console.status("measuring..."):
        result = run(url, n, batch)
    console.print(render(result))
    return result


if __name__ == "__main__":  # pragma: no cover - python -m benchmarks.audit
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    arguments = parser.parse_args()
    main(arguments.database_url, arguments.n, arguments.batch)
