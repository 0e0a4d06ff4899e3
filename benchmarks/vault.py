"""Vault read benchmark: mamori's authorised read beside a plain primary-key read.

On a fresh temporary database (see :func:`benchmarks.audit._scratch_database`), with the
worked example's policy published and ``people`` subjects stored, it measures with ``threads``
concurrent callers in this process:

* plain: a read-only transaction selecting one unencrypted row (e-mail, name, phone) by its
  indexed primary key, through the same driver and SQLAlchemy Core (the ratio's baseline: how
  an application would read its own table);
* plain, driver alone: the same row by the driver's own cursor on a pooled connection, the
  way mamori's hot path reads (printed beside it, for a second ratio);
* mamori: :meth:`Vault.read_by` of three items by e-mail address: blind-index lookup, policy and
  usage-stop check, data-key unwrap, decryption, false candidates dropped, and the audit entry
  durable (committed) before the values are returned.

It prints reads per second of each, the ratio, and p50/p99 latency.
"""

from __future__ import annotations

import base64
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from benchmarks.audit import _scratch_database, machine
from mamori.audit.log import AuditLog
from mamori.config import example_policy_path
from mamori.keyring import parse_keys
from mamori.policy.loader import read_policy
from mamori.publication import versions
from mamori.publication.current import PublishedPolicy
from mamori.store import db
from mamori.vault.access import Caller
from mamori.vault.blind_index import index_bits
from mamori.vault.core import Limits, Vault

__all__ = ["VaultBenchResult", "main", "run"]

_metadata = sa.MetaData()
_plain = sa.Table(
    "bench_people",
    _metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("email", sa.String(200), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(40), nullable=False),
)
_BY_ID = sa.select(_plain.c.email, _plain.c.name, _plain.c.phone).where(
    _plain.c.id == sa.bindparam("id")
)
_BY_ID_SQL = "SELECT email, name, phone FROM bench_people WHERE id = {p}"
ITEMS = ("email", "name", "phone")
PURPOSE = "service_operation"


@dataclass(frozen=True)
class Figures:
    rate: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class VaultBenchResult:
    backend: str
    people: int
    reads: int
    threads: int
    plain: Figures
    mamori: Figures
    driver: Figures

    @property
    def ratio(self) -> float:
        return self.mamori.rate / self.plain.rate

    @property
    def driver_ratio(self) -> float:
        return self.mamori.rate / self.driver.rate


def _email(n: int) -> str:
    return f"person{n}@bench.example.jp"


def person(n: int) -> dict[str, str]:
    """The generated items of benchmark person ``n`` (no real personal data)."""
    return {
        "email": _email(n),
        "name": f"利用者 {n}",
        "phone": f"090{1000_0000 + n % 9000_0000:08d}",
    }


def _drive(threads: int, reads: int, people: int, op: Callable[[int], None]) -> Figures:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(reads))

    def worker() -> None:
        mine: list[float] = []
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            started = time.perf_counter()
            op((n * 7919) % people)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Figures(
        rate=reads / elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    )


def run(url: str | None, *, people: int, reads: int, threads: int) -> VaultBenchResult:
    if people < 1 or reads < 1 or threads < 1:
        raise ValueError("people, reads and threads must be positive")
    keys = parse_keys(f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}", "bench")
    with _scratch_database(url) as (scratch, where):
        engine = db.create_engine(scratch, pool_size=threads + 2)  # a connection per caller
        vault: Vault | None = None
        try:
            db.migrate(engine)
            _metadata.create_all(engine)
            loaded = read_policy(example_policy_path())
            versions.publish_loaded(engine, loaded, actor="bench")
            audit = AuditLog(engine)
            published = PublishedPolicy(engine, ttl=60.0)
            vault = Vault(
                engine,
                audit,
                keys,
                published.rules,
                Limits(blind_index_bits=index_bits(max(people, 2))),
            )
            host = Caller(actor_id="key:bench", purposes=frozenset({PURPOSE}))
            ids: list[str] = []
            rows = []
            for n in range(people):
                values = person(n)
                ids.append(vault.create_subject(host, type="customer", items=values))
                rows.append({"id": ids[-1], **values})
            with db.write(engine) as conn:
                conn.execute(_plain.insert(), rows)

            def plain(n: int) -> None:
                with db.read(engine) as conn:
                    conn.execute(_BY_ID, {"id": ids[n]}).one()

            def driver(n: int) -> None:
                if len(db.query(engine, _BY_ID_SQL, (ids[n],))) != 1:
                    raise AssertionError("the benchmark row is missing")

            target = vault

            def authorised(n: int) -> None:
                found = target.read_by(host, "email", _email(n), PURPOSE, ITEMS)
                if len(found) != 1 or len(next(iter(found.values())).items) != 3:
                    raise AssertionError("the benchmark read did not release three items")

            _drive(threads, min(reads, 2000), people, plain)  # warm up every path
            _drive(threads, min(reads, 2000), people, driver)
            _drive(threads, min(reads, 2000), people, authorised)
            plain_figures = _drive(threads, reads, people, plain)
            driver_figures = _drive(threads, reads, people, driver)
            mamori_figures = _drive(threads, reads, people, authorised)
            report = audit.verify()
            report.raise_for_mismatch()
        finally:
            if vault is not None:
                vault.close()
            engine.dispose()
    return VaultBenchResult(
        where, people, reads, threads, plain_figures, mamori_figures, driver_figures
    )


def render(result: VaultBenchResult) -> Table:
    table = Table(
        title=(
            f"mamori vault: {result.reads:,} reads, {result.threads} threads, "
            f"{result.people:,} people"
        ),
        caption=f"{result.backend}\n{machine()}",
    )
    table.add_column("read")
    table.add_column("reads/s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    for label, figures in (
        ("plain row by primary key", result.plain),
        ("plain row, driver alone", result.driver),
        ("mamori: lookup + 3 items + audit", result.mamori),
    ):
        table.add_row(
            label, f"{figures.rate:,.0f}", f"{figures.p50_ms:.2f}", f"{figures.p99_ms:.2f}"
        )
    table.add_section()
    table.add_row("mamori / plain", f"{result.ratio:.2f}x", "", "")
    table.add_row("mamori / driver alone", f"{result.driver_ratio:.2f}x", "", "")
    return table


def main(
    url: str | None = None,
    people: int = 2000,
    reads: int = 20000,
    threads: int = 8,
    console: Console | None = None,
) -> VaultBenchResult:
    result = run(url, people=people, reads=reads, threads=threads)
    (console or Console()).print(render(result))
    return result
