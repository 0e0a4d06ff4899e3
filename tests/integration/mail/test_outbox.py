"""The outbox: queueing inside the caller's transaction, encryption at rest, delivery, retries."""

from __future__ import annotations

import datetime as dt
import email.policy
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.errors import InvalidValue, MailTemplateError
from mamori.store import db
from tests.helpers.clock import ManualClock
from tests.helpers.smtp import SmtpServer

ADDRESS = "taro.yamada@example.jp"


def _queue(runtime: Runtime, **kwargs: object) -> str:
    args: dict[str, object] = {
        "to": ADDRESS,
        "template": "test",
        "language": "ja",
        "context": {},
    }
    args.update(kwargs)
    with db.write(runtime.engine) as conn:
        return runtime.mail.queue(conn, **args)  # type: ignore[arg-type]


def _raw_rows(runtime: Runtime) -> list[dict[str, object]]:
    with db.read(runtime.engine) as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM mail_outbox"))]


def _audit(runtime: Runtime, prefix: str = "mail.") -> list[tuple[str, str, str, str]]:
    with db.read(runtime.engine) as conn:
        rows = conn.execute(
            sa.text("SELECT action, actor, targets, details FROM audit_entries ORDER BY seq")
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows if r[0].startswith(prefix)]


def test_without_smtp_mail_is_kept_in_the_outbox_encrypted(runtime: Runtime) -> None:
    mail_id = _queue(runtime, subject_id="s123")
    [row] = _raw_rows(runtime)
    assert row["status"] == "outbox"
    assert row["id"] == mail_id and row["subject_id"] == "s123"
    # Nothing readable at rest: not the address, not the operator's name in the subject.
    dump = repr(row).encode() + b"".join(v for v in row.values() if isinstance(v, bytes))
    assert ADDRESS.encode() not in dump
    assert "ココチエ".encode() not in dump and "送信テスト".encode() not in dump
    assert runtime.mail.deliver_pending() == 0  # no SMTP host: nothing leaves the machine
    with db.read(runtime.engine) as conn:
        mail = runtime.mail.open(conn, mail_id)
    assert mail.to == ADDRESS
    assert mail.subject == "株式会社ココチエ 送信テスト"
    assert "株式会社ココチエ" in (mail.body or "")
    [(action, actor, targets, details)] = _audit(runtime)
    assert (action, actor) == ("mail.queue", "system:mail")
    assert mail_id in targets and "subject:s123" in targets
    assert "@" not in targets + details


def test_a_rolled_back_transaction_queues_nothing(runtime: Runtime) -> None:
    with pytest.raises(RuntimeError), db.write(runtime.engine) as conn:
        runtime.mail.queue(conn, to=ADDRESS, template="test", language="en", context={})
        raise RuntimeError("the caller's transaction fails")
    assert _raw_rows(runtime) == []
    assert _audit(runtime) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"to": "not an address"}, InvalidValue, "to: not a valid e-mail address"),
        ({"to": "a@b.example\r\nBcc: x@y.example"}, InvalidValue, "to: not a valid"),
        ({"template": "no_such"}, MailTemplateError, "mail template 'no_such' does not exist"),
        ({"template": "_marketing_footer"}, MailTemplateError, "is a part of other mail"),
        ({"template": "news"}, MailTemplateError, "'body' is undefined"),
        ({"language": "fr"}, Exception, "mail language 'fr' is not ja or en"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_writes_nothing(
    runtime: Runtime, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        _queue(runtime, **kwargs)
    assert message in str(caught.value)
    assert "example" not in str(caught.value)  # never the address
    assert _raw_rows(runtime) == []


def test_delivery_sends_proper_mime(smtp_runtime: Runtime, smtp_server: SmtpServer) -> None:
    mail_id = _queue(smtp_runtime, language="ja")
    assert _raw_rows(smtp_runtime)[0]["status"] == "queued"
    assert smtp_runtime.mail.deliver_pending() == 1
    [message] = smtp_server.wait_for(1)
    [received] = smtp_server.received
    assert received.rcpt_tos == [ADDRESS]
    assert received.mail_from == "noreply@kokochie.example"
    assert message["Subject"] == "株式会社ココチエ 送信テスト"
    assert message["From"].addresses[0].display_name == "ココチエ"
    assert message["From"].addresses[0].addr_spec == "noreply@kokochie.example"
    assert message["Message-ID"] == f"<{mail_id}@kokochie.example>"
    sent_at = parsedate_to_datetime(message["Date"])
    assert abs(sent_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert "mamori のメール送信設定" in message.get_content()
    assert "List-Unsubscribe" not in message  # not marketing
    # The Japanese subject travels RFC 2047-encoded: the raw header is ASCII.
    raw = message.as_bytes(policy=email.policy.SMTP)
    header = raw.split(b"\r\n\r\n", 1)[0]
    assert header.isascii() and b"=?utf-8?" in header
    row = _raw_rows(smtp_runtime)[0]
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, None)
    assert smtp_runtime.mail.deliver_pending() == 0  # sent once only
    actions = [(a, d) for a, _, _, d in _audit(smtp_runtime)]
    assert actions[-1][0] == "mail.send" and '"result":"sent"' in actions[-1][1]


def test_a_server_that_is_down_is_retried_with_backoff(
    smtp_runtime: Runtime, smtp_server: SmtpServer, clock: ManualClock
) -> None:
    now = dt.datetime.now(dt.UTC)
    clock.freeze(now)
    _queue(smtp_runtime)
    smtp_server.down = True
    assert smtp_runtime.mail.deliver_pending() == 0
    row = _raw_rows(smtp_runtime)[0]
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "queued",
        1,
        "SMTPDataError",
    )
    assert smtp_runtime.mail.deliver_pending() == 0  # not due yet: nothing tried
    assert _raw_rows(smtp_runtime)[0]["attempts"] == 1
    # After 1 s (MAMORI_MAIL_RETRY_SECONDS) it is tried again, then after 2 s more.
    clock.freeze(now + dt.timedelta(seconds=1))
    assert smtp_runtime.mail.deliver_pending() == 0
    assert _raw_rows(smtp_runtime)[0]["attempts"] == 2
    clock.freeze(now + dt.timedelta(seconds=2))
    assert smtp_runtime.mail.deliver_pending() == 0
    assert _raw_rows(smtp_runtime)[0]["attempts"] == 2
    smtp_server.down = False
    clock.freeze(now + dt.timedelta(seconds=3))
    assert smtp_runtime.mail.deliver_pending() == 1
    smtp_server.wait_for(1)
    row = _raw_rows(smtp_runtime)[0]
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, None)


def test_retries_stop_after_max_attempts(
    smtp_runtime: Runtime, smtp_server: SmtpServer, clock: ManualClock
) -> None:
    smtp_server.down = True
    now = dt.datetime.now(dt.UTC)
    clock.freeze(now)
    _queue(smtp_runtime)
    for second in (0, 1, 3):  # MAMORI_MAIL_MAX_ATTEMPTS=3; delays 1 s, then 2 s
        clock.freeze(now + dt.timedelta(seconds=second))
        smtp_runtime.mail.deliver_pending()
    row = _raw_rows(smtp_runtime)[0]
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "SMTPDataError")


def test_a_refused_recipient_fails_at_once_and_others_still_go(
    smtp_runtime: Runtime, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse["nobody@example.jp"] = "550 5.1.1 <nobody@example.jp>: no such user"
    refused = _queue(smtp_runtime, to="nobody@example.jp")
    fine = _queue(smtp_runtime)
    assert smtp_runtime.mail.deliver_pending() == 1
    smtp_server.wait_for(1)
    rows = {r["id"]: r for r in _raw_rows(smtp_runtime)}
    assert rows[refused]["status"] == "failed"
    assert rows[refused]["last_error"] == "SMTPRecipientsRefused"  # the type, not the reply
    assert rows[fine]["status"] == "sent"
    audit = "".join(t + d for _, _, t, d in _audit(smtp_runtime))
    assert "nobody" not in audit and "@" not in audit


def test_an_unreachable_server_keeps_mail_queued(tmp_path: object, database_url: str) -> None:
    from pathlib import Path

    from tests.helpers.runtime import open_test_runtime
    from tests.helpers.smtp import free_port

    assert isinstance(tmp_path, Path)
    runtime = open_test_runtime(
        tmp_path, database_url, smtp_host="127.0.0.1", smtp_port=free_port()
    )
    try:
        _queue(runtime)
        assert runtime.mail.deliver_pending() == 0
        row = _raw_rows(runtime)[0]
        assert (row["status"], row["attempts"], row["last_error"]) == (
            "queued",
            1,
            "ConnectionRefusedError",
        )
    finally:
        runtime.close()


def test_old_mail_is_purged_but_queued_mail_never(runtime: Runtime, clock: ManualClock) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=91)
    clock.freeze(long_ago)
    old = _queue(runtime)
    clock.thaw()
    recent = _queue(runtime)
    with db.write(runtime.engine) as conn:  # a queued mail as old as the purged one
        conn.execute(
            sa.text(
                "INSERT INTO mail_outbox (id, template, language, marketing, to_hash, status,"
                " attempts, created_at, next_attempt_at) VALUES ('ml_q', 'test', 'ja', false,"
                " :h, 'queued', 0, :t, :t)"
            ),
            {"h": b"\0" * 32, "t": long_ago.replace(tzinfo=None)},
        )
    assert runtime.mail.purge_finished() == 1
    ids = {r["id"] for r in _raw_rows(runtime)}
    assert old not in ids and recent in ids and "ml_q" in ids
    assert _audit(runtime)[-1][0] == "mail.purge"
