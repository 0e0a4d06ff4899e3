"""Disclosure-package benchmark: build the zip for one person beside a plain SELECT of the rows.

On a fresh temporary database, with the worked example's policy extended to 50 items for
customers (the extra ones are plain text items used for the service), one person holds all 50
items and N usage events. It measures:

* plain: a read transaction selecting the person's item rows and event rows (still encrypted)
  and iterating them, through the same driver: the floor of any package;
* mamori: :func:`mamori.requests.package.build` writing the whole zip (JSON, CSV, HTML) to a
  temporary file: key unwrap, decryption of every item and event, the summary, the sections,
  deflate, and the audit entry.

Time is the median of ``repeat`` runs at ``events`` (10,000 by default; the goal is under one
second). Then, for memory, the event count grows (10x per step up to ``max_events``) and the
peak of Python allocations during one build (tracemalloc, measured in a separate run so that it
does not slow the timing) is printed for each size: flat means the package streams.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
import tracemalloc
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import orjson
import sqlalchemy as sa
import yaml
from rich.console import Console
from rich.table import Table

from benchmarks.audit import machine, scratch_runtime
from mamori.app import Runtime
from mamori.config import example_policy_path
from mamori.requests import package
from mamori.store import db, tables
from mamori.vault import crypto
from mamori.vault.access import Caller

__all__ = ["DisclosureBenchResult", "main", "run"]

ITEMS = 50
CALLER = Caller(actor_id="bench:disclosure")
items_t = tables.subject_items
events_t = tables.usage_events


@dataclass(frozen=True)
class Memory:
    events: int
    seconds: float
    peak_mib: float
    zip_mib: float


@dataclass(frozen=True)
class DisclosureBenchResult:
    backend: str
    events: int
    plain_seconds: float
    package_seconds: float
    zip_mib: float
    memory: tuple[Memory, ...]

    @property
    def ratio(self) -> float:
        return self.package_seconds / self.plain_seconds


def _policy_file(folder: Path) -> Path:
    """The worked example with enough extra customer items to make ``ITEMS`` in all."""
    document = yaml.safe_load(example_policy_path().read_text(encoding="utf-8"))
    held = [i for i in document["items"] if "customer" in i["subjects"]]
    kinds = {"text", "name", "email", "phone", "address"}
    # An item of several kinds (`kinds:`) takes values with their kind: left to the extra items.
    usable = [i["id"] for i in held if i.get("kind") in kinds]
    extra = [f"bench_note_{n:02d}" for n in range(ITEMS - len(usable))]
    for item_id in extra:
        document["items"].append(
            {
                "id": item_id,
                "label": {"ja": f"ベンチ項目 {item_id[-2:]}", "en": f"Bench item {item_id[-2:]}"},
                "category": "content",
                "kind": "text",
                "source": "provided",
                "subjects": ["customer"],
                "essential": True,
            }
        )
    document["collection"]["groups"][0]["entries"][0]["items"].extend(extra)
    service = next(p for p in document["purposes"] if p["id"] == "service_operation")
    service["items"].extend(extra)
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _values(runtime: Runtime) -> dict[str, object]:
    rules = runtime.vault.rules()
    held = rules.subject_types["customer"]
    samples: dict[str, object] = {
        "email": "bench@example.jp",
        "name": "利用者 一郎",
        "phone": "090-1234-5678",
        "address": "東京都港区南青山5-13-1",
        "contact_email": "bench2@example.jp",
    }
    values: dict[str, object] = {}
    for item in rules.items.values():
        if item.id not in held:
            continue
        if item.id in samples:
            values[item.id] = samples[item.id]
        elif item.kind.value == "text":
            value = f"{item.id} の値"
            # An item of several kinds takes each value with its kind.
            values[item.id] = (
                {"kind": "text", "value": value} if len(item.value_kinds) > 1 else value
            )
    return dict(list(values.items())[:ITEMS])


def _add_events(runtime: Runtime, subject_id: str, count: int, start: int) -> None:
    """``count`` more encrypted events for the person, inserted in batches (bench only)."""
    with db.read(runtime.engine) as conn:
        loaded = runtime.vault.load(conn, subject_id)
    key = crypto.data_cipher(runtime.vault.data_key(subject_id, loaded.wrapped_key))
    base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    actions = ("login", "view", "send", "edit", "share")
    batch = 5000
    for first in range(start, start + count, batch):
        rows = []
        for n in range(first, min(first + batch, start + count)):
            when = base + dt.timedelta(seconds=n * 37)
            event = {
                "occurred_at": when.isoformat(),
                "action": actions[n % len(actions)],
                "ip_address": f"192.0.2.{n % 250 + 1}",
                "device_model": "Pixel 8",
            }
            rows.append(
                {
                    "subject_id": subject_id,
                    "occurred_at": when,
                    "expires_at": when + dt.timedelta(days=3650),
                    "ciphertext": crypto.encrypt(
                        key, orjson.dumps(event), subject_id=subject_id, item_id="event"
                    ),
                }
            )
        with db.write(runtime.engine) as conn:
            conn.execute(events_t.insert(), rows)


def _plain(runtime: Runtime, subject_id: str) -> float:
    started = time.perf_counter()
    with db.read(runtime.engine) as conn:
        n = 0
        for _row in conn.execute(
            sa.select(items_t.c.item_id, items_t.c.ciphertext).where(
                items_t.c.subject_id == subject_id
            )
        ):
            n += 1
        for _row in conn.execution_options(yield_per=5000).execute(
            sa.select(events_t.c.id, events_t.c.ciphertext).where(
                events_t.c.subject_id == subject_id
            )
        ):
            n += 1
    return time.perf_counter() - started


def _build(runtime: Runtime, subject_id: str) -> tuple[float, float]:
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        package.build(runtime, subject_id, out)
        elapsed = time.perf_counter() - started
        size = out.tell() / (1024 * 1024)
    return elapsed, size


def _runtime(url: str | None) -> AbstractContextManager[tuple[Runtime, str]]:
    return scratch_runtime(url, _policy_file)


def run(
    url: str | None, *, events: int = 10_000, max_events: int = 1_000_000, repeat: int = 5
) -> DisclosureBenchResult:
    if events < 1 or max_events < 1 or repeat < 1:
        raise ValueError("events, max_events and repeat must be positive")
    with _runtime(url) as (runtime, where):
        values = list(_values(runtime).items())
        subject = runtime.vault.create_subject(CALLER, type="customer", items=dict(values[:25]))
        runtime.vault.write_items(CALLER, subject, dict(values[25:]))  # 25 per audit entry
        held = len(values)
        _add_events(runtime, subject, events, 0)
        _build(runtime, subject)  # warm: keys, templates
        plain = statistics.median(_plain(runtime, subject) for _ in range(repeat))
        timings = [_build(runtime, subject) for _ in range(repeat)]
        seconds = statistics.median(t for t, _ in timings)
        size = timings[-1][1]
        memory: list[Memory] = []
        have = events
        target = events
        while True:
            if target > have:
                _add_events(runtime, subject, target - have, have)
                have = target
            tracemalloc.start()
            try:
                spent, zipped = _build(runtime, subject)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            memory.append(Memory(have, spent, peak / (1024 * 1024), zipped))
            if target >= max_events:
                break
            target = min(target * 10, max_events)
    return DisclosureBenchResult(
        backend=f"{where}; {held} items",
        events=events,
        plain_seconds=plain,
        package_seconds=seconds,
        zip_mib=size,
        memory=tuple(memory),
    )


def render(result: DisclosureBenchResult) -> tuple[Table, Table]:
    speed = Table(
        title=f"disclosure package: one person, {result.events:,} usage events",
        caption=f"{result.backend}\n{machine()}",
    )
    speed.add_column("what")
    speed.add_column("seconds (median)", justify="right")
    speed.add_row("plain SELECT of the same rows (encrypted)", f"{result.plain_seconds:.3f}")
    speed.add_row(f"mamori package (zip {result.zip_mib:.1f} MiB)", f"{result.package_seconds:.3f}")
    speed.add_row("package / plain", f"{result.ratio:.1f}x")
    memory = Table(title="peak Python memory while building (tracemalloc)")
    memory.add_column("events", justify="right")
    memory.add_column("build seconds (traced)", justify="right")
    memory.add_column("peak MiB", justify="right")
    memory.add_column("zip MiB", justify="right")
    for m in result.memory:
        memory.add_row(f"{m.events:,}", f"{m.seconds:.2f}", f"{m.peak_mib:.1f}", f"{m.zip_mib:.1f}")
    return speed, memory


def main(url: str | None, events: int, max_events: int, repeat: int) -> DisclosureBenchResult:
    result = run(url, events=events, max_events=max_events, repeat=repeat)
    console = Console()
    for table in render(result):
        console.print(table)
    goal = "met" if result.package_seconds < 1.0 else "NOT met"
    console.print(f"goal (< 1 s for {result.events:,} events): {goal}")
    return result
