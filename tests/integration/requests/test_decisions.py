"""Decisions carried out in the vault, each with its notice; a refusal always has a reason."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.errors import ReasonRequired, UserInputError
from mamori.requests import service, store
from mamori.requests.intake import check_intake
from mamori.requests.model import Outcome, Request, Status, Verification
from mamori.requests.workflow import Decision
from mamori.store import db
from mamori.vault.restrictions import usage_settings
from tests.helpers.requests import BASE, HOST, mails, person

STAFF = "staff:st_1"


def _filed(runtime: Runtime, subject: str | None, type: str, **fields: object) -> Request:
    intake = check_intake(
        runtime.vault.rules(),
        type=type,
        language=str(fields.pop("language", "ja")),
        email="hanako@example.jp",
        **fields,  # type: ignore[arg-type]
    )
    request = service.file_request(
        runtime,
        intake,
        actor="subject:x",
        client="c",
        base_url=BASE,
        subject_id=subject,
        verified_by=Verification.session,
    )
    return service.start_review(runtime, request.id, actor=STAFF)


def _decide(runtime: Runtime, request: Request, decision: Decision) -> Request:
    return service.decide(runtime, request.id, decision, actor=STAFF, base_url=BASE)


def test_a_refusal_without_a_reason_changes_nothing(runtime: Runtime) -> None:
    subject = person(runtime)
    request = _filed(runtime, subject, "erasure", items=["phone"], ground="no_longer_needed")
    before = len(mails(runtime))
    with pytest.raises(ReasonRequired):
        _decide(runtime, request, Decision(Outcome.refused, reason="  "))
    with db.read(runtime.engine) as conn:
        assert store.load(conn, request.id).status is Status.in_review
    assert len(mails(runtime)) == before
    done = _decide(runtime, request, Decision(Outcome.refused, reason="法令により保存が必要です"))
    assert done.status is Status.notified and done.outcome is Outcome.refused
    notice = mails(runtime, "request_decided")[-1]
    assert "法令により保存が必要です" in (notice.body or "")
    assert "対応しないことと決定しました" in (notice.body or "")


def test_a_correction_updates_the_vault(runtime: Runtime) -> None:
    subject = person(runtime)
    request = _filed(
        runtime, subject, "correction", corrections={"name": "山田 花", "phone": "090-1234-5678"}
    )
    assert set(request.items) == {"name", "phone"}
    _decide(
        runtime,
        request,
        Decision(
            Outcome.partly_fulfilled,
            reason="電話番号は確認できませんでした",
            accepted_items=("name",),
        ),
    )
    values = runtime.vault.read(HOST, subject, "service_operation", ["name", "phone"]).items
    assert values["name"] == "山田 花"
    assert "phone" not in values


def test_a_usage_stop_applies_in_the_vault(runtime: Runtime) -> None:
    subject = person(runtime, phone="090-1111-2222")
    request = _filed(runtime, subject, "usage_stop", items=["phone"], ground="rights_harmed")
    _decide(runtime, request, Decision(Outcome.fulfilled))
    assert "phone" in usage_settings(runtime.vault, subject).stopped_items
    read = runtime.vault.read(HOST, subject, "service_operation", ["phone"])
    assert read.refused == {"phone": "stopped_by_person"}


def test_an_erasure_deletes_items_or_shreds_the_subject(runtime: Runtime) -> None:
    subject = person(runtime, phone="090-1111-2222")
    request = _filed(runtime, subject, "erasure", items=["phone"], ground="no_longer_needed")
    _decide(runtime, request, Decision(Outcome.fulfilled))
    assert runtime.vault.read(HOST, subject, "service_operation", ["phone"]).missing == ("phone",)
    other = person(runtime, email="taro@example.jp")
    request = _filed(runtime, other, "erasure", items=["name"], ground="breach")
    _decide(runtime, request, Decision(Outcome.fulfilled, withdraw=True))
    assert runtime.vault.get_subject(other).withdrawn


def test_a_substitute_measure_is_recorded_instead(runtime: Runtime) -> None:
    subject = person(runtime, phone="090-1111-2222")
    request = _filed(runtime, subject, "erasure", items=["phone"], ground="no_longer_needed")
    with pytest.raises(ReasonRequired):
        _decide(runtime, request, Decision(Outcome.fulfilled, substitute=True))
    done = _decide(
        runtime, request, Decision(Outcome.fulfilled, substitute=True, reason="利用を停止しました")
    )
    assert done.substitute
    assert runtime.vault.read(HOST, subject, "service_operation", ["phone"]).items
    assert "次の措置" in (mails(runtime, "request_decided")[-1].body or "")


def test_a_provision_stop_is_recorded(runtime: Runtime) -> None:
    from mamori.requests.decisions import provision_stops

    subject = person(runtime)
    request = _filed(
        runtime, subject, "provision_stop", items=["email"], ground="provision_without_consent"
    )
    _decide(runtime, request, Decision(Outcome.fulfilled))
    with db.read(runtime.engine) as conn:
        assert provision_stops(conn, [subject]) == {subject: [(request.id, ("email",))]}


def test_a_mail_opt_out_is_recorded(runtime: Runtime) -> None:
    from mamori.mail import optout
    from mamori.vault.addresses import address_hash

    subject = person(runtime)
    request = _filed(runtime, subject, "mail_opt_out")
    _decide(runtime, request, Decision(Outcome.fulfilled))
    with db.read(runtime.engine) as conn:
        assert optout.is_opted_out(
            conn, address_hash(runtime.vault.system_keys, "hanako@example.jp")
        )


def test_an_inquiry_is_answered_by_mail_in_the_persons_language(runtime: Runtime) -> None:
    request = _filed(runtime, None, "inquiry", message="How do you use my data?", language="en")
    with pytest.raises(ReasonRequired):
        _decide(runtime, request, Decision(Outcome.fulfilled))
    _decide(runtime, request, Decision(Outcome.fulfilled, reason="Only as the policy says."))
    answer = mails(runtime, "request_answer")[-1]
    assert answer.to == "hanako@example.jp"
    assert answer.subject is not None and "our answer" in answer.subject
    assert "Only as the policy says." in (answer.body or "")


def test_every_step_is_audited_with_ids_only(runtime: Runtime) -> None:
    subject = person(runtime)
    request = _filed(runtime, subject, "disclosure")
    _decide(runtime, request, Decision(Outcome.fulfilled))
    service.close(runtime, request.id, actor=STAFF)
    with db.read(runtime.engine) as conn:
        entries = conn.execute(
            sa.text("SELECT action, targets, details FROM audit_entries ORDER BY seq")
        ).all()
    actions = [e.action for e in entries]
    for step in ("receive", "verify", "review", "decide", "notify", "close"):
        assert f"request.{step}" in actions
    text = repr(entries)
    assert "hanako" not in text and "山田" not in text


def test_closing_a_decided_request_early_is_refused(runtime: Runtime) -> None:
    subject = person(runtime)
    request = _filed(runtime, subject, "disclosure")
    with pytest.raises(UserInputError):
        service.close(runtime, request.id, actor=STAFF)


def test_a_refused_disclosure_by_post_does_not_promise_a_letter(runtime: Runtime) -> None:
    subject = person(runtime)
    request = _filed(
        runtime, subject, "disclosure", delivery="post", postal_address="東京都港区南青山5-13-1"
    )
    _decide(runtime, request, Decision(Outcome.refused, reason="ご本人の確認ができませんでした"))
    body = mails(runtime, "request_decided")[-1].body or ""
    assert "ご本人の確認ができませんでした" in body
    assert "郵送" not in body
    granted = _filed(
        runtime, subject, "disclosure", delivery="post", postal_address="東京都港区南青山5-13-1"
    )
    _decide(runtime, granted, Decision(Outcome.fulfilled))
    assert "郵送" in (mails(runtime, "request_decided")[-1].body or "")
