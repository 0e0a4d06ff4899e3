"""A withdrawal in the privacy center reaches the host service's webhook receiver: a person
withdraws in Chromium, and the receiver on 127.0.0.1 gets ``subject.withdrawn`` with a
signature the standardwebhooks library verifies, once. The server's own background runner
sends it (the job ``webhooks.deliver``), as in `mamori serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from mamori.client import Client
from mamori.vault import service_keys
from mamori.webhooks import endpoints
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.server import LiveServer, serving
from tests.helpers.webhooks import receiver


@pytest.fixture
def served(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[LiveServer]:
    runtime = open_test_runtime(
        tmp_path,
        database_url,
        clock=clock,
        webhook_deliver_seconds=1,
        webhook_allow_http_loopback=True,
    )
    try:
        with serving(runtime) as live:
            yield live
    finally:
        runtime.close()


def test_a_withdrawal_in_the_center_reaches_the_host_signed(
    browser: Browser, served: LiveServer
) -> None:
    runtime = served.runtime
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation"],
        operations=["read", "write", "delete"],
        actor="test",
    )
    with receiver() as rec, Client(served.url, token) as host:
        _, rec.secret = endpoints.create(
            runtime, service="host", url=rec.url, events=["subject.withdrawn"], actor="test"
        )
        subject = host.create_subject(
            "customer", items={"name": "山田 花子", "email": "hanako@example.jp"}
        )
        context = browser.new_context(locale="ja-JP")
        page = context.new_page()
        page.goto(host.center_link(subject))
        page.goto(f"{served.url}/center/withdraw")
        page.get_by_label("上記の内容を理解したうえで、退会します").check()
        page.get_by_role("button", name="退会する").click()
        assert page.locator("h1").inner_text() == "退会の手続きが完了しました"
        context.close()

        [event] = rec.wait_for("subject.withdrawn")
        assert event["data"] == {"subject_id": subject}
        assert rec.invalid == 0
        assert list(rec.seen.values()) == [1]
