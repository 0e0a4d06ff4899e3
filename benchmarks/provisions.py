"""Streamed provision benchmark: one item of everyone a purpose may use to a third party, beside
the vault's own bulk read of the same item, in the same run.

On a fresh temporary database with the worked example's policy, N customers hold an
``advertising_id``; 95% of them consented to the third party ``a8net`` for ``advertising``
and accepted its cookies (APPI 31: the provision confirms that choice). It
measures, over the same N people:

* bulk read: :meth:`Vault.bulk_read` of ``advertising_id`` for ``advertising``, consumed to the
  end (keyset pages, key unwrap and decryption per person, one audit entry);
* provision: :func:`mamori.provisions.stream.provide_everyone` to ``a8net``: the same read,
  with each page's people without a live consent or under a provision stop left out before
  decryption, the consents checked again and a record written per person provided, and an
  audit entry per page, before any value is handed on.

The rate is people considered per second (N / seconds); the goal is the provision at least
0.5x the bulk read. Memory: the peak of Python allocations (tracemalloc, in separate runs so
that it does not slow the timing) of one provision at N/10 people and at N; flat means it
streams. People are stored by direct inserts of what the vault would write (encrypted items,
wrapped keys), not through the API, so that seeding 100,000 people takes seconds.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import tracemalloc
from contextlib import AbstractContextManager
from dataclasses import dataclass

import orjson
from rich.console import Console
from rich.table import Table

from benchmarks.audit import analyze, machine, scratch_runtime
from mamori.app import Runtime
from mamori.provisions.stream import provide_everyone
from mamori.store import db, tables
from mamori.vault import crypto
from mamori.vault.access import Caller

__all__ = ["ProvisionBenchResult", "main", "run"]

ITEM = "advertising_id"
PURPOSE = "advertising"
RECIPIENT = "a8net"
KEY = Caller("key:bench", frozenset({PURPOSE}), frozenset({"read", "provide"}))


@dataclass(frozen=True)
class Memory:
    people: int
    seconds: float
    peak_mib: float


@dataclass(frozen=True)
class ProvisionBenchResult:
    backend: str
    people: int
    provided: int
    bulk_seconds: float
    provision_seconds: float
    memory: tuple[Memory, ...]

    @property
    def bulk_rate(self) -> float:
        return self.people / self.bulk_seconds

    @property
    def provision_rate(self) -> float:
        return self.people / self.provision_seconds

    @property
    def ratio(self) -> float:
        return self.provision_rate / self.bulk_rate


def _seed(runtime: Runtime, start: int, count: int) -> None:
    """``count`` more customers with an advertising id, 95% consenting (bench only: direct
    inserts of what the vault writes, in batches)."""
    vault = runtime.vault
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(days=3650)
    version = vault.rules().version
    services = orjson.dumps(
        dict.fromkeys(vault.rules().recipients[RECIPIENT].cookie_services, True)
    ).decode()
    batch = 2000
    for first in range(start, start + count, batch):
        subjects: list[dict[str, object]] = []
        items: list[dict[str, object]] = []
        consents: list[dict[str, object]] = []
        receipts: list[dict[str, object]] = []
        for n in range(first, min(first + batch, start + count)):
            subject_id = secrets.token_hex(16)
            data_key = crypto.new_data_key()
            subjects.append(
                {
                    "id": subject_id,
                    "type": "customer",
                    "external_ref": None,
                    "status": "active",
                    "wrapped_key": crypto.wrap_key(
                        vault.keys, data_key, context=f"subject:{subject_id}"
                    ),
                    "master_version": vault.keys.current_version,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            items.append(
                {
                    "subject_id": subject_id,
                    "item_id": ITEM,
                    "ciphertext": crypto.encrypt(
                        data_key, orjson.dumps(f"ad-{n:08d}"), subject_id=subject_id, item_id=ITEM
                    ),
                    "source": "automatic",
                    "collected_at": now,
                    "updated_at": now,
                    "expires_at": expires,
                }
            )
            if n % 20:
                receipts.append(
                    {
                        "seq": n + 1,
                        "consent_id": secrets.token_urlsafe(16),
                        "subject_id": subject_id,
                        "policy_version": version,
                        "section_hash": "0" * 64,
                        "language": "ja",
                        "text_hash": "0" * 64,
                        "gpc": False,
                        "method": "accept_all",
                        "source": "center",
                        "categories": '{"advertising":true}',
                        "services": services,
                        "created_at": now,
                        "expires_at": expires,
                        "prev_hash": bytes(32),
                        "receipt_hash": bytes(32),
                    }
                )
                consents.append(
                    {
                        "id": f"pc_{secrets.token_hex(12)}",
                        "subject_id": subject_id,
                        "recipient_id": RECIPIENT,
                        "purpose_id": PURPOSE,
                        "policy_version": version,
                        "consented_at": now,
                        "revoked_at": None,
                        "channel": "api",
                    }
                )
        with db.write(runtime.engine) as conn:
            conn.execute(tables.subjects.insert(), subjects)
            conn.execute(tables.subject_items.insert(), items)
            conn.execute(tables.provision_consents.insert(), consents)
            # APPI 31: the cookie choice each consenting person made (signed in, so tied to
            # them), which the provision to a8net confirms.
            conn.execute(tables.consent_receipts.insert(), receipts)


def _bulk(runtime: Runtime) -> tuple[float, int]:
    started = time.perf_counter()
    n = sum(1 for _ in runtime.vault.bulk_read(KEY, PURPOSE, ITEM))
    return time.perf_counter() - started, n


def _provide(runtime: Runtime) -> tuple[float, int]:
    started = time.perf_counter()
    streamed = provide_everyone(runtime.vault, KEY, recipient=RECIPIENT, item=ITEM, purpose=PURPOSE)
    n = sum(1 for _ in streamed.lines)
    return time.perf_counter() - started, n


def _traced(runtime: Runtime, people: int) -> Memory:
    tracemalloc.start()
    try:
        seconds, _ = _provide(runtime)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Memory(people, seconds, peak / (1024 * 1024))


def _runtime(url: str | None) -> AbstractContextManager[tuple[Runtime, str]]:
    return scratch_runtime(url)


def run(url: str | None, *, people: int = 100_000) -> ProvisionBenchResult:
    if people < 10:
        raise ValueError("people must be at least 10")
    small = people // 10
    with _runtime(url) as (runtime, where):
        _seed(runtime, 0, small)
        analyze(runtime)
        _provide(runtime)  # warm: keys, statements
        memory = [_traced(runtime, small)]
        _seed(runtime, small, people - small)
        analyze(runtime)
        bulk, _ = _bulk(runtime)
        provision, provided = _provide(runtime)
        memory.append(_traced(runtime, people))
    return ProvisionBenchResult(
        backend=where,
        people=people,
        provided=provided,
        bulk_seconds=bulk,
        provision_seconds=provision,
        memory=tuple(memory),
    )


def render(result: ProvisionBenchResult) -> tuple[Table, Table]:
    speed = Table(
        title=f"streamed provision of one item: {result.people:,} people",
        caption=f"{result.backend}\n{machine()}",
    )
    speed.add_column("what")
    speed.add_column("seconds", justify="right")
    speed.add_column("people/s", justify="right")
    speed.add_row(
        "vault bulk read (baseline)", f"{result.bulk_seconds:.2f}", f"{result.bulk_rate:,.0f}"
    )
    speed.add_row(
        f"provision to a8net ({result.provided:,} provided and recorded)",
        f"{result.provision_seconds:.2f}",
        f"{result.provision_rate:,.0f}",
    )
    speed.add_row("provision / bulk read", "", f"{result.ratio:.2f}x")
    memory = Table(title="peak Python memory of one streamed provision (tracemalloc)")
    memory.add_column("people", justify="right")
    memory.add_column("seconds (traced)", justify="right")
    memory.add_column("peak MiB", justify="right")
    for m in result.memory:
        memory.add_row(f"{m.people:,}", f"{m.seconds:.2f}", f"{m.peak_mib:.1f}")
    return speed, memory


def main(url: str | None, people: int, console: Console | None = None) -> ProvisionBenchResult:
    result = run(url, people=people)
    console = console or Console()
    for table in render(result):
        console.print(table)
    goal = "met" if result.ratio >= 0.5 else "NOT met"
    console.print(f"goal (provision at least 0.5x the bulk read): {goal}")
    return result
