"""Vault benchmark over HTTP: the real server, several worker processes, a load generator.

On a fresh temporary database (see :func:`benchmarks.audit._scratch_database`) it publishes
the worked example's policy, stores ``people`` subjects and creates one API key with the
``service_operation`` purpose, all in this process. Then it starts the real server as a child
process, ``mamori serve --workers W`` on a free loopback port, with a random master key given
by ``MAMORI_MASTER_KEY`` (never written to disk), and drives it from a load generator on
127.0.0.1 with ``connections`` keep-alive connections:

* ``wrk`` (Debian package ``wrk``) with a generated Lua script that walks the subjects' URLs,
  stops after the requested count and checks every status; without ``/usr/bin/wrk``,
* a Python generator: several processes, each with threads holding one httpx client each, so
  the generator is not held back by one interpreter lock.

It measures, one after the other, with the same connections:

* bare: ``GET /healthz``, liveness on the event loop without the database: what the server,
  its middleware and connection handling cost a request;
* authorised: ``GET /api/v1/subjects/{id}/items?purpose=service_operation&items=email,name,phone``
  (key check, policy and usage-stop check, data-key unwrap, three decryptions, and the audit
  entry durable before the response);
* lookup (optional): ``GET /api/v1/subjects/items?item=email&value=...`` with the same purpose
  and items (blind-index lookup, then the same read).

Then the same requests against :mod:`benchmarks.baseline_app` on the same uvicorn, served the
same way: a raw ASGI ``/healthz``, a plain FastAPI + SQLAlchemy read of the same three
fields from an unencrypted table and (with the lookup) the same read found by an indexed
e-mail column, printed side by side with mamori's (issue 17's goals).

For each it prints requests per second, p50 and p99 latency and errors (any status but 200 is
an error, and fails the run); then where the CPU went: the server's CPU time per request, the
connections and cores of each worker, the cores of PostgreSQL, of the generator and of the rest
of the machine, and the processes started meanwhile. It samples the resident memory
(RSS) of each server worker every second and prints it after start-up, after the warm-up and at
points through the authorised reads, so that memory can be seen to stay flat over a long run.
After the server has stopped, it counts the ``subject.read`` audit entries (at least one per
successful read) and verifies the whole hash chain.
"""

from __future__ import annotations

import base64
import contextlib
import math
import multiprocessing
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import quote

import httpx
import orjson
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from benchmarks.audit import _scratch_database, machine
from benchmarks.vault import person
from mamori.audit.log import AuditLog
from mamori.config import load_settings
from mamori.errors import MamoriError, UserInputError
from mamori.store import db

__all__ = [
    "GOAL",
    "HttpBenchResult",
    "Load",
    "MemorySample",
    "main",
    "render",
    "run",
]

GOAL: Final = 1500.0
"""Authorised reads per second the server should sustain on a 2-core machine (issue 3)."""

WRK: Final = Path("/usr/bin/wrk")
PURPOSE: Final = "service_operation"
ITEMS: Final = ("email", "name", "phone")
MIN_RATE: Final = 100.0
"""Each phase gives up (and fails) when it would take longer than at this many requests/s."""

Generator = Literal["auto", "wrk", "python"]

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Load:
    """What one phase of requests measured."""

    label: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    worker_cpu_seconds: tuple[float, ...]
    """CPU time (user and system) of each server worker during the phase."""
    worker_connections: tuple[int, ...]
    """Most client connections each worker held at once during the phase (kernel's choice)."""
    generator_cpu_seconds: float
    database_cpu_seconds: float
    """CPU time of the PostgreSQL server's processes during the phase (0 on SQLite)."""
    processes_started: int
    """Processes the machine started during the phase (database backends of new connections)."""
    machine_cpu_seconds: float
    """CPU time of the whole machine (every core, every process, the kernel) during the phase."""
    error_sample: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def server_cpu_seconds(self) -> float:
        return sum(self.worker_cpu_seconds)

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_seconds / self.requests if self.requests else 0.0

    def cores(self, cpu_seconds: float) -> float:
        return cpu_seconds / self.seconds if self.seconds > 0 else 0.0

    @property
    def rest_cores(self) -> float:
        """Cores busy with anything but the server workers and the load generator."""
        rest = (
            self.machine_cpu_seconds
            - self.server_cpu_seconds
            - self.generator_cpu_seconds
            - self.database_cpu_seconds
        )
        return max(0.0, self.cores(rest))


@dataclass(frozen=True)
class MemorySample:
    """Resident memory of each server worker at one moment."""

    label: str
    seconds: float
    """Since the server answered its first /healthz."""
    rss_kib: tuple[int, ...]

    @property
    def total_mib(self) -> float:
        return sum(self.rss_kib) / 1024


@dataclass(frozen=True)
class HttpBenchResult:
    backend: str
    people: int
    reads: int
    connections: int
    workers: int
    generator: str
    bare: Load
    authorised: Load
    lookup: Load | None
    memory: tuple[MemorySample, ...]
    audit_reads: int
    """``subject.read`` audit entries found after the run (warm-up included)."""
    audit_verified: int
    """Entries of the whole log whose hash chain was verified."""
    startup_seconds: float
    busy_before: float
    """Cores already in use on the machine just before the run (other processes)."""
    baseline_bare: Load | None = None
    """The raw ASGI ``/healthz`` of :mod:`benchmarks.baseline_app` on the same uvicorn."""
    baseline_read: Load | None = None
    """The plain FastAPI + SQLAlchemy app reading the same three fields in clear."""
    baseline_lookup: Load | None = None
    """The plain app finding each person by an indexed e-mail column, the same three fields."""

    @property
    def errors(self) -> int:
        return sum(load.errors for load in self.loads)

    @property
    def loads(self) -> tuple[Load, ...]:
        return (self.bare, self.authorised) + ((self.lookup,) if self.lookup else ())

    @property
    def goal_met(self) -> bool:
        return self.errors == 0 and self.authorised.rate >= GOAL

    def memory_growth_kib(self) -> tuple[int, ...]:
        """Each worker's RSS at the end of the authorised reads minus just before them."""
        start = next(s for s in self.memory if s.label == "before authorised reads")
        end = next(s for s in self.memory if s.label == "after authorised reads")
        return tuple(b - a for a, b in zip(start.rss_kib, end.rss_kib, strict=True))


# -- the server's processes ------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds) of a process, from /proc."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # pragma: no cover - a zombie has no VmRSS line


def _workers(server: int) -> list[int]:
    """The uvicorn worker processes of the server (children started by multiprocessing)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent, _ = _stat(int(entry.name))
            if parent != server:
                continue
            if b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return sorted(found)


class _Server:
    """``mamori serve`` as a child process, in its own process group."""

    def __init__(
        self,
        env: dict[str, str],
        port: int,
        workers: int,
        log: Path,
        python: str,
        command: Sequence[str] | None = None,
    ) -> None:
        self.port = port
        self.workers_wanted = workers
        self.log = log
        self.base = f"http://127.0.0.1:{port}"
        if command is None:
            command = [python, "-m", "mamori.cli", "serve", "--host", "127.0.0.1"]
            command += ["--port", str(port), "--workers", str(workers)]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pids: list[int] = []

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def wait_ready(self, timeout: float = 90.0) -> float:
        """Wait until /healthz answers 200 and every worker runs; seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        with httpx.Client(base_url=self.base, timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise MamoriError(
                        f"the server exited with status {self.process.returncode}:\n{self.tail()}"
                    )
                if time.monotonic() > deadline:
                    raise MamoriError(
                        f"the server did not answer in {timeout:.0f} s\n{self.tail()}"
                    )
                try:
                    ready = client.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ready = False
                if ready:
                    self.pids = _workers(self.process.pid)
                    if len(self.pids) >= self.workers_wanted:
                        # Every worker answers before the measurement starts (each has its
                        # database connections and imports); 40 new connections reach both.
                        for _ in range(40):
                            with httpx.Client(base_url=self.base, timeout=10.0) as fresh:
                                fresh.get("/healthz").raise_for_status()
                        return time.monotonic() - started
                time.sleep(0.1)

    def cpu_seconds(self) -> tuple[float, ...]:
        """CPU seconds each worker has used so far."""
        used = []
        for pid in self.pids:
            try:
                used.append(_stat(pid)[1])
            except OSError:
                used.append(0.0)
        return tuple(used)

    def connections(self) -> tuple[int, ...]:
        """Established TCP connections to the server's port held by each worker."""
        mine = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError), open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == self.port:
                        mine.add(fields[9])  # the socket's inode
        counts = []
        for pid in self.pids:
            held = 0
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        target = os.readlink(fd)
                        held += target.startswith("socket:[") and target[8:-1] in mine
            counts.append(held)
        return tuple(counts)

    def rss(self) -> tuple[int, ...]:
        sizes = []
        for pid in self.pids:
            try:
                sizes.append(_rss_kib(pid))
            except OSError:
                sizes.append(0)
        return tuple(sizes)

    def check_workers(self) -> None:
        if self.process.poll() is not None:
            raise MamoriError(f"the server exited during the run:\n{self.tail()}")
        now = _workers(self.process.pid)
        if now != self.pids:
            raise MamoriError(
                f"server workers changed during the run ({self.pids} -> {now}): one was "
                f"restarted\n{self.tail()}"
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class _MemorySampler:
    """Samples the workers' RSS every ``interval`` seconds on a thread, and on request."""

    def __init__(self, server: _Server, interval: float = 1.0) -> None:
        self.server = server
        self.interval = interval
        self.started = time.monotonic()
        self.samples: list[MemorySample] = []
        self.phase = "warm-up"
        self.connections: dict[str, tuple[int, ...]] = {}
        """The most connections seen per worker during each phase."""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def mark(self, label: str) -> None:
        self._take(label)

    def _take(self, label: str) -> None:
        sample = MemorySample(label, time.monotonic() - self.started, self.server.rss())
        with self._lock:
            self.samples.append(sample)

    def _loop(self) -> None:
        tick = 0
        while not self._stop.wait(self.interval / 4):  # connections 4 times per interval
            tick += 1
            phase = self.phase
            if tick % 4 == 0:
                self._take(f"during {phase}")
            held = self.server.connections()
            with self._lock:
                if sum(held) > sum(self.connections.get(phase, ())):
                    self.connections[phase] = held

    def connections_of(self, phase: str) -> tuple[int, ...]:
        with self._lock:
            return self.connections.get(phase, ())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# -- load generators -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    error_sample: str = ""


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


_LUA = """\
-- Generated by `./dev bench vault-http`: walks the paths, counts, checks every status.
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local n = #paths
local quota = %(quota)d
local threads = {}
local created = 0
wrk.headers["Authorization"] = "Bearer %(token)s"

function setup(thread)
  thread:set("number", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  answered = 0
  bad = 0
  first_bad = 0
  position = (number * 104729) %% n
end

function request()
  position = (position + 7919) %% n
  return wrk.format("GET", paths[position + 1])
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then
    bad = bad + 1
    if first_bad == 0 then first_bad = status end
  end
  if answered == quota then
    io.write("mamori-thread-done\\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad_total, status = 0, 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    if status == 0 then status = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    "mamori-result {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, " ..
    "\\"p99_us\\": %%d, \\"non_200\\": %%d, \\"first_bad\\": %%d, \\"connect\\": %%d, " ..
    "\\"read\\": %%d, \\"write\\": %%d, \\"timeout\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad_total, status, e.connect, e.read, e.write, e.timeout))
end
"""


def _plain_line(text: str) -> str:
    if any(c in text for c in '"\\\n\r'):
        raise ValueError(f"cannot be given to the Lua script: {text!r}")
    return text


class _Wrk:
    """``wrk`` with one thread (it needs a small share of a core at these rates)."""

    name = "wrk"

    def __init__(self, base: str, token: str, folder: Path) -> None:
        self.base = base
        self.token = token
        self.folder = folder
        self.threads = 1

    def run(self, paths: Sequence[str], count: int, connections: int) -> _Raw:
        threads = max(1, min(self.threads, connections))
        quota = math.ceil(count / threads)
        listed = self.folder / "paths.txt"
        listed.write_text("".join(_plain_line(p) + "\n" for p in paths), encoding="utf-8")
        script = self.folder / "load.lua"
        script.touch(mode=0o600)  # it holds the API key
        script.write_text(
            _LUA % {"paths": _plain_line(str(listed)), "quota": quota, "token": self.token},
            encoding="utf-8",
        )
        limit = int(30 + count / MIN_RATE)
        command = [str(WRK), "-t", str(threads), "-c", str(connections), "-d", f"{limit}s"]
        command += ["--timeout", "30s", "-s", str(script), self.base]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None
        finished = 0
        result: dict[str, int] | None = None
        lines: list[str] = []
        try:
            for raw in process.stdout:
                line = raw.decode(errors="replace").rstrip()
                lines.append(line)
                if line == "mamori-thread-done":
                    finished += 1
                    if finished == threads:  # wrk sleeps out its -d unless interrupted
                        process.send_signal(signal.SIGINT)
                elif line.startswith("mamori-result "):
                    result = orjson.loads(line.removeprefix("mamori-result "))
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()
        if result is None:
            raise MamoriError("wrk printed no result:\n" + "\n".join(lines[-15:]))
        socket_errors = result["connect"] + result["read"] + result["write"] + result["timeout"]
        errors = result["non_200"] + socket_errors
        short = max(0, count - result["requests"])  # stopped by its time limit
        sample = ""
        if result["non_200"]:
            sample = f"HTTP {result['first_bad']}"
        elif socket_errors:
            sample = (
                f"socket errors: connect {result['connect']}, read {result['read']}, "
                f"write {result['write']}, timeout {result['timeout']}"
            )
        elif short:
            sample = f"{short} requests not done within {limit} s"
        return _Raw(
            requests=result["requests"],
            seconds=result["duration_us"] / 1e6,
            p50_ms=result["p50_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
            errors=errors + short,
            error_sample=sample,
        )


@dataclass(frozen=True)
class _Job:
    base: str
    token: str
    paths: tuple[str, ...]
    count: int
    threads: int
    offset: int
    deadline_seconds: float


def _python_process(job: _Job, go: Any, results: Any) -> None:
    """One generator process: ``job.threads`` threads, one keep-alive connection each."""
    lock = threading.Lock()
    issued = 0
    errors = 0
    sample = ""
    latencies: list[array[float]] = []
    n = len(job.paths)

    def take() -> int | None:
        nonlocal issued
        with lock:
            if issued >= job.count:
                return None
            issued += 1
            return issued

    def worker() -> None:
        nonlocal errors, sample
        mine: array[float] = array("d")
        headers = {"Authorization": f"Bearer {job.token}"}
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(base_url=job.base, headers=headers, limits=limits, timeout=30) as http:
            go.wait()
            deadline = time.monotonic() + job.deadline_seconds
            while (k := take()) is not None and time.monotonic() < deadline:
                path = job.paths[(job.offset + k * 7919) % n]
                began = time.perf_counter()
                try:
                    status = http.get(path).status_code
                    problem = "" if status == 200 else f"HTTP {status}"
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                mine.append(time.perf_counter() - began)
                if problem:
                    with lock:
                        errors += 1
                        sample = sample or problem
        with lock:
            latencies.append(mine)

    pool = [threading.Thread(target=worker) for _ in range(job.threads)]
    for thread in pool:
        thread.start()
    go.wait()
    began = time.monotonic()
    for thread in pool:
        thread.join()
    ended = time.monotonic()
    merged: array[float] = array("d")
    for part in latencies:
        merged.extend(part)
    results.put((began, ended, merged.tobytes(), errors, sample, job.count - len(merged)))


class _PythonLoad:
    """Processes of threads with httpx clients, started before the clock starts."""

    name = "python"

    def __init__(self, base: str, token: str, processes: int = 2) -> None:
        self.base = base
        self.token = token
        self.processes = processes

    def run(self, paths: Sequence[str], count: int, connections: int) -> _Raw:
        context = multiprocessing.get_context("spawn")
        processes = max(1, min(self.processes, connections, count))
        go = context.Event()
        results = context.Queue()
        deadline = 30 + count / MIN_RATE
        jobs = []
        for p in range(processes):
            share = count // processes + (1 if p < count % processes else 0)
            threads = connections // processes + (1 if p < connections % processes else 0)
            offset = p * max(1, len(paths) // processes)
            jobs.append(_Job(self.base, self.token, tuple(paths), share, threads, offset, deadline))
        children = [
            context.Process(target=_python_process, args=(job, go, results), daemon=True)
            for job in jobs
        ]
        for child in children:
            child.start()
        try:
            time.sleep(0.2)  # a moment for the clients to be built (the clock starts at go)
            go.set()
            collected = [results.get(timeout=deadline + 120) for _ in children]
        finally:
            for child in children:
                child.join(timeout=10)
                if child.is_alive():  # pragma: no cover - a stuck generator process
                    child.kill()
        began = min(c[0] for c in collected)
        ended = max(c[1] for c in collected)
        latencies: array[float] = array("d")
        for c in collected:
            latencies.frombytes(c[2])
        ordered = sorted(latencies)
        errors = sum(c[3] + c[5] for c in collected)
        sample = next((c[4] for c in collected if c[4]), "")
        if not sample and errors:
            sample = f"requests not done within {deadline:.0f} s"
        return _Raw(
            requests=len(ordered),
            seconds=ended - began,
            p50_ms=_percentile(ordered, 0.50) * 1000,
            p99_ms=_percentile(ordered, 0.99) * 1000,
            errors=errors,
            error_sample=sample,
        )


def _machine_cpu() -> float:
    """CPU seconds the machine has spent busy (all cores, all processes, the kernel)."""
    with open("/proc/stat") as stat:
        fields = [int(f) for f in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return (sum(fields[:8]) - idle) / _TICK


def _postgres_cpu() -> float:
    """CPU seconds of the processes named ``postgres`` on this machine (a local server)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if text[text.index("(") + 1 : text.rindex(")")] == "postgres":
                fields = text[text.rindex(")") + 2 :].split()
                total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def _processes_started() -> int:
    """Processes started on the machine since it booted (``processes`` in /proc/stat)."""
    with open("/proc/stat") as stat:
        for line in stat:
            if line.startswith("processes "):
                return int(line.split()[1])
    return 0  # pragma: no cover - every Linux kernel has the line


def _busy_cores(seconds: float = 1.0) -> float:
    """Cores in use on the machine, measured over ``seconds``."""
    before = _machine_cpu()
    time.sleep(seconds)
    return (_machine_cpu() - before) / seconds


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- the run ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _seed(
    url: str, folder: Path, master_key: str, people: int, progress: Callable[[str], None]
) -> tuple[list[str], str]:
    """Publish the policy, store the people, create the key; (subject ids, API key)."""
    from mamori.app import open_runtime
    from mamori.vault import service_keys
    from mamori.vault.access import Caller

    settings = load_settings(database_url=url, data_dir=folder, master_key=master_key)
    runtime = open_runtime(settings, initialise=True, actor="bench")
    try:
        host = Caller(actor_id="system:bench", purposes=frozenset({PURPOSE}))
        ids = []
        for n in range(people):
            if n % 500 == 0:
                progress(f"storing people: {n:,} of {people:,}")
            ids.append(runtime.vault.create_subject(host, type="customer", items=person(n)))
        _, token = service_keys.create(
            runtime.engine,
            runtime.audit,
            name="vault-http benchmark",
            purposes=[PURPOSE],
            operations=["read"],
            actor="bench",
        )
    finally:
        runtime.close()
    return ids, token


def _server_env(url: str, folder: Path, master_key: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(
        MAMORI_DATABASE_URL=url,
        MAMORI_DATA_DIR=str(folder),
        MAMORI_MASTER_KEY=master_key,
        MAMORI_HOST="127.0.0.1",
        MAMORI_PORT=str(port),
        MAMORI_LOG_LEVEL="warning",  # no access log line per request
        PYTHONUNBUFFERED="1",
    )
    return env


def _audit_check(url: str) -> tuple[int, int]:
    """(``subject.read`` entries, entries verified) once the server has stopped."""
    engine = db.create_engine(url)
    try:
        with db.read(engine) as conn:
            reads = conn.execute(
                sa.text("SELECT count(*) FROM audit_entries WHERE action = 'subject.read'")
            ).scalar_one()
        report = AuditLog(engine).verify()
        report.raise_for_mismatch()
    finally:
        engine.dispose()
    return int(reads), report.entries


def _pick_generator(choice: Generator, base: str, token: str, folder: Path) -> _Wrk | _PythonLoad:
    if choice == "wrk" or (choice == "auto" and WRK.exists()):
        return _Wrk(base, token, folder)
    return _PythonLoad(base, token)


def _phase(
    server: _Server,
    load: _Wrk | _PythonLoad,
    label: str,
    paths: Sequence[str],
    reads: int,
    connections: int,
    database_cpu: Callable[[], float],
    worker_connections: Callable[[str], tuple[int, ...]] | None = None,
) -> Load:
    """One phase of ``reads`` requests over ``paths``, with where the CPU went."""
    cpu_before, gen_before = server.cpu_seconds(), _children_cpu()
    machine_before, database_before = _machine_cpu(), database_cpu()
    forks_before = _processes_started()
    raw = load.run(paths, reads, connections)
    cpu_after, gen_after = server.cpu_seconds(), _children_cpu()
    machine_after, database_after = _machine_cpu(), database_cpu()
    forks = _processes_started() - forks_before
    server.check_workers()
    phase = label.split(":")[0]
    return Load(
        label=label,
        requests=raw.requests,
        seconds=raw.seconds,
        p50_ms=raw.p50_ms,
        p99_ms=raw.p99_ms,
        errors=raw.errors,
        worker_cpu_seconds=tuple(a - b for a, b in zip(cpu_after, cpu_before, strict=True)),
        worker_connections=worker_connections(phase) if worker_connections else (),
        generator_cpu_seconds=gen_after - gen_before,
        database_cpu_seconds=database_after - database_before,
        machine_cpu_seconds=machine_after - machine_before,
        processes_started=forks,
        error_sample=raw.error_sample,
    )


def _baseline(
    scratch: str,
    folder: Path,
    ids: Sequence[str],
    reads: int,
    connections: int,
    workers: int,
    generator: Generator,
    database_cpu: Callable[[], float],
    say: Callable[[str], None],
    lookup: bool = False,
) -> list[Load]:
    """The same requests against :mod:`benchmarks.baseline_app`: bare, the plain read, and with
    ``lookup`` the plain lookup by e-mail."""
    from benchmarks import baseline_app

    url = f"sqlite:///{folder / 'plain.db'}" if scratch.startswith("sqlite") else scratch
    say("storing the same people in clear for the plain app")
    baseline_app.seed(url, [(subject, person(n)) for n, subject in enumerate(ids)])
    token = secrets.token_urlsafe(32)
    port = _free_port()
    env = {**os.environ, baseline_app.TOKEN_VARIABLE: token, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "benchmarks.baseline_app", url, str(port), str(workers)]
    server = _Server(env, port, workers, folder / "baseline.log", sys.executable, command)
    try:
        server.wait_ready()
        load = _pick_generator(generator, server.base, token, folder)
        reading = tuple(f"/people/{subject}?fields={','.join(ITEMS)}" for subject in ids)
        phases = [("bare: raw ASGI /healthz", ("/healthz",)), ("plain read", reading)]
        if lookup:
            finding = tuple(
                f"/people?email={quote(person(n)['email'], safe='')}&fields={','.join(ITEMS)}"
                for n in range(len(ids))
            )
            phases.append(("plain lookup by e-mail", finding))
        warm = min(max(reads // 10, 100), 5000)
        for label, paths in phases:
            raw = load.run(paths, warm, connections)
            if raw.errors:
                raise MamoriError(f"warm-up of {label}: {raw.errors} errors ({raw.error_sample})")
        found = []
        for label, paths in phases:
            say(f"measuring the baseline's {label}: {reads:,} requests")
            found.append(_phase(server, load, label, paths, reads, connections, database_cpu))
    finally:
        server.stop()
    return found


def run(
    url: str | None,
    *,
    people: int,
    reads: int,
    connections: int = 32,
    workers: int = 2,
    lookup: bool = True,
    generator: Generator = "auto",
    progress: Callable[[str], None] | None = None,
) -> HttpBenchResult:
    """Measure over HTTP on a temporary database next to ``url`` (``None``: temporary SQLite)."""
    if people < 1 or reads < 1 or connections < 1 or workers < 1:
        raise ValueError("people, reads, connections and workers must be positive")
    if generator == "wrk" and not WRK.exists():
        raise UserInputError(f"--generator wrk: {WRK} is missing (apt-get install wrk)")
    say = progress or (lambda _text: None)
    say("measuring how busy the machine is")
    busy_before = _busy_cores()
    master_key = f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}"
    with (
        _scratch_database(url) as (scratch, where),
        tempfile.TemporaryDirectory(prefix="mamori-bench-http-") as tmp,
    ):
        folder = Path(tmp)
        say(f"storing {people:,} people")
        ids, token = _seed(scratch, folder / "data", master_key, people, say)
        port = _free_port()
        say(f"starting the server on 127.0.0.1:{port} with {workers} workers")
        server = _Server(
            _server_env(scratch, folder / "data", master_key, port),
            port,
            workers,
            folder / "server.log",
            sys.executable,
        )
        sampler: _MemorySampler | None = None
        try:
            startup = server.wait_ready()
            sampler = _MemorySampler(server)
            sampler.mark("after start-up")
            sampler.start()
            postgres = not scratch.startswith("sqlite")
            database_cpu: Callable[[], float] = _postgres_cpu if postgres else lambda: 0.0
            load = _pick_generator(generator, server.base, token, folder)
            reading = tuple(
                f"/api/v1/subjects/{subject}/items?purpose={PURPOSE}&items={','.join(ITEMS)}"
                for subject in ids
            )
            finding = tuple(
                f"/api/v1/subjects/items?item=email&value={quote(person(n)['email'], safe='')}"
                f"&purpose={PURPOSE}&items={','.join(ITEMS)}"
                for n in range(people)
            )
            phases: list[tuple[str, tuple[str, ...]]] = [
                ("bare: GET /healthz", ("/healthz",)),
                ("authorised: read 3 items by id", reading),
            ]
            if lookup:
                phases.append(("lookup by e-mail + read 3 items", finding))
            warm = min(max(reads // 10, 100), 5000)
            say(f"warming up ({warm:,} requests of each kind, {load.name})")
            for label, paths in phases:
                raw = load.run(paths, warm, connections)
                if raw.errors:
                    raise MamoriError(
                        f"warm-up of {label}: {raw.errors} errors ({raw.error_sample})"
                    )
            server.check_workers()
            sampler.mark("after warm-up")
            figures: list[Load] = []
            for label, paths in phases:
                phase = sampler.phase = label.split(":")[0]
                if phase == "authorised":
                    sampler.mark("before authorised reads")
                say(f"measuring {label}: {reads:,} requests, {connections} connections")
                figures.append(
                    _phase(
                        server,
                        load,
                        label,
                        paths,
                        reads,
                        connections,
                        database_cpu,
                        sampler.connections_of,
                    )
                )
                if label.startswith("authorised"):
                    sampler.mark("after authorised reads")
            sampler.mark("end")
        finally:
            if sampler is not None:
                sampler.close()
            server.stop()
        baseline = _baseline(
            scratch, folder, ids, reads, connections, workers, generator, database_cpu, say, lookup
        )
        say("counting and verifying the audit entries")
        audit_reads, audit_verified = _audit_check(scratch)
        return HttpBenchResult(
            backend=where,
            people=people,
            reads=reads,
            connections=connections,
            workers=workers,
            generator=load.name,
            bare=figures[0],
            authorised=figures[1],
            lookup=figures[2] if lookup else None,
            memory=tuple(sampler.samples),
            audit_reads=audit_reads,
            audit_verified=audit_verified,
            startup_seconds=startup,
            busy_before=busy_before,
            baseline_bare=baseline[0],
            baseline_read=baseline[1],
            baseline_lookup=baseline[2] if lookup else None,
        )


# -- output -----------------------------------------------------------------------------------


def _memory_points(samples: Sequence[MemorySample], during: int = 5) -> list[MemorySample]:
    """The labelled samples, and ``during`` evenly spaced ones taken during the authorised reads."""
    labelled = [s for s in samples if not s.label.startswith("during ")]
    inside = [s for s in samples if s.label == "during authorised"]
    picked: list[MemorySample] = []
    if inside:
        step = max(1, len(inside) // during)
        picked = inside[step - 1 :: step][:during]
    return sorted(labelled + picked, key=lambda s: s.seconds)


def render(result: HttpBenchResult) -> list[Table]:
    """The figures, where the CPU went, and the workers' memory."""
    table = Table(
        title=(
            f"mamori vault over HTTP: {result.reads:,} requests of each kind, "
            f"{result.connections} connections ({result.generator}), "
            f"{result.workers} server workers, {result.people:,} people"
        ),
        caption=f"{result.backend}\n{machine()}",
    )
    table.add_column("request")
    table.add_column("requests/s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("errors", justify="right")
    for load in result.loads:
        table.add_row(
            load.label,
            f"{load.rate:,.0f}",
            f"{load.p50_ms:.2f}",
            f"{load.p99_ms:.2f}",
            str(load.errors) if not load.errors else f"[red]{load.errors}[/red]",
        )
    table.add_section()
    table.add_row("authorised / bare", f"{result.authorised.rate / result.bare.rate:.2f}x")
    cpu = Table(
        title="where the CPU went",
        caption=(
            "server CPU per request; client connections and cores (CPU seconds per second) of "
            "each worker; cores of PostgreSQL, of the load generator and of everything else; "
            "processes started on the machine"
        ),
    )
    cpu.add_column("request")
    cpu.add_column("CPU ms/req", justify="right")
    cpu.add_column("conns/worker", justify="right")
    cpu.add_column("cores/worker", justify="right")
    cpu.add_column("PG cores", justify="right")
    cpu.add_column("gen. cores", justify="right")
    cpu.add_column("other cores", justify="right")
    cpu.add_column("new procs", justify="right")
    for load in result.loads:
        cpu.add_row(
            load.label.split(":")[0],
            f"{load.cpu_ms_per_request:.2f}",
            "/".join(str(n) for n in load.worker_connections) or "-",
            "/".join(f"{load.cores(used):.2f}" for used in load.worker_cpu_seconds),
            f"{load.cores(load.database_cpu_seconds):.2f}",
            f"{load.cores(load.generator_cpu_seconds):.2f}",
            f"{load.rest_cores:.2f}",
            f"{load.processes_started:,}",
        )
    tables = [table, cpu]
    if result.baseline_bare is not None and result.baseline_read is not None:
        tables.append(_side_by_side(result, result.baseline_bare, result.baseline_read))
    memory = Table(title="resident memory of the server workers (MiB)")
    memory.add_column("when")
    memory.add_column("seconds", justify="right")
    for n in range(result.workers):
        memory.add_column(f"worker {n + 1}", justify="right")
    memory.add_column("total", justify="right")
    for sample in _memory_points(result.memory):
        memory.add_row(
            sample.label,
            f"{sample.seconds:.0f}",
            *(f"{kib / 1024:.1f}" for kib in sample.rss_kib),
            f"{sample.total_mib:.1f}",
        )
    return [*tables, memory]


def _side_by_side(result: HttpBenchResult, bare: Load, plain: Load) -> Table:
    """mamori beside the baseline app of the same run (issue 17's goals)."""
    side = Table(
        title="side by side, same run: mamori and a service without it (benchmarks/baseline_app)",
        caption=(
            "goals (issue 17): the authorised read at least 1.0x the plain FastAPI + SQLAlchemy"
            " read; mamori's /healthz at most 0.5 ms of server CPU"
        ),
    )
    side.add_column("request")
    side.add_column("mamori req/s", justify="right")
    side.add_column("baseline req/s", justify="right")
    side.add_column("mamori / baseline", justify="right")
    side.add_column("mamori CPU ms/req", justify="right")
    side.add_column("baseline CPU ms/req", justify="right")
    rows = [
        (result.bare, bare, "bare (/healthz; baseline: raw ASGI)"),
        (result.authorised, plain, "read 3 items (baseline: plain table)"),
    ]
    if result.lookup is not None and result.baseline_lookup is not None:
        rows.append(
            (result.lookup, result.baseline_lookup, "lookup by e-mail (baseline: indexed column)")
        )
    for mine, theirs, label in rows:
        side.add_row(
            label,
            f"{mine.rate:,.0f}",
            f"{theirs.rate:,.0f}",
            f"{mine.rate / theirs.rate:.2f}x" if theirs.rate else "-",
            f"{mine.cpu_ms_per_request:.2f}",
            f"{theirs.cpu_ms_per_request:.2f}",
        )
    return side


def summary(result: HttpBenchResult) -> list[str]:
    """The verdict lines printed under the tables."""
    lines = [
        f"authorised reads: {result.authorised.rate:,.0f}/s, goal {GOAL:,.0f}/s: "
        + ("[green]met[/green]" if result.goal_met else "[red]NOT met[/red]"),
        f"resident memory across the {result.reads:,} authorised reads: "
        + ", ".join(
            f"worker {n + 1} {kib / 1024:+.1f} MiB"
            for n, kib in enumerate(result.memory_growth_kib())
        ),
        f"audit: {result.audit_reads:,} read entries, the chain of {result.audit_verified:,} "
        "entries verified",
    ]
    if result.baseline_read is not None and result.baseline_read.rate:
        ratio = result.authorised.rate / result.baseline_read.rate
        lines.append(
            f"authorised read / plain app: {ratio:.2f}x, goal 1.0x: "
            + ("[green]met[/green]" if ratio >= 1.0 else "[red]NOT met[/red]")
        )
    if result.lookup is not None and result.baseline_lookup and result.baseline_lookup.rate:
        ratio = result.lookup.rate / result.baseline_lookup.rate
        lines.append(
            f"lookup by e-mail / plain app: {ratio:.2f}x, goal 1.0x: "
            + ("[green]met[/green]" if ratio >= 1.0 else "[red]NOT met[/red]")
        )
    lines.append(
        f"/healthz: {result.bare.cpu_ms_per_request:.2f} ms of server CPU, goal 0.5 ms: "
        + ("[green]met[/green]" if result.bare.cpu_ms_per_request <= 0.5 else "[red]NOT met[/red]")
    )
    busiest = max(load.rest_cores for load in result.loads)
    if result.busy_before > 0.25 or busiest > 0.5:
        lines.append(
            f"[yellow]the machine was not quiet: {result.busy_before:.2f} cores in use before the "
            f"run, up to {busiest:.2f} cores busy with other work during it (the kernel, other "
            "processes, processes that exited such as short-lived database backends); rates are "
            "lower than on a quiet machine[/yellow]"
        )
    for load in result.loads:
        if load.errors:
            lines.append(f"[red]{load.label}: {load.errors} errors, e.g. {load.error_sample}[/red]")
    return lines


def main(
    url: str | None = None,
    people: int = 2000,
    reads: int = 20000,
    connections: int = 32,
    workers: int = 2,
    lookup: bool = True,
    generator: Generator = "auto",
    console: Console | None = None,
) -> HttpBenchResult:
    """Run the benchmark and print its tables (``./dev bench vault-http``)."""
    console = console or Console()
    if generator == "auto" and not WRK.exists():
        console.print(
            f"note: {WRK} is missing (apt-get install wrk); using the Python load generator, "
            "which needs much more CPU on this machine than wrk"
        )
    with console.status("preparing...") as status:
        result = run(
            url,
            people=people,
            reads=reads,
            connections=connections,
            workers=workers,
            lookup=lookup,
            generator=generator,
            progress=lambda text: status.update(text),
        )
    for table in render(result):
        console.print(table)
    for line in summary(result):
        console.print(line)
    return result
