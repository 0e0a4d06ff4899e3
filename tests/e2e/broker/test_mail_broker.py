"""Mail delivery and periodic jobs through a real Celery worker on a real broker.

Runs when ``MAMORI_TEST_BROKER_URL`` names a broker (``redis://127.0.0.1:6379/0`` or
``amqp://guest:guest@127.0.0.1:5672//``), skipped otherwise. `mamori worker` runs as a separate
process, as in production, on a queue of its own for this test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Runtime
from mamori.store import db
from mamori.tasks.background import start_background
from tests.helpers.broker import broker_settings, drop_queue, marks, running_worker
from tests.helpers.runtime import open_test_runtime
from tests.helpers.smtp import SmtpServer

pytestmark = marks


@pytest.fixture
def broker_runtime(tmp_path: Path, database_url: str, smtp_server: SmtpServer) -> Iterator[Runtime]:
    runtime = open_test_runtime(
        tmp_path,
        database_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        **broker_settings(),
    )
    yield runtime
    drop_queue(runtime)
    runtime.close()


@pytest.fixture
def worker(broker_runtime: Runtime, tmp_path: Path) -> Iterator[Path]:
    with running_worker(broker_runtime, tmp_path / "worker.log") as log:
        yield log


def _queue(runtime: Runtime, to: str) -> str:
    with db.write(runtime.engine) as conn:
        return runtime.mail.queue(conn, to=to, template="test", language="ja", context={})


def test_a_worker_delivers_mail_dispatched_after_commit_and_on_beat(
    broker_runtime: Runtime, smtp_server: SmtpServer, worker: Path
) -> None:
    # 1. The server's way: the commit hands the mail to the broker, the worker sends it.
    stop = start_background(broker_runtime)
    try:
        first = _queue(broker_runtime, "ichiro@example.jp")
        smtp_server.wait_for(1, timeout=15)
    finally:
        stop()
    # 2. No dispatch at all (say the broker was down at commit): beat's delivery job sends it.
    second = _queue(broker_runtime, "jiro@example.jp")
    messages = smtp_server.wait_for(2, timeout=15)
    assert sorted(m["To"] for m in messages) == ["ichiro@example.jp", "jiro@example.jp"]
    deadline = time.monotonic() + 10  # the worker records the result after the SMTP reply
    while True:
        with db.read(broker_runtime.engine) as conn:
            statuses = {m: broker_runtime.mail.summary(conn, m).status for m in (first, second)}
        if statuses == {first: "sent", second: "sent"} or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert statuses == {first: "sent", second: "sent"}
    log = worker.read_text()
    assert "mamori.mail.deliver" in log and "mamori.periodic" in log
    assert "example.jp" not in log  # the worker's log holds no address
