"""Change notices: one e-mail to every person with an address, in batches, on the task queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import BUILT_IN, Runtime
from mamori.changes import notices
from mamori.publication import records
from mamori.vault.access import Caller
from tests.helpers import edits
from tests.helpers.runtime import open_test_runtime
from tests.helpers.smtp import SmtpServer

SYSTEM = Caller.system("test")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, smtp_server: SmtpServer) -> Iterator[Runtime]:
    runtime = open_test_runtime(
        tmp_path,
        database_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        public_url="https://privacy.example.jp",
    )
    yield runtime
    runtime.close()


def test_every_person_with_an_address_gets_one_notice_in_batches(
    runtime: Runtime, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    vault = runtime.vault
    customers = [
        vault.create_subject(SYSTEM, type="customer", items={"email": f"p{n}@example.jp"})
        for n in range(5)
    ]
    contact = vault.create_subject(
        SYSTEM, type="business_contact", items={"contact_email": "partner@example.co.jp"}
    )
    vault.create_subject(SYSTEM, type="customer", items={"address": "東京都"})  # no address
    gone = vault.create_subject(SYSTEM, type="customer", items={"email": "gone@example.jp"})
    vault.withdraw(SYSTEM, gone)
    path = edits.write_edited(tmp_path / "p.yaml", edits.unrelated_purpose, edits.revision)
    version = runtime.publish_file(path, actor="test").version
    vault.create_subject(SYSTEM, type="customer", items={"email": "later@example.jp"})

    first = notices.send_notices(runtime, batch=2, max_batches=2)  # 4 of the 7 people
    assert 3 <= first <= 4
    middle = records.get(runtime.engine, version)
    assert middle is not None and middle.notices_done_at is None
    assert first + notices.send_notices(runtime, batch=2) == 6
    assert notices.send_notices(runtime, batch=2) == 0  # done: nobody is mailed twice
    change = records.get(runtime.engine, version)
    assert change is not None and change.notices_queued == 6
    assert change.notices_done_at is not None

    assert runtime.mail.deliver_pending() == 6
    smtp_server.wait_for(6)
    to = sorted(str(m["To"]) for m in smtp_server.messages)
    assert to == sorted([*(f"p{n}@example.jp" for n in range(5)), "partner@example.co.jp"])
    message = smtp_server.messages[0]
    assert "プライバシーポリシー改訂のお知らせ" in str(message["Subject"])
    body = message.get_content()
    assert "提携先の商品をご案内するため" in body
    assert "同意が必要な変更が含まれています" in body
    assert f"https://privacy.example.jp/privacy/versions/{version}?lang=ja" in body
    # The audit log names ids and counts, never an address.
    entries = [e for e in runtime.audit.tail(100) if e.action == "policy_change.notices"]
    assert sum(int(str(e.details["queued"])) for e in entries) == 6
    assert all("@" not in str(e.details) for e in entries)
    assert {customers[0], contact} <= {
        t.removeprefix("subject:") for e in runtime.audit.tail(200) for t in e.targets
    }


def test_wording_only_sends_nothing_and_the_job_is_registered(
    runtime: Runtime, tmp_path: Path
) -> None:
    runtime.vault.create_subject(SYSTEM, type="customer", items={"email": "a@example.jp"})
    path = edits.write_edited(tmp_path / "p.yaml", edits.revision)
    runtime.publish_file(path, actor="test")
    assert notices.send_notices(runtime) == 0
    job = BUILT_IN.job(notices.JOB)
    assert job is not None and job.run is notices.send_notices
