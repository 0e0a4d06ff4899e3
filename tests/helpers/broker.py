"""A real `mamori worker` process on the broker named by ``MAMORI_TEST_BROKER_URL``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mamori.app import Runtime
from mamori.tasks.celery_app import create_celery

BROKER = os.environ.get("MAMORI_TEST_BROKER_URL", "").strip()

marks = [
    pytest.mark.broker,
    pytest.mark.skipif(not BROKER, reason="set MAMORI_TEST_BROKER_URL to a Redis or RabbitMQ URL"),
]


def broker_settings() -> dict[str, Any]:
    """Settings of a runtime on the test broker, on a queue of its own."""
    return {
        "mail_retry_seconds": 1,
        "task_broker_url": BROKER,
        "task_queue": f"mamori-test-{uuid.uuid4().hex[:12]}",
    }


def drop_queue(runtime: Runtime) -> None:
    """Leave nothing behind on the broker."""
    app = create_celery(runtime.settings, lambda: runtime)
    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete(runtime.settings.task_queue)  # type: ignore[attr-defined]


@contextmanager
def running_worker(
    runtime: Runtime, log: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[Path]:
    """`mamori worker` (worker and beat) as a separate process, as in production."""
    settings = runtime.settings
    env = {
        **os.environ,
        "MAMORI_DATA_DIR": str(settings.data_dir),
        "MAMORI_DATABASE_URL": settings.effective_database_url,
        "MAMORI_TASK_BROKER_URL": BROKER,
        "MAMORI_TASK_QUEUE": settings.task_queue,
        "MAMORI_SMTP_HOST": settings.smtp_host,
        "MAMORI_SMTP_PORT": str(settings.smtp_port),
        "MAMORI_SMTP_TLS": "none",
        "MAMORI_MAIL_RETRY_SECONDS": "1",
        **(extra_env or {}),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mamori.cli", "worker", "--concurrency", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while b"ready." not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the worker did not start:\n" + log.read_text())
            time.sleep(0.1)
        yield log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
