"""Pseudonymised-export benchmark: memory and time of a CSV and a Parquet export at N/10 and N
people, beside Parquet built the naive way (every row in memory, then one table written).

On a fresh temporary database with the worked example's policy and a pseudonymised purpose
(``research``: device model and OS version kept, e-mail address and device id pseudonymised),
people are stored by direct inserts of what the vault would write (each item encrypted under
the person's own data key). For each size it measures, writing to a temporary file:

* csv and parquet: :func:`mamori.statistics.exports.export` (a page of 5,000 people at a time;
  Parquet one row group a page);
* naive parquet (the baseline): the same rows gathered in a list, then one ``pyarrow.Table``
  written with ``pq.write_table``.

Memory is the peak of Python's allocations (``tracemalloc``) plus the peak of Arrow's own
buffers (a ``proxy_memory_pool`` counting just that run), both reset for each run. The goal is
a streamed export whose peak does not grow with the number of people (10x the people, about the
same peak) while the naive one grows with it.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from rich.console import Console
from rich.table import Table

from benchmarks.audit import machine, scratch_runtime
from mamori.app import Runtime
from mamori.config import example_policy_path
from mamori.statistics import exports, pseudonyms
from mamori.store import db, tables
from mamori.vault import crypto
from mamori.vault.access import Caller

__all__ = ["ExportsBenchResult", "main", "run"]

KEY = Caller("key:bench", frozenset({"research"}), frozenset({"read"}))
ITEMS = ("device_model", "os_version", "email", "device_id")


@dataclass(frozen=True)
class Measured:
    what: str
    people: int
    seconds: float
    python_peak: int
    arrow_peak: int
    size: int

    @property
    def peak(self) -> int:
        return self.python_peak + self.arrow_peak


@dataclass(frozen=True)
class ExportsBenchResult:
    backend: str
    runs: list[Measured]


def _policy(folder: Path) -> Path:
    data = yaml.safe_load(example_policy_path().read_text(encoding="utf-8"))
    data["purposes"].append(
        {
            "id": "research",
            "label": {"ja": "仮名加工情報としての分析", "en": "Analysis as pseudonymised data"},
            "group": "marketing_statistics",
            "items": list(ITEMS),
            "pseudonymised": {
                "keep": ["device_model", "os_version"],
                "pseudonymise": ["email", "device_id"],
            },
        }
    )
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _seed(runtime: Runtime, first: int, last: int) -> None:
    keys = runtime.vault.keys
    now = dt.datetime.now(dt.UTC)
    for start in range(first, last, 5000):
        subjects, items = [], []
        for n in range(start, min(start + 5000, last)):
            subject_id = secrets.token_hex(16)
            data_key = crypto.new_data_key()
            subjects.append(
                {
                    "id": subject_id,
                    "type": "customer",
                    "external_ref": None,
                    "status": "active",
                    "wrapped_key": crypto.wrap_key(keys, data_key, context=f"subject:{subject_id}"),
                    "master_version": keys.current_version,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            values = {
                "device_model": f"Model {n % 40}",
                "os_version": f"OS {n % 7}",
                "email": f"person{n}@example.jp",
                "device_id": f"dev-{n:08d}",
            }
            for item_id, value in values.items():
                items.append(
                    {
                        "subject_id": subject_id,
                        "item_id": item_id,
                        "ciphertext": crypto.encrypt(
                            data_key, orjson.dumps(value), subject_id=subject_id, item_id=item_id
                        ),
                        "source": "provided",
                        "collected_at": now,
                        "updated_at": now,
                        "expires_at": None,
                    }
                )
        with db.write(runtime.engine) as conn:
            conn.execute(tables.subjects.insert(), subjects)
            conn.execute(tables.subject_items.insert(), items)


def _streamed(format: str) -> Callable[[Runtime, io.BufferedRandom], int]:
    def write(runtime: Runtime, sink: io.BufferedRandom) -> int:
        return exports.export(runtime.vault, KEY, "research", sink, format=format).rows

    return write


def _naive(runtime: Runtime, sink: io.BufferedRandom) -> int:
    vault = runtime.vault
    the_plan = exports.plan(vault.rules(), "research")
    _generation, key = pseudonyms.current(vault, "research", KEY.actor_id)
    rows = [row for page in exports.pages(vault, KEY, the_plan, key) for row in page]
    header = ["pseudonym", *the_plan.kept, *the_plan.pseudonymised]
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(header)})
    pq.write_table(table, sink, compression="zstd")
    return len(rows)


def _measure(
    runtime: Runtime, what: str, action: Callable[[Runtime, io.BufferedRandom], Any]
) -> Measured:
    pool = pa.proxy_memory_pool(pa.default_memory_pool())
    was = pa.default_memory_pool()
    with tempfile.TemporaryFile() as sink:
        pa.set_memory_pool(pool)
        tracemalloc.start()
        started = time.perf_counter()
        try:
            rows = action(runtime, sink)
            seconds = time.perf_counter() - started
            _now, python_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            pa.set_memory_pool(was)
        size = sink.tell()
    return Measured(what, rows, seconds, python_peak, pool.max_memory() or 0, size)


def run(url: str | None, *, people: int = 100_000) -> ExportsBenchResult:
    if people < 1000:
        raise ValueError("people must be at least 1,000")
    runs: list[Measured] = []
    with scratch_runtime(url, _policy) as (runtime, where):
        runtime.vault.rules()
        seeded = 0
        for size in (people // 10, people):
            _seed(runtime, seeded, size)
            seeded = size
            _measure(runtime, "warm", _streamed("csv"))
            for what, action in (
                ("parquet, every row in memory (baseline)", _naive),
                ("csv, streamed", _streamed("csv")),
                ("parquet, streamed", _streamed("parquet")),
            ):
                runs.append(_measure(runtime, what, action))
    return ExportsBenchResult(where, runs)


def render(result: ExportsBenchResult) -> Table:
    table = Table(
        title="pseudonymised export: peak memory and time",
        caption=f"{result.backend}\n{machine()}",
    )
    names = ("what", "people", "seconds", "python peak", "arrow peak", "peak vs N/10", "file")
    for name in names:
        table.add_column(name, justify="left" if name == "what" else "right")
    mib = 1024 * 1024
    first: dict[str, Measured] = {}
    for m in result.runs:
        small = first.setdefault(m.what, m)
        grew = "" if small is m else f"{m.peak / max(small.peak, 1):.2f}x"
        table.add_row(
            m.what,
            f"{m.people:,}",
            f"{m.seconds:.2f}",
            f"{m.python_peak / mib:.1f} MiB",
            f"{m.arrow_peak / mib:.1f} MiB",
            grew,
            f"{m.size / mib:.1f} MiB",
        )
    return table


def main(url: str | None, people: int) -> None:
    Console().print(render(run(url, people=people)))
