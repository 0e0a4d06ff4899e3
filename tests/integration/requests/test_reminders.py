"""Reminders of requests falling due, once each; notified requests close when finished."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import BUILT_IN, Runtime
from mamori.requests import reminders, service, store
from mamori.requests.intake import check_intake
from mamori.requests.model import Outcome, Status, Verification
from mamori.requests.workflow import Decision
from mamori.store import db
from tests.helpers.clock import ManualClock
from tests.helpers.requests import BASE, mails, person
from tests.helpers.runtime import open_test_runtime


@pytest.fixture
def staffed(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(
        tmp_path,
        database_url,
        clock=clock,
        request_notify_email="privacy@example.jp",
        request_reminder_days=3,
    )
    yield runtime
    runtime.close()


def _move(clock: ManualClock, days: float) -> None:
    clock.freeze(dt.datetime.now(dt.UTC) + dt.timedelta(days=days))


def test_the_job_is_built_in() -> None:
    job = BUILT_IN.job("requests.reminders")
    assert job is not None and job.every_seconds == 15 * 60


def test_handlers_are_reminded_once_before_the_due_date(
    staffed: Runtime, clock: ManualClock
) -> None:
    subject = person(staffed)
    filed = service.file_request(
        staffed,
        check_intake(
            staffed.vault.rules(),
            type="erasure",
            language="ja",
            email="h@x.jp",
            items=["phone"],
            ground="breach",
        ),
        actor="t",
        client="c",
        base_url=BASE,
        subject_id=subject,
        verified_by=Verification.session,
    )
    assert mails(staffed, "request_new")[-1].to == "privacy@example.jp"
    _move(clock, 5)
    assert reminders.remind(staffed).reminded == 0
    _move(clock, 12)
    assert reminders.remind(staffed).reminded == 1
    assert reminders.remind(staffed).reminded == 0
    reminder = mails(staffed, "request_reminder")
    assert len(reminder) == 1 and filed.id in (reminder[0].body or "")
    # the link in the mail works from a mail client: absolute, even without MAMORI_PUBLIC_URL
    assert f"http://127.0.0.1:8000/admin/requests/{filed.id}" in (reminder[0].body or "")
    with db.read(staffed.engine) as conn:
        assert store.load(conn, filed.id).reminded_at is not None


def test_notified_requests_close_when_finished(staffed: Runtime, clock: ManualClock) -> None:
    subject = person(staffed)
    filed = service.file_request(
        staffed,
        check_intake(staffed.vault.rules(), type="disclosure", language="en", email="h@x.jp"),
        actor="t",
        client="c",
        base_url=BASE,
        subject_id=subject,
        verified_by=Verification.session,
    )
    service.start_review(staffed, filed.id, actor="staff:1")
    service.decide(staffed, filed.id, Decision(Outcome.fulfilled), actor="staff:1", base_url=BASE)
    assert reminders.remind(staffed).closed == 0
    _move(clock, 8)  # past MAMORI_REQUEST_DOWNLOAD_DAYS (7)
    assert reminders.remind(staffed).closed == 1
    with db.read(staffed.engine) as conn:
        assert store.load(conn, filed.id).status is Status.closed
