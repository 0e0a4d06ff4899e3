"""The embedded default's task runner: periodic jobs and mail delivery in a background thread.

``mamori serve`` starts one per server process when no broker is configured. It runs each
job of the runtime's parts that the settings switch on once at start and then every period,
and runs mail delivery at once when a transaction that queued mail commits (the mailer's
dispatcher wakes it). A failing job is logged by the type of its error (never its text) and
runs again at its next period.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mamori.app import Job, Runtime

__all__ = ["InProcessRunner"]

log = logging.getLogger("mamori.tasks")

MAIL_JOB = "mail.deliver"


class InProcessRunner:
    """Runs the jobs of ``runtime`` in one daemon thread until :meth:`stop`."""

    def __init__(self, runtime: Runtime, jobs: Sequence[Job] | None = None) -> None:
        self.runtime = runtime
        self.jobs = list(jobs) if jobs is not None else runtime.parts.enabled_jobs(runtime.settings)
        """What this runner runs: the runtime's jobs that the settings switch on, unless given."""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._soon: set[str] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="mamori-tasks", daemon=True)
        self.runs: dict[str, int] = {}
        """How many times each job ran (tests, diagnostics)."""

    def start(self) -> None:
        self.runtime.mail.add_dispatcher(self._mail_queued)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.runtime.mail.remove_dispatcher(self._mail_queued)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_soon(self, name: str) -> None:
        """Run job ``name`` now rather than at its next period."""
        with self._lock:
            self._soon.add(name)
        self._wake.set()

    def _mail_queued(self, _mail_ids: Sequence[str]) -> None:
        self.run_soon(MAIL_JOB)

    def _loop(self) -> None:
        next_run: dict[str, float] = {}
        jobs = self.jobs
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                soon, self._soon = self._soon, set()
            for job in jobs:
                if self._stop.is_set():
                    return
                if job.name in soon or now >= next_run.get(job.name, 0.0):
                    self._run(job)
                    next_run[job.name] = time.monotonic() + job.period(self.runtime.settings)
            wait = min(next_run.values(), default=now + 60.0) - time.monotonic()
            self._wake.wait(timeout=max(0.0, wait))
            self._wake.clear()

    def _run(self, job: Job) -> None:
        try:
            job.run(self.runtime)
        except Exception as exc:  # keep the thread alive; the next period retries
            log.error("background job %s failed: %s", job.name, type(exc).__name__)
        self.runs[job.name] = self.runs.get(job.name, 0) + 1
