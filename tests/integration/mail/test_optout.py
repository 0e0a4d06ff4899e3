"""Mail opt-out (seed §10(3), RFC 8058): headers, one-click POST, the preference page, skipped
marketing mail, and bulk reads for marketing purposes."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.store import db
from mamori.vault.access import Caller
from mamori.vault.restrictions import set_stops, usage_settings
from mamori.web.app import create_app
from tests.helpers.smtp import SmtpServer

HOST = Caller.system("host")
ADDRESS = "jiro@example.jp"


def _queue(runtime: Runtime, to: str = ADDRESS, **kwargs: object) -> str:
    args: dict[str, object] = {
        "to": to,
        "template": "news",
        "language": "ja",
        "context": {"body": "春のキャンペーンのお知らせです。"},
        "marketing": True,
    }
    args.update(kwargs)
    with db.write(runtime.engine) as conn:
        return runtime.mail.queue(conn, **args)  # type: ignore[arg-type]


def _token(runtime: Runtime, mail_id: str) -> str:
    with db.read(runtime.engine) as conn:
        url = runtime.mail.open(conn, mail_id, masked=False).unsubscribe_url
    assert url is not None
    match = re.fullmatch(r"https://privacy\.kokochie\.example/mail/unsubscribe/([\w.-]+)", url)
    assert match, url
    return match[1]


def _statuses(runtime: Runtime) -> dict[str, str]:
    with db.read(runtime.engine) as conn:
        rows = conn.execute(sa.text("SELECT id, status FROM mail_outbox")).all()
    return {row.id: row.status for row in rows}


def test_marketing_mail_carries_one_click_unsubscribe(
    smtp_runtime: Runtime, smtp_server: SmtpServer
) -> None:
    mail_id = _queue(smtp_runtime)
    smtp_runtime.mail.deliver_pending()
    [message] = smtp_server.wait_for(1)
    token = _token(smtp_runtime, mail_id)
    url = f"https://privacy.kokochie.example/mail/unsubscribe/{token}"
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = message.get_content()
    assert "春のキャンペーンのお知らせです。" in body
    assert "配信を停止できます" in body and url in body  # the footer, in Japanese


def test_one_click_post_opts_out_with_the_token_alone(
    smtp_runtime: Runtime, smtp_server: SmtpServer
) -> None:
    token = _token(smtp_runtime, _queue(smtp_runtime, subject_id="subj1"))
    with TestClient(create_app(runtime=smtp_runtime)) as client:
        # What a mail client sends (RFC 8058 section 3.1): no cookie, no CSRF token.
        response = client.post(
            f"/mail/unsubscribe/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
        assert "set-cookie" not in response.headers
        assert response.headers["cache-control"] == "no-store"
        assert "ご案内メールの配信を停止しました。" in response.text
        again = client.post(f"/mail/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert again.status_code == 200
    with db.read(smtp_runtime.engine) as conn:
        rows = conn.execute(sa.text("SELECT * FROM mail_optouts")).all()
        audit = conn.execute(
            sa.text(
                "SELECT actor, targets, details FROM audit_entries WHERE action = 'mail.optout'"
            )
        ).all()
    assert len(rows) == 1
    stored = repr(rows[0]).encode() + rows[0].address_hash
    assert b"jiro" not in stored and b"example" not in stored  # a keyed hash, not the address
    assert rows[0].subject_id == "subj1" and rows[0].source == "one-click"
    assert [a.actor for a in audit] == ["subject:subj1", "subject:subj1"]
    assert '"already":true' in audit[1].details

    # Marketing mail to the address is skipped now, counted and audited; other mail still goes.
    skipped = _queue(smtp_runtime)
    notice = _queue(smtp_runtime, template="test", marketing=False, context={})
    other_case = _queue(smtp_runtime, to="JIRO@Example.JP")  # the same mailbox
    statuses = _statuses(smtp_runtime)
    assert statuses[skipped] == "skipped" and statuses[other_case] == "skipped"
    assert statuses[notice] == "queued"
    assert smtp_runtime.mail.skipped == 2
    with db.read(smtp_runtime.engine) as conn:
        row = conn.execute(
            sa.text("SELECT to_ciphertext, content_ciphertext FROM mail_outbox WHERE id = :i"),
            {"i": skipped},
        ).one()
        skips = (
            conn.execute(sa.text("SELECT details FROM audit_entries WHERE action = 'mail.skip'"))
            .scalars()
            .all()
        )
    assert tuple(row) == (None, None)  # nothing kept of a mail not sent
    assert len(skips) == 2 and all('"reason":"opted_out"' in d for d in skips)


def test_the_preference_page_shows_a_form_and_changes_nothing(smtp_runtime: Runtime) -> None:
    token = _token(smtp_runtime, _queue(smtp_runtime))
    with TestClient(create_app(runtime=smtp_runtime)) as client:
        ja = client.get(f"/mail/unsubscribe/{token}")
        en = client.get(f"/mail/unsubscribe/{token}?lang=en")
        assert ja.status_code == 200 and ja.headers["content-language"] == "ja"
        assert "メール配信の設定" in ja.text and "株式会社ココチエ" in ja.text
        assert f'action="/mail/unsubscribe/{token}?lang=ja"' in ja.text
        assert "ご案内メールの配信を停止する" in ja.text
        assert "Stop information mail" in en.text
        assert ADDRESS not in ja.text  # a forwarded link shows no address
        assert smtp_runtime.mail.read_unsubscribe(token)[1] is False  # GET changed nothing
        # The page's own form, then resuming.
        stopped = client.post(f"/mail/unsubscribe/{token}?lang=en", data={"from": "page"})
        assert "Information mail to this address is stopped." in stopped.text
        assert "Resume information mail" in stopped.text
        assert smtp_runtime.mail.read_unsubscribe(token)[1] is True
        resumed = client.post(f"/mail/unsubscribe/{token}/resume")
        assert resumed.status_code == 200 and "配信を再開しました" in resumed.text
        assert smtp_runtime.mail.read_unsubscribe(token)[1] is False
        switch = client.get(f"/mail/unsubscribe/{token}/resume?lang=en", follow_redirects=False)
        assert switch.status_code == 303
        assert switch.headers["location"] == f"/mail/unsubscribe/{token}?lang=en"
    with db.read(smtp_runtime.engine) as conn:
        sources = conn.execute(
            sa.text("SELECT action, details FROM audit_entries WHERE action LIKE 'mail.opt%'")
        ).all()
    assert [a for a, _ in sources] == ["mail.optout", "mail.optin"]
    assert '"source":"page"' in sources[0][1]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("mutate", ["forge", "truncate", "garbage"])
def test_a_forged_or_broken_token_is_refused(
    smtp_runtime: Runtime, method: str, mutate: str
) -> None:
    token = _token(smtp_runtime, _queue(smtp_runtime))
    payload, mac = token.split(".")
    bad = {
        "forge": f"{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{mac}",
        "truncate": token[:-5],
        "garbage": "not-a-token",
    }[mutate]
    with TestClient(create_app(runtime=smtp_runtime)) as client:
        response = getattr(client, method)(f"/mail/unsubscribe/{bad}")
    assert response.status_code == 400
    assert "このリンクは無効です" in response.text
    with db.read(smtp_runtime.engine) as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM mail_optouts")).scalar_one() == 0


def test_staff_can_record_an_opt_out_asked_for_by_phone(runtime: Runtime) -> None:
    assert runtime.mail.opt_out_address("Saburo@Example.jp", actor="staff:st1") is True
    assert runtime.mail.opt_out_address("saburo@example.jp", actor="staff:st1") is False
    mail_id = _queue(runtime, to="saburo@example.jp")
    assert _statuses(runtime)[mail_id] == "skipped"


def test_bulk_reads_for_marketing_leave_opted_out_people_out(runtime: Runtime) -> None:
    vault = runtime.vault
    linked = vault.create_subject(HOST, type="customer", items={"email": "a@example.jp"})
    by_address = vault.create_subject(HOST, type="customer", items={"email": "b@example.jp"})
    kept = vault.create_subject(HOST, type="customer", items={"email": "c@example.jp"})
    for subject in (linked, by_address, kept):
        vault.write_items(HOST, subject, {"name": f"name of {subject[:4]}"})
    # `linked` opts out through the link of a mail that named them (under another address).
    token = _token_for(runtime, "old-address@example.jp", linked)
    runtime.mail.unsubscribe(token, source="one-click")
    # `by_address` asked by phone; staff did not know the subject ID.
    runtime.mail.opt_out_address("B@example.jp", actor="staff:st1")

    promotion = runtime.published.current().policy
    assert next(p for p in promotion.purposes if p.id == "promotion").marketing
    assert dict(vault.bulk_read(HOST, "promotion", "email")) == {kept: "c@example.jp"}
    names = dict(vault.bulk_read(HOST, "promotion", "name"))
    assert linked not in names and kept in names
    # Not a marketing purpose: everyone, as before.
    emails = dict(vault.bulk_read(HOST, "terms_changes", "email"))
    assert set(emails) == {linked, by_address, kept}
    with db.read(runtime.engine) as conn:
        released = (
            conn.execute(
                sa.text(
                    "SELECT details FROM audit_entries"
                    " WHERE action = 'subject.bulk_read' ORDER BY seq"
                )
            )
            .scalars()
            .all()
        )
    assert '"released":1' in released[0]


def _token_for(runtime: Runtime, address: str, subject_id: str) -> str:
    mail_id = _queue(runtime, to=address, subject_id=subject_id)
    with db.read(runtime.engine) as conn:
        url = runtime.mail.open(conn, mail_id, masked=False).unsubscribe_url
    assert url is not None
    return url.rsplit("/", 1)[1]


def _audit_details(runtime: Runtime, action: str) -> list[str]:
    with db.read(runtime.engine) as conn:
        rows = conn.execute(
            sa.text("SELECT details FROM audit_entries WHERE action = :a ORDER BY seq"),
            {"a": action},
        )
        return list(rows.scalars())


def test_a_known_persons_opt_out_is_their_marketing_stop(runtime: Runtime) -> None:
    """One marketing stop: the opt-out shows (and works) as the stopped marketing purpose in
    the person's usage settings; resuming marketing there resumes the mail; an opt-in from the
    mail's page resumes the purpose. Other stops are left as they are."""
    vault = runtime.vault
    person = vault.create_subject(HOST, type="customer", items={"email": "d@example.jp"})
    set_stops(vault, HOST, person, stopped_items=[], stopped_purposes=["statistics"])
    token = _token_for(runtime, "d@example.jp", person)

    runtime.mail.unsubscribe(token, source="one-click")
    settings = usage_settings(vault, person)
    assert settings.stopped_purposes == {"promotion", "statistics"}
    assert '"by":"mail_optout"' in _audit_details(runtime, "subject.restrictions")[-1]
    skipped = _queue(runtime, to="d@example.jp")
    assert _statuses(runtime)[skipped] == "skipped"
    runtime.mail.unsubscribe(token, source="page")  # again: nothing more to stop
    assert len(_audit_details(runtime, "subject.restrictions")) == 2

    # Resumed in the privacy center: marketing mail is wanted again.
    set_stops(vault, HOST, person, stopped_items=[], stopped_purposes=["statistics"])
    assert '"mail_optout":"lifted"' in _audit_details(runtime, "subject.restrictions")[-1]
    assert runtime.mail.read_unsubscribe(token)[1] is False
    sent = _queue(runtime, to="d@example.jp")
    assert _statuses(runtime)[sent] == "outbox"  # no SMTP host here: kept in the outbox

    # Opted out again, then back in from the mail's own page: the purpose resumes with it.
    runtime.mail.unsubscribe(token, source="page")
    assert "promotion" in usage_settings(vault, person).stopped_purposes
    runtime.mail.resubscribe(token)
    assert usage_settings(vault, person).stopped_purposes == {"statistics"}
    assert '"by":"mail_optin"' in _audit_details(runtime, "subject.restrictions")[-1]


def test_an_opt_out_naming_no_known_person_stops_no_purpose(runtime: Runtime) -> None:
    vault = runtime.vault
    person = vault.create_subject(HOST, type="customer", items={"email": "e@example.jp"})
    runtime.mail.opt_out_address("e@example.jp", actor="staff:st1")  # staff knew no ID
    assert usage_settings(vault, person).stopped_purposes == frozenset()
    vault.withdraw(HOST, person)
    token = _token_for(runtime, "f@example.jp", person)
    runtime.mail.unsubscribe(token, source="one-click")  # a withdrawn person: nothing to stop
    assert _audit_details(runtime, "subject.restrictions") == []
