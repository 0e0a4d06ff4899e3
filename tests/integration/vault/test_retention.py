"""Retention: events and items past the policy's retention are purged, and audited."""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Runtime
from mamori.vault.access import Caller
from mamori.vault.events import add_events, purge_expired, read_events
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime

HOST = Caller(actor_id="key:test")
PNG = {
    "content_type": "image/png",
    "data": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 64).decode(),
}


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def test_events_and_documents_are_purged_after_their_retention(runtime: Runtime) -> None:
    vault = runtime.vault
    subject = vault.create_subject(
        HOST, type="customer", items={"email": "a@example.jp", "identity_document": PNG}
    )
    now = dt.datetime.now(dt.UTC)
    recent = (now - dt.timedelta(days=1)).isoformat()
    old = (now - dt.timedelta(days=729)).isoformat()  # usage_history keeps 730 days
    add_events(
        vault,
        HOST,
        subject,
        [{"occurred_at": old, "action": "a"}, {"occurred_at": recent, "action": "b"}],
    )
    assert [e["action"] for e in read_events(vault, subject)] == ["a", "b"]

    assert purge_expired(vault, now=now).events == 0
    later = now + dt.timedelta(days=2)
    purged = purge_expired(vault, now=later)
    assert purged.events == 1 and purged.items == 0
    assert [e["action"] for e in read_events(vault, subject)] == ["b"]

    # the identity document is kept 30 days, the e-mail address until withdrawal
    purged = purge_expired(vault, now=now + dt.timedelta(days=31))
    assert purged.items == 1
    read = vault.read(HOST, subject, "service_operation", ["email", "identity_document"])
    assert read.items == {"email": "a@example.jp"}
    assert read.missing == ("identity_document",)
    entry = next(e for e in reversed(runtime.audit.tail(5)) if e.action == "retention.purge")
    assert entry.details == {"events": 0, "items": 1}


def test_the_purge_is_a_built_in_job_that_a_setting_switches_off(
    tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    """The purge runs wherever jobs run (server or worker), at MAMORI_RETENTION_PURGE_MINUTES."""
    from mamori.app import BUILT_IN
    from mamori.config import Settings
    from mamori.tasks.celery_app import create_celery
    from mamori.tasks.inprocess import InProcessRunner

    names = {job.name for job in BUILT_IN.enabled_jobs(Settings(retention_purge_minutes=5))}
    assert "vault.retention_purge" in names
    off = Settings(retention_purge_minutes=0)
    assert "vault.retention_purge" not in {job.name for job in BUILT_IN.enabled_jobs(off)}
    schedule = create_celery(Settings(retention_purge_minutes=5)).conf.beat_schedule
    assert schedule["mamori:vault.retention_purge"]["schedule"] == 300.0
    assert "mamori:vault.retention_purge" not in create_celery(off).conf.beat_schedule

    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    try:
        vault = runtime.vault
        subject = vault.create_subject(HOST, type="customer", items={"identity_document": PNG})
        clock.advance(days=31)  # the document's retention (30 days) is over
        job = BUILT_IN.job("vault.retention_purge")
        assert job is not None
        runner = InProcessRunner(runtime, jobs=[job])
        runner.start()
        try:
            for _ in range(100):
                if runner.runs.get("vault.retention_purge"):
                    break
                time.sleep(0.05)
        finally:
            runner.stop()
        read = vault.read(HOST, subject, "service_operation", ["identity_document"])
        assert read.missing == ("identity_document",)
    finally:
        runtime.close()
