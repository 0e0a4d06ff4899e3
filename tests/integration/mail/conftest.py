"""Fixtures of the mail tests: mamori pointed at the test SMTP server, or at none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Runtime
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.smtp import SmtpServer


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    """mamori on its embedded default: no SMTP host, mail kept in the outbox."""
    opened = open_test_runtime(tmp_path, database_url, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def smtp_runtime(
    tmp_path: Path, database_url: str, smtp_server: SmtpServer, clock: ManualClock
) -> Iterator[Runtime]:
    """mamori sending through the test SMTP server, retrying after one second."""
    opened = open_test_runtime(
        tmp_path,
        database_url,
        clock=clock,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        mail_from="ココチエ <noreply@kokochie.example>",
        mail_retry_seconds=1,
        mail_max_attempts=3,
        public_url="https://privacy.kokochie.example",
    )
    yield opened
    opened.close()
