"""The Celery application: mamori's tasks on a broker (Redis or RabbitMQ), with beat.

Tasks: ``mamori.mail.deliver`` (sent by the mailer after a transaction that queued mail
commits; delivers everything due) and ``mamori.periodic`` (one job of the built-in parts, by
name, fired by beat at the job's period). A worker opens its own :class:`~mamori.app.Runtime`
on its first task, from the same ``MAMORI_*`` settings as the server; mail queued by a job in
the worker is dispatched to the broker too.

Tasks are acknowledged after they ran (``task_acks_late``) and are idempotent: a task lost with
a worker runs again, and delivering a mail twice is prevented by the outbox's claims. With no
broker configured the app is eager (a task runs in the caller), which the tests use.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from celery import Celery

from mamori.app.parts import BUILT_IN, Parts
from mamori.config import Settings
from mamori.tasks import storage

if TYPE_CHECKING:
    from mamori.app import Runtime

__all__ = [
    "DELIVER",
    "PERIODIC",
    "attach_dispatcher",
    "create_celery",
    "queue_depth",
    "worker_argv",
]

DELIVER = "mamori.mail.deliver"
PERIODIC = "mamori.periodic"


class _RuntimeHolder:
    """The worker's runtime, opened on first use (after the worker process started)."""

    def __init__(self, factory: Callable[[], Runtime]) -> None:
        self._factory = factory
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()

    def get(self) -> Runtime:
        if self._runtime is None:
            with self._lock:
                if self._runtime is None:
                    self._runtime = self._factory()
        return self._runtime


def create_celery(
    settings: Settings,
    runtime: Callable[[], Runtime] | None = None,
    *,
    parts: Parts = BUILT_IN,
) -> Celery:
    """The Celery app of ``settings``; ``runtime`` opens the runtime its tasks use (default:
    ``open_runtime(settings, parts=parts)`` with the broker dispatcher attached). Beat fires
    every job of ``parts`` that the settings switch on."""
    broker = settings.task_broker_url
    app = Celery("mamori", broker=broker or "memory://", set_as_current=False)
    app.conf.update(
        task_default_queue=settings.task_queue,
        task_always_eager=not broker,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        beat_scheduler="celery.beat:Scheduler",  # in memory: no schedule file to keep
        beat_schedule={
            f"mamori:{job.name}": {
                "task": PERIODIC,
                "schedule": float(job.period(settings)),
                "args": [job.name],
                "options": {"queue": settings.task_queue, "expires": job.period(settings)},
            }
            for job in parts.enabled_jobs(settings)
        },
        accept_content=["json"],
        task_serializer="json",
    )

    def open_default() -> Runtime:
        from mamori.app import open_runtime

        opened = open_runtime(settings, initialise=False, actor="system:worker", parts=parts)
        attach_dispatcher(app, opened)
        return opened

    holder = _RuntimeHolder(runtime or open_default)

    @app.task(name=DELIVER)
    def deliver(mail_ids: Sequence[str] = ()) -> int:
        return holder.get().mail.deliver_when_visible(list(mail_ids))

    @app.task(name=PERIODIC)
    def periodic(name: str) -> None:
        runtime = holder.get()
        job = runtime.parts.job(name)
        if job is None:  # a job removed since beat scheduled it: nothing to do
            return
        # Once per period even when two beats fire it (one beat is the rule; see the runbook).
        period = job.period(runtime.settings)
        beat = f"{socket.gethostname()}:{os.getpid()}:celery"
        if storage.claim(runtime.engine, name, beat, dt.datetime.now(dt.UTC), period):
            job.run(runtime)

    return app


def attach_dispatcher(app: Celery, runtime: Runtime) -> Callable[[Sequence[str]], None]:
    """Send a delivery task to the broker after each commit that queued mail."""

    def dispatch(mail_ids: Sequence[str]) -> None:
        app.send_task(DELIVER, args=[list(mail_ids)], queue=runtime.settings.task_queue)

    runtime.mail.add_dispatcher(dispatch)
    return dispatch


def worker_argv(settings: Settings, *, beat: bool, concurrency: int, loglevel: str) -> list[str]:
    """The arguments of ``celery worker`` that ``mamori worker`` runs."""
    argv = [
        "worker",
        f"--queues={settings.task_queue}",
        "--pool=threads",
        f"--concurrency={concurrency}",
        f"--loglevel={loglevel.upper()}",
        "--hostname=mamori@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        argv.append("--beat")
    return argv


def queue_depth(settings: Settings, *, timeout: int = 2) -> int | None:
    """Tasks waiting in the broker's queue (MAMORI_TASK_QUEUE); None without a broker or when
    the broker does not answer within ``timeout`` seconds (a scrape must not hang on it)."""
    if not settings.task_broker_url:
        return None
    from kombu import Connection

    try:
        with Connection(settings.task_broker_url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            channel: Any = conn.default_channel  # kombu types it without queue_declare
            declared = channel.queue_declare(settings.task_queue, passive=True)
            return int(declared.message_count)
    except Exception:  # any failure of the broker: the gauge is left out, the scrape goes on
        return None
