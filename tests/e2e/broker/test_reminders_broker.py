"""The reminder job run by a real Celery worker on a real broker, its mail sent over SMTP.

Runs when ``MAMORI_TEST_BROKER_URL`` names a broker (see tests/mail/test_broker.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mamori.requests import service
from mamori.requests.intake import check_intake
from mamori.requests.model import Verification
from mamori.tasks.celery_app import PERIODIC, create_celery
from tests.helpers.broker import broker_settings, drop_queue, marks, running_worker
from tests.helpers.requests import BASE, person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.smtp import SmtpServer

pytestmark = marks

STAFF = "privacy@example.jp"
REQUESTS: dict[str, Any] = {
    "request_notify_email": STAFF,
    "request_due_days": {"erasure": 1},  # due tomorrow: inside the 3-day reminder window
    "request_reminder_days": 3,
}


def test_a_worker_reminds_the_handlers_of_a_request_falling_due(
    tmp_path: Path, database_url: str, smtp_server: SmtpServer
) -> None:
    runtime = open_test_runtime(
        tmp_path,
        database_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        **REQUESTS,
        **broker_settings(),
    )
    try:
        filed = service.file_request(
            runtime,
            check_intake(
                runtime.vault.rules(),
                type="erasure",
                language="ja",
                email="hanako@example.jp",
                items=["phone"],
                ground="breach",
            ),
            actor="t",
            client="c",
            base_url=BASE,
            subject_id=person(runtime),
            verified_by=Verification.session,
        )
        env = {
            "MAMORI_REQUEST_NOTIFY_EMAIL": STAFF,
            "MAMORI_REQUEST_DUE_DAYS": '{"erasure": 1}',
            "MAMORI_REQUEST_REMINDER_DAYS": "3",
        }
        with running_worker(runtime, tmp_path / "worker.log", env) as log:
            app = create_celery(runtime.settings, lambda: runtime)
            app.send_task(PERIODIC, args=["requests.reminders"], queue=runtime.settings.task_queue)
            deadline = time.monotonic() + 30
            reminders: list[str] = []
            while not reminders and time.monotonic() < deadline:
                reminders = [
                    str(m["Subject"])
                    for m in smtp_server.messages
                    if m["To"] == STAFF and "期限が近い" in str(m["Subject"])
                ]
                time.sleep(0.2)
            assert reminders, "no reminder arrived:\n" + log.read_text()[-2000:]
            assert filed.reference in reminders[0]
            assert "hanako" not in log.read_text()  # the worker logs no address
    finally:
        drop_queue(runtime)
        runtime.close()
