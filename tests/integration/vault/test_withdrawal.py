"""Withdrawal shreds: afterwards no byte of the person's data is anywhere in the database."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from mamori.app import Runtime
from mamori.policy.rules import Refusal
from mamori.vault.access import Caller
from mamori.vault.events import add_events
from mamori.vault.restrictions import set_stops
from tests.helpers.runtime import open_test_runtime

EMAIL = "zq-withdraw-7f3a9c@shred-test.example"
NAME = "鰐淵ヰヱ子 Wanibuchi-Xyzzy"
HOST = Caller(actor_id="key:test")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def _raw_bytes(runtime: Runtime, tmp_path: Path) -> bytes:
    """Every byte the database holds: the SQLite file and its WAL, or a pg_dump."""
    url = make_url(runtime.settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        runtime.engine.dispose()  # checkpoint the WAL into the file
        files = [Path(url.database), Path(url.database + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    dump = tmp_path / "dump.sql"
    subprocess.run(
        [
            "pg_dump",
            "--host",
            url.host or "127.0.0.1",
            "--port",
            str(url.port or 5432),
            "--username",
            url.username or "postgres",
            "--file",
            str(dump),
            url.database or "",
        ],
        check=True,
        timeout=120,
    )
    return dump.read_bytes()


def test_withdrawal_leaves_no_bytes_of_the_person(runtime: Runtime, tmp_path: Path) -> None:
    vault = runtime.vault
    subject = vault.create_subject(
        HOST,
        type="customer",
        external_id="host-user-shred",
        items={"email": EMAIL, "name": NAME, "phone": "03-1234-5678"},
    )
    add_events(
        vault,
        HOST,
        subject,
        [{"occurred_at": "2026-11-01T00:00:00Z", "action": "view", "device_model": NAME}],
    )
    set_stops(vault, HOST, subject, stopped_items=["phone"], stopped_purposes=[])
    assert vault.lookup(HOST, "email", EMAIL) == [subject]

    vault.withdraw(HOST, subject)

    raw = _raw_bytes(runtime, tmp_path)
    for needle in (EMAIL, EMAIL.lower(), NAME, "Wanibuchi-Xyzzy", "+81312345678"):
        for encoding in ("utf-8", "utf-16-le"):
            assert needle.encode(encoding) not in raw, f"{needle!r} found after withdrawal"
    # and nothing encrypted for the person can be decrypted: the data key is gone
    result = vault.read(Caller(actor_id="key:test"), subject, "service_operation", ["email"])
    assert result.refused == {"email": Refusal.withdrawn}
    assert vault.lookup(HOST, "email", EMAIL) == []
    assert vault.find_external(HOST, "customer", "host-user-shred") is None
    assert vault.get_subject(subject).withdrawn
    assert runtime.audit.verify().ok
    actions = [e.action for e in runtime.audit.tail(20)]
    assert "subject.withdraw" in actions


def test_withdrawing_twice_is_a_conflict(runtime: Runtime) -> None:
    from mamori.errors import SubjectWithdrawn

    subject = runtime.vault.create_subject(HOST, type="customer", items={"email": EMAIL})
    runtime.vault.withdraw(HOST, subject)
    with pytest.raises(SubjectWithdrawn):
        runtime.vault.withdraw(HOST, subject)
    with pytest.raises(SubjectWithdrawn):
        runtime.vault.write_items(HOST, subject, {"name": NAME})
