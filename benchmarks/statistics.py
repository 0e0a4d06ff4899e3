"""Statistics benchmark: a count grouped by prefecture over N people, decrypting every address,
beside the same GROUP BY over an unencrypted copy of the column, in the same run and database.

On a fresh temporary database with the worked example's policy, extended so that the
statistics purpose uses the address and counts by prefecture, N customers hold an address in
one of the 47 prefectures (each encrypted under the person's own data key, as the vault stores
it). It measures:

* plain: ``SELECT prefecture, COUNT(*) FROM bench_plain GROUP BY prefecture`` over a copy of the
  prefectures in clear (one row per person);
* plain with the filters: the same over the plain app's people who are active and have not
  stopped the purpose (its own columns, and the stops), the people mamori counts;
* mamori: :func:`mamori.statistics.queries.run` of ``--by prefecture``: the population (ids
  only) checked against the query log and logged, then the count grouped in the database by
  the addresses' group tokens (:mod:`mamori.vault.groups`), each distinct token decrypted once,
  and the table protected (k = 10);
* mamori decrypting every address: the same count with no token to trust (as right after a
  policy declares the dimension): each data key unwrapped, each address decrypted and parsed,
  and the tokens written for the next query.

The goal is mamori within 5x of the plain GROUP BY. People are stored by direct inserts of what
the vault would write (the item, its group token), so that seeding is not the vault's one
transaction per person.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import sqlalchemy as sa
import yaml
from rich.console import Console
from rich.table import Table

from benchmarks.audit import analyze, machine, scratch_runtime
from mamori.app import Runtime
from mamori.config import example_policy_path
from mamori.policy.dimensions import PREFECTURES
from mamori.policy.statistics import Derive
from mamori.statistics import queries
from mamori.store import db, tables
from mamori.vault import crypto
from mamori.vault.access import Caller

__all__ = ["StatisticsBenchResult", "main", "run"]

KEY = Caller("key:bench", frozenset({"statistics"}), frozenset({"read"}))
_plain = sa.Table(
    "bench_plain",
    sa.MetaData(),
    sa.Column("subject_id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("type", sa.String(63), nullable=False),
    sa.Column("prefecture", sa.String(16), nullable=False),
)
"""A plain app's people: who they are and their prefecture in clear, in one table."""


@dataclass(frozen=True)
class StatisticsBenchResult:
    backend: str
    people: int
    plain_seconds: float
    filtered_seconds: float
    mamori_seconds: float
    decrypting_seconds: float
    cells: int

    @property
    def ratio(self) -> float:
        return self.mamori_seconds / self.plain_seconds

    @property
    def ratio_filtered(self) -> float:
        return self.mamori_seconds / self.filtered_seconds


def _policy(folder: Path) -> Path:
    data = yaml.safe_load(example_policy_path().read_text(encoding="utf-8"))
    stats = next(p for p in data["purposes"] if p["id"] == "statistics")
    stats["items"] = [*stats["items"], "address"]
    stats["statistics"] = {
        "dimensions": [{"id": "prefecture", "derive": "prefecture", "item": "address"}]
    }
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _seed(runtime: Runtime, people: int) -> None:
    keys = runtime.vault.keys
    tokens = runtime.vault.group_tokens
    now = dt.datetime.now(dt.UTC)
    batch = 5000
    for first in range(0, people, batch):
        subjects, items, plain, groups = [], [], [], []
        for n in range(first, min(first + batch, people)):
            subject_id = secrets.token_hex(16)
            data_key = crypto.new_data_key()
            prefecture = PREFECTURES[n % 47 if n % 5 else 12]  # Tokyo a fifth of everyone
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
            address = f"{prefecture}中央区1-{n % 100}-1"
            items.append(
                {
                    "subject_id": subject_id,
                    "item_id": "address",
                    "ciphertext": crypto.encrypt(
                        data_key, orjson.dumps(address), subject_id=subject_id, item_id="address"
                    ),
                    "source": "provided",
                    "collected_at": now,
                    "updated_at": now,
                    "expires_at": None,
                }
            )
            plain.append(
                {
                    "subject_id": subject_id,
                    "status": "active",
                    "type": "customer",
                    "prefecture": prefecture,
                }
            )
            groups.append(
                {
                    "subject_id": subject_id,
                    "item_id": "address",
                    "derive": Derive.prefecture.value,
                    "token": tokens.token("address", Derive.prefecture, prefecture),
                }
            )
        with db.write(runtime.engine) as conn:
            conn.execute(tables.subjects.insert(), subjects)
            conn.execute(tables.subject_items.insert(), items)
            conn.execute(tables.item_groups.insert(), groups)
            conn.execute(_plain.insert(), plain)


def _timed(action: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()  # type: ignore[operator]
    return time.perf_counter() - started, result


def _plain_count(runtime: Runtime) -> dict[str, int]:
    with db.read(runtime.engine) as conn:
        rows = conn.execute(
            sa.select(_plain.c.prefecture, sa.func.count()).group_by(_plain.c.prefecture)
        ).all()
    return {r[0]: r[1] for r in rows}


def _filtered_count(runtime: Runtime) -> dict[str, int]:
    """The plain app's same question: its active customers who have not stopped the purpose."""
    stops = tables.restrictions
    stopped = sa.exists().where(
        stops.c.subject_id == _plain.c.subject_id,
        stops.c.scope == "purpose",
        stops.c.target == "statistics",
    )
    with db.read(runtime.engine) as conn:
        rows = conn.execute(
            sa.select(_plain.c.prefecture, sa.func.count())
            .where(_plain.c.status == "active", _plain.c.type == "customer", ~stopped)
            .group_by(_plain.c.prefecture)
        ).all()
    return {r[0]: r[1] for r in rows}


def _mamori(runtime: Runtime) -> queries.Answer:
    query = queries.parse(runtime.vault.rules(), "statistics", by=["prefecture"])
    return queries.run(runtime.vault, KEY, query)


@contextmanager
def _runtime(url: str | None) -> Iterator[tuple[Runtime, str]]:
    with scratch_runtime(url, _policy) as (runtime, where):
        _plain.create(runtime.engine)
        yield runtime, where


def run(url: str | None, *, people: int = 100_000) -> StatisticsBenchResult:
    if people < 100:
        raise ValueError("people must be at least 100")
    with _runtime(url) as (runtime, where):
        _seed(runtime, people)
        analyze(runtime)
        runtime.vault.rules()  # the published policy, loaded once per process
        _plain_count(runtime)  # warm both
        plain_seconds, plain = _timed(lambda: _plain_count(runtime))
        filtered_seconds, _ = _timed(lambda: _filtered_count(runtime))
        mamori_seconds, answer = _timed(lambda: _mamori(runtime))
        assert isinstance(answer, queries.Answer) and isinstance(plain, dict)
        counted = {e.groups["prefecture"]: e.value for e in answer.table.cells}
        if counted != plain:
            raise AssertionError("mamori's counts differ from the plain GROUP BY")
        with db.write(runtime.engine) as conn:  # no token to trust: every address decrypted
            conn.execute(tables.item_groups.delete())
        decrypting_seconds, again = _timed(lambda: _mamori(runtime))
        assert isinstance(again, queries.Answer)
        if {e.groups["prefecture"]: e.value for e in again.table.cells} != plain:
            raise AssertionError("mamori's decrypted counts differ from the plain GROUP BY")
    return StatisticsBenchResult(
        where,
        people,
        plain_seconds,
        filtered_seconds,
        mamori_seconds,
        decrypting_seconds,
        len(counted),
    )


def render(result: StatisticsBenchResult) -> Table:
    table = Table(
        title=f"count grouped by prefecture: {result.people:,} people, {result.cells} cells",
        caption=f"{result.backend}\n{machine()}",
    )
    table.add_column("what")
    table.add_column("seconds", justify="right")
    table.add_column("people/s", justify="right")
    for label, seconds in (
        ("plain GROUP BY over an unencrypted copy (baseline)", result.plain_seconds),
        ("the same, of the people counted (active, not stopped)", result.filtered_seconds),
        ("mamori: log, count by group tokens, protect", result.mamori_seconds),
        (
            "mamori with no token: decrypt every address (and write tokens)",
            result.decrypting_seconds,
        ),
    ):
        table.add_row(label, f"{seconds:.3f}", f"{result.people / seconds:,.0f}")
    table.add_row("mamori / plain (goal <= 5x)", "", f"{result.ratio:.1f}x")
    table.add_row("mamori / plain with the filters", "", f"{result.ratio_filtered:.1f}x")
    return table


def main(url: str | None, people: int) -> None:
    Console().print(render(run(url, people=people)))
