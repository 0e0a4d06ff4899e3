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


def test_withdrawal_leaves_nothing_personal_readable_in_the_console(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Issue 10: the person's requests (address, message) and mails stayed readable by staff."""
    import re

    import sqlalchemy as sa
    from fastapi.testclient import TestClient

    from mamori.requests import service
    from mamori.requests.intake import check_intake
    from mamori.requests.model import Verification
    from mamori.store import db
    from mamori.web.app import create_app
    from tests.helpers.staff import PASSWORD, admin_client, create_staff

    marker = "zq-request-message-5d1e"
    subject = runtime.vault.create_subject(HOST, type="customer", items={"email": EMAIL})
    intake = check_intake(
        runtime.vault.rules(), type="inquiry", language="ja", email=EMAIL, message=marker
    )
    filed = service.file_request(
        runtime,
        intake,
        actor="key:test",
        client="192.0.2.1",
        base_url="http://m.test",
        subject_id=subject,
        verified_by=Verification.service,
    )
    runtime.mail.opt_out_address(EMAIL, actor="staff:test", subject_id=subject)
    create_staff(runtime, "kanri", PASSWORD, "manager")
    with TestClient(create_app(runtime=runtime)) as client:
        admin_client(client, "kanri", PASSWORD)
        before = client.get(f"/admin/requests/{filed.id}").text
        assert EMAIL in before and marker in before  # what staff could read before
        outbox = client.get("/admin/outbox").text
        assert EMAIL in outbox

        runtime.vault.withdraw(HOST, subject)

        pages = [
            client.get(f"/admin/requests/{filed.id}").text,
            client.get("/admin/requests").text,
            client.get("/admin/outbox").text,
            client.get("/admin/audit").text,
        ]
        mail_ids = re.findall(r"/admin/outbox/(ml_[0-9a-f]{32})", before + outbox)
        pages += [client.get(f"/admin/outbox/{m}").text for m in mail_ids]
    for text in pages:
        assert EMAIL not in text and marker not in text
    with db.read(runtime.engine) as conn:
        kept = conn.execute(
            sa.text("SELECT type, status, subject_id FROM data_requests WHERE id = :id"),
            {"id": filed.id},
        ).one()
        assert (kept.type, kept.subject_id) == ("inquiry", subject)  # the record, as IDs
        mails = conn.execute(
            sa.text("SELECT count(*) FROM mail_outbox WHERE subject_id = :s"), {"s": subject}
        ).scalar_one()
        assert mails == 0
        optouts = conn.execute(sa.text("SELECT subject_id FROM mail_optouts")).all()
        assert optouts == [(None,)]  # still opted out, no longer naming the person
    # the address stays opted out: no marketing mail goes to it again
    with db.write(runtime.engine) as conn:
        news = runtime.mail.queue(
            conn, to=EMAIL, template="news", language="ja", context={"body": "x"}, marketing=True
        )
    with db.read(runtime.engine) as conn:
        assert runtime.mail.summary(conn, news).status == "skipped"
    raw = _raw_bytes(runtime, tmp_path)
    for needle in (EMAIL, marker):
        assert needle.encode() not in raw
    entry = next(e for e in reversed(runtime.audit.tail(20)) if e.action == "subject.withdraw")
    mails_deleted = entry.details["deleted.mails"]
    assert entry.details["deleted.requests"] == 1
    assert isinstance(mails_deleted, int) and mails_deleted >= 1
