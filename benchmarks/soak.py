"""Load and soak: the production shape on this machine, under mixed traffic (issue 17, part 2).

On a fresh temporary database (PostgreSQL by default: the production shape) it starts

* ``servers`` processes of ``mamori serve`` (one worker each, each on its own loopback port:
  the load generator spreads requests across them as a reverse proxy would),
* one ``mamori worker`` (Celery with beat) on a broker (Redis by default), which delivers the
  mail and runs the periodic jobs, the servers handing their work to it,
* a real SMTP sink (aiosmtpd) that accepts the mail,

and drives them for ``minutes`` with ``clients`` threads, each with its own keep-alive client,
sending a mix of the requests a host service sends: authorised reads of three items (70%),
writes of an item (15%), cookie-consent receipts (10%), and disclosure requests filed for a
new person (5%). Any answer but the expected status is an error. It stops by itself, prints
the rates, latencies and errors per kind, every server process's resident memory over the run,
and once everything has stopped verifies the audit log's hash chain and the receipts' chain.
Loopback only; everything it creates is removed.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiosmtpd.controller import Controller
from rich.console import Console
from rich.table import Table

from benchmarks.audit import _scratch_database, machine
from benchmarks.vault import person
from benchmarks.vault_http import _free_port, _rss_kib
from mamori.audit.log import AuditLog
from mamori.config import load_settings
from mamori.errors import MamoriError
from mamori.store import db

__all__ = ["SoakResult", "main", "run"]

PURPOSE = "service_operation"
ITEMS = ("email", "name", "phone")
MIX = (("read", 70), ("write", 15), ("receipt", 10), ("request", 5))


@dataclass
class Kind:
    """What one kind of request measured."""

    done: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    sample: str = ""

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class SoakResult:
    backend: str
    broker: str
    servers: int
    clients: int
    seconds: float
    kinds: dict[str, Kind]
    memory: list[tuple[float, tuple[int, ...]]]
    """(seconds into the run, RSS KiB of each server process)."""
    audit_entries: int
    receipts_stored: int
    mail_received: int

    @property
    def errors(self) -> int:
        return sum(k.errors for k in self.kinds.values())

    @property
    def requests(self) -> int:
        return sum(k.done for k in self.kinds.values())


class _Sink:
    """Accepts every message (counts only)."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


def _seed(url: str, folder: Path, master_key: str, people: int) -> tuple[list[str], str, int, str]:
    """Publish the policy, store the people, make the key; (ids, key, version, banner hash)."""
    from mamori.app import open_runtime
    from mamori.consent.service import Consent
    from mamori.vault import service_keys
    from mamori.vault.access import Caller

    settings = load_settings(database_url=url, data_dir=folder, master_key=master_key)
    runtime = open_runtime(settings, initialise=True, actor="bench")
    try:
        host = Caller(actor_id="system:bench", purposes=frozenset({PURPOSE}))
        ids = [
            runtime.vault.create_subject(host, type="customer", items=person(n))
            for n in range(people)
        ]
        _, token = service_keys.create(
            runtime.engine,
            runtime.audit,
            name="soak",
            purposes=[PURPOSE],
            operations=["read", "write"],
            actor="bench",
        )
        consent = Consent(runtime.engine, runtime.audit, runtime.published, days=180)
        current = consent.current()
        text_hash = consent.banner(current.version, "ja", gpc=False).text_hash
        return ids, token, current.version, text_hash
    finally:
        runtime.close()


def _env(url: str, folder: Path, master_key: str, broker: str | None, smtp: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(
        MAMORI_DATABASE_URL=url,
        MAMORI_DATA_DIR=str(folder),
        MAMORI_MASTER_KEY=master_key,
        MAMORI_LOG_LEVEL="warning",
        MAMORI_SMTP_HOST="127.0.0.1",
        MAMORI_SMTP_PORT=str(smtp),
        MAMORI_SMTP_TLS="none",
        PYTHONUNBUFFERED="1",
    )
    if broker:
        env["MAMORI_TASK_BROKER_URL"] = broker
    return env


@contextlib.contextmanager
def _processes(
    env: dict[str, str], ports: list[int], broker: str | None, folder: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The servers (one worker each) and, with a broker, a Celery worker with beat."""
    started: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for port in ports:
            log = (folder / f"server-{port}.log").open("wb")
            logs.append(log)
            command = [sys.executable, "-m", "mamori.cli", "serve", "--host", "127.0.0.1"]
            command += ["--port", str(port), "--workers", "1"]
            started.append(
                subprocess.Popen(
                    command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        if broker:
            log = (folder / "worker.log").open("wb")
            logs.append(log)
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "mamori.cli", "worker", "--concurrency", "2"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def _wait_ready(ports: list[int], processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 90
    for port in ports:
        while True:
            if any(p.poll() is not None for p in processes):
                raise MamoriError("a server or the worker exited during start-up (see its log)")
            if time.monotonic() > deadline:
                raise MamoriError("the servers did not answer /readyz in 90 s")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)


def _client_loop(
    n: int,
    ports: list[int],
    token: str,
    ids: list[str],
    version: int,
    text_hash: str,
    until: float,
    kinds: dict[str, Kind],
    lock: threading.Lock,
) -> None:
    rng = random.Random(n)
    names = [name for name, weight in MIX for _ in range(weight)]
    clients = [
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        for port in ports
    ]
    filed = 0
    try:
        while time.monotonic() < until:
            kind = rng.choice(names)
            client = clients[rng.randrange(len(clients))]
            subject = ids[rng.randrange(len(ids))]
            started = time.perf_counter()
            expected = 200
            try:
                if kind == "read":
                    response = client.get(
                        f"/api/v1/subjects/{subject}/items",
                        params={"purpose": PURPOSE, "items": ",".join(ITEMS)},
                    )
                elif kind == "write":
                    expected = 204
                    response = client.patch(
                        f"/api/v1/subjects/{subject}/items",
                        json={"name": f"ソーク {rng.randrange(10**6)}"},
                    )
                elif kind == "receipt":
                    expected = 201
                    consent_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=")
                    body = {
                        "consent_id": consent_id.decode(),
                        "version": version,
                        "lang": "ja",
                        "hash": text_hash,
                        "gpc": False,
                        "method": "custom",
                        "source": "banner",
                        "categories": {"analytics": rng.random() < 0.5, "advertising": False},
                        "services": {"google_analytics": True},
                    }
                    response = client.post("/consent/receipts", content=orjson.dumps(body))
                else:
                    expected = 201
                    filed += 1
                    created = client.post(
                        "/api/v1/subjects",
                        json={"type": "customer", "items": {"email": f"s{n}-{filed}@example.jp"}},
                    )
                    if created.status_code != 201:
                        response = created
                    else:
                        response = client.post(
                            "/api/v1/requests",
                            json={
                                "subject_id": created.json()["id"],
                                "type": "disclosure",
                                "email": f"s{n}-{filed}@example.jp",
                                "language": "ja",
                            },
                        )
                ok = response.status_code == expected
                sample = "" if ok else f"{kind}: HTTP {response.status_code} {response.text[:120]}"
            except httpx.HTTPError as exc:
                ok, sample = False, f"{kind}: {type(exc).__name__}"
            elapsed = time.perf_counter() - started
            with lock:
                found = kinds[kind]
                found.done += 1
                found.latencies.append(elapsed)
                if not ok:
                    found.errors += 1
                    found.sample = found.sample or sample
    finally:
        for client in clients:
            client.close()


def _receipts_stored(url: str) -> int:
    engine = db.create_engine(url)
    try:
        with db.read(engine) as conn:
            count = conn.exec_driver_sql("SELECT count(*) FROM consent_receipts").scalar_one()
    finally:
        engine.dispose()
    return int(count)


def run(
    url: str | None,
    *,
    minutes: float,
    servers: int = 2,
    clients: int = 8,
    people: int = 500,
    broker: str | None = "redis://127.0.0.1:6379/0",
    say: Any = None,
) -> SoakResult:
    progress = say or (lambda _text: None)
    master_key = f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}"
    sink = _Sink()
    smtp_port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with (
            _scratch_database(url) as (scratch, where),
            tempfile.TemporaryDirectory(prefix="mamori-soak-") as tmp,
        ):
            folder = Path(tmp)
            progress(f"storing {people:,} people")
            ids, token, version, text_hash = _seed(scratch, folder / "data", master_key, people)
            ports = [_free_port() for _ in range(servers)]
            env = _env(scratch, folder / "data", master_key, broker, smtp_port)
            kinds = {name: Kind() for name, _ in MIX}
            memory: list[tuple[float, tuple[int, ...]]] = []
            with _processes(env, ports, broker, folder) as processes:
                _wait_ready(ports, processes)
                server_pids = [p.pid for p in processes[:servers]]
                progress(f"mixed traffic for {minutes:g} min: {clients} clients, {servers} servers")
                started = time.monotonic()
                until = started + 60 * minutes
                lock = threading.Lock()
                threads = [
                    threading.Thread(
                        target=_client_loop,
                        args=(n, ports, token, ids, version, text_hash, until, kinds, lock),
                        daemon=True,
                    )
                    for n in range(clients)
                ]
                for thread in threads:
                    thread.start()
                memory.append((0.0, tuple(_rss_kib(pid) for pid in server_pids)))
                interval = max(1.0, min(30.0, 6 * minutes))
                while (left := until - time.monotonic()) > 0:
                    time.sleep(min(interval, left))
                    memory.append(
                        (time.monotonic() - started, tuple(_rss_kib(pid) for pid in server_pids))
                    )
                for thread in threads:
                    thread.join()
                seconds = time.monotonic() - started
                memory.append((seconds, tuple(_rss_kib(pid) for pid in server_pids)))
                progress("letting the worker deliver the mail")
                deadline = time.monotonic() + 30
                wanted = kinds["request"].done - kinds["request"].errors
                while sink.received < wanted and time.monotonic() < deadline:
                    time.sleep(0.5)
            progress("verifying the audit log")
            engine = db.create_engine(scratch)
            try:
                report = AuditLog(engine).verify()
                report.raise_for_mismatch()
            finally:
                engine.dispose()
            receipts = _receipts_stored(scratch)
    finally:
        controller.stop()
    return SoakResult(
        backend=where,
        broker=broker or "none (in-process jobs)",
        servers=servers,
        clients=clients,
        seconds=seconds,
        kinds=kinds,
        memory=memory,
        audit_entries=report.entries,
        receipts_stored=receipts,
        mail_received=sink.received,
    )


def render(result: SoakResult) -> list[Table]:
    table = Table(
        title=(
            f"soak: {result.seconds / 60:.1f} min of mixed traffic, {result.clients} clients, "
            f"{result.servers} server processes, broker {result.broker}"
        ),
        caption=f"{result.backend}\n{machine()}",
    )
    for column in ("request", "done", "per second", "p50 ms", "p99 ms", "errors"):
        table.add_column(column, justify="left" if column == "request" else "right")
    for name, kind in result.kinds.items():
        table.add_row(
            name,
            f"{kind.done:,}",
            f"{kind.done / result.seconds:,.1f}",
            f"{kind.percentile(0.5):.1f}",
            f"{kind.percentile(0.99):.1f}",
            str(kind.errors) if not kind.errors else f"[red]{kind.errors}[/red]",
        )
    table.add_section()
    table.add_row(
        "all",
        f"{result.requests:,}",
        f"{result.requests / result.seconds:,.1f}",
        "",
        "",
        str(result.errors),
    )
    memory = Table(title="resident memory of each server process (MiB)")
    memory.add_column("seconds", justify="right")
    for n in range(result.servers):
        memory.add_column(f"server {n + 1}", justify="right")
    points = result.memory
    if len(points) > 8:
        step = len(points) / 7
        points = [points[int(i * step)] for i in range(7)] + [points[-1]]
    for seconds, rss in points:
        memory.add_row(f"{seconds:.0f}", *(f"{kib / 1024:.1f}" for kib in rss))
    return [table, memory]


def main(
    url: str | None,
    minutes: float,
    servers: int,
    clients: int,
    people: int,
    broker: str | None,
    console: Console | None = None,
) -> SoakResult:
    console = console or Console()
    with console.status("preparing...") as status:
        result = run(
            url,
            minutes=minutes,
            servers=servers,
            clients=clients,
            people=people,
            broker=broker,
            say=lambda text: status.update(text),
        )
    for table in render(result):
        console.print(table)
    # After a tenth of the run: the first requests fill caches and pools (warm-up).
    warm = next((m for m in result.memory if m[0] >= result.seconds / 10), result.memory[0])
    last = result.memory[-1]
    growth = ", ".join(f"{(b - a) / 1024:+.1f} MiB" for a, b in zip(warm[1], last[1], strict=True))
    console.print(f"server memory from {warm[0]:.0f} s (warm) to the end: {growth}")
    console.print(
        f"audit chain of {result.audit_entries:,} entries verified; "
        f"{result.receipts_stored:,} receipts stored; {result.mail_received:,} mails received"
    )
    for name, kind in result.kinds.items():
        if kind.errors:
            console.print(f"[red]{name}: {kind.errors} errors, e.g. {kind.sample}[/red]")
    errors = result.errors
    verdict = "[green]0 errors[/green]" if not errors else f"[red]{errors} errors[/red]"
    console.print(f"soak: {verdict}")
    return result
