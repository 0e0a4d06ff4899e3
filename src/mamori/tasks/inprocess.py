"""The embedded default's task runner: periodic jobs and mail delivery in a background thread.

``mamori serve`` starts one per server process when no broker is configured. It runs each
job of the runtime's parts that the settings switch on once at start and then every period,
and runs mail delivery at once when a transaction that queued mail commits (the mailer's
dispatcher wakes it). A failing job is logged by the type of its error (never its text) and
runs again at its next period.

Every server process runs a runner, and each job still runs once per period across them: a
scheduled run first claims its period in the database (:func:`mamori.tasks.storage.claim`) and
is skipped when another process took it. A run asked for at once (mail queued by this process)
does not wait for a period.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mamori.tasks import storage

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
        self.skipped: dict[str, int] = {}
        """How many scheduled runs another process had taken (tests, diagnostics)."""
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        """Who this runner is in ``job_runs`` (no personal data)."""

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
                    period = job.period(self.runtime.settings)
                    if job.name in soon or self._claim(job, period):
                        self._run(job)
                    next_run[job.name] = time.monotonic() + period
            wait = min(next_run.values(), default=now + 60.0) - time.monotonic()
            self._wake.wait(timeout=max(0.0, wait))
            self._wake.clear()

    def _claim(self, job: Job, period: int) -> bool:
        """Whether this runner takes the job's current period (False: another process did)."""
        try:
            # Wall-clock time, like the schedule: a runtime's clock may be a test's, held still.
            now = dt.datetime.now(dt.UTC)
            taken = storage.claim(self.runtime.engine, job.name, self.holder, now, period)
        except Exception as exc:  # the database away: run anyway (jobs are idempotent)
            log.error("claiming job %s failed: %s", job.name, type(exc).__name__)
            return True
        if not taken:
            self.skipped[job.name] = self.skipped.get(job.name, 0) + 1
        return taken

    def _run(self, job: Job) -> None:
        try:
            job.run(self.runtime)
        except Exception as exc:  # keep the thread alive; the next period retries
            log.error("background job %s failed: %s", job.name, type(exc).__name__)
        self.runs[job.name] = self.runs.get(job.name, 0) + 1
