"""Retention: events and items past the policy's retention are purged, and audited."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.runtime import Runtime
from mamori.vault.access import Caller
from mamori.vault.events import add_events, purge_expired, read_events
from tests.support import open_test_runtime

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
