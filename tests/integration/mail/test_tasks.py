"""The task queue without a broker: the in-process runner inside `mamori serve`, and the Celery
tasks run eagerly (the broker test, test_broker.py, runs them on a real worker)."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from mamori.app import BUILT_IN, Job, Runtime
from mamori.app.parts import JobContext
from mamori.store import db
from mamori.tasks.celery_app import DELIVER, PERIODIC, create_celery
from mamori.tasks.inprocess import InProcessRunner
from mamori.web.app import create_app
from tests.helpers.smtp import SmtpServer


def _queue(runtime: Runtime, to: str = "shiro@example.jp") -> str:
    with db.write(runtime.engine) as conn:
        return runtime.mail.queue(conn, to=to, template="test", language="en", context={})


def test_mail_jobs_are_built_in() -> None:
    names = {job.name for job in BUILT_IN.jobs}
    assert {"mail.deliver", "mail.purge"} <= names


@pytest.mark.parametrize(
    ("name", "every"), [("Bad Name", 5), ("ok.name", 0), ("x" * 65, 5), ("", 5)]
)
def test_a_job_refuses_bad_names_and_periods(name: str, every: int) -> None:
    with pytest.raises(ValueError):
        Job(name, every, lambda runtime: None)


def test_the_runner_delivers_right_after_commit(
    smtp_runtime: Runtime, smtp_server: SmtpServer
) -> None:
    runner = InProcessRunner(smtp_runtime)
    runner.start()
    try:
        time.sleep(0.2)  # let the first round of jobs pass
        _queue(smtp_runtime)
        # Delivered by the runner, woken by the commit: long before the 1 s period.
        smtp_server.wait_for(1, timeout=0.9)
    finally:
        runner.stop()
    assert runner.runs["mail.deliver"] >= 2


def test_the_runner_runs_periodic_jobs_and_survives_failures(smtp_runtime: Runtime) -> None:
    calls: list[str] = []
    ran = threading.Event()

    def job(runtime: JobContext) -> None:
        calls.append(runtime.settings.task_queue)
        if len(calls) == 1:
            raise RuntimeError("the first run fails")
        ran.set()

    runner = InProcessRunner(smtp_runtime, jobs=[Job("test.every_second", 1, job)])
    try:
        runner.start()
        assert ran.wait(timeout=5)
    finally:
        runner.stop()
    assert calls[:2] == ["mamori", "mamori"]


def test_a_queue_in_a_rolled_back_transaction_wakes_nobody(
    smtp_runtime: Runtime, smtp_server: SmtpServer
) -> None:
    woken: list[list[str]] = []
    smtp_runtime.mail.add_dispatcher(lambda ids: woken.append(list(ids)))
    with pytest.raises(RuntimeError), db.write(smtp_runtime.engine) as conn:
        smtp_runtime.mail.queue(conn, to="a@example.jp", template="test", language="ja", context={})
        raise RuntimeError
    with db.write(smtp_runtime.engine) as conn:
        first = smtp_runtime.mail.queue(
            conn, to="b@example.jp", template="test", language="ja", context={}
        )
        second = smtp_runtime.mail.queue(
            conn, to="c@example.jp", template="test", language="ja", context={}
        )
        assert woken == []  # not before the commit
    assert woken == [[first, second]]


def test_the_server_delivers_mail_in_the_background(
    smtp_runtime: Runtime, smtp_server: SmtpServer
) -> None:
    with TestClient(create_app(runtime=smtp_runtime)):
        _queue(smtp_runtime)
        smtp_server.wait_for(1)


def test_celery_tasks_eagerly(smtp_runtime: Runtime, smtp_server: SmtpServer) -> None:
    app = create_celery(smtp_runtime.settings, lambda: smtp_runtime)
    assert app.conf.task_always_eager  # no broker configured
    schedule = app.conf.beat_schedule
    assert schedule["mamori:mail.deliver"]["schedule"] == 1.0  # MAMORI_MAIL_RETRY_SECONDS=1
    assert schedule["mamori:mail.purge"]["args"] == ["mail.purge"]
    mail_id = _queue(smtp_runtime)
    assert app.tasks[DELIVER].apply(args=([mail_id],)).get() == 1
    smtp_server.wait_for(1)
    _queue(smtp_runtime, to="goro@example.jp")
    app.tasks[PERIODIC].apply(args=("mail.deliver",)).get()
    assert len(smtp_server.wait_for(2)) == 2
    app.tasks[PERIODIC].apply(args=("no.such_job",)).get()  # removed since scheduled: nothing
