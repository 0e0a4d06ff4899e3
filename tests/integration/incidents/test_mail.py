"""Notices to the people affected (one queued mail per person, in their language, to the
address the vault holds, idempotent) and the reminders of the deadlines to the staff member
responsible (once per report, only within MAMORI_INCIDENT_REMINDER_DAYS, also as the job of
the built-in parts). On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from mamori.app import BUILT_IN, Runtime
from mamori.incidents import notices, people, register, reminders
from mamori.requests import service
from mamori.requests.intake import check_intake
from mamori.requests.model import Verification
from tests.helpers.clock import ManualClock
from tests.helpers.requests import HOST, mails, person
from tests.helpers.staff import PASSWORD, directory

ACTOR = "staff:st_test"
FACTS: dict[str, Any] = {
    "discovered_at": "2026-05-01T08:00",
    "aware_at": "2026-05-01T09:30",
    "items": ["name", "email"],
    "people_estimated": "1001",
    "texts": {"summary": "不正アクセス", "cause": "脆弱性", "harm": "なし"},
}


def test_each_person_gets_one_notice_in_their_language(runtime: Runtime) -> None:
    a = person(runtime, "a@example.jp")
    b = person(runtime, "b@example.jp")
    nobody = runtime.vault.create_subject(HOST, type="customer", items={"name": "住所 のみ"})
    found = register.record(runtime, actor=ACTOR, **FACTS)
    # b once asked the operator something in English: the notice goes in English.
    intake = check_intake(
        runtime.vault.rules(), type="inquiry", language="en", email="b@example.jp", message="Hi"
    )
    service.file_request(
        runtime,
        intake,
        actor="subject:x",
        client="c",
        base_url="http://mamori.test",
        subject_id=b,
        verified_by=Verification.session,
    )
    people.choose(runtime, found.id, actor=ACTOR, subject_ids=[a, b, nobody])
    sent = notices.send_notices(runtime, found.id, actor=ACTOR)
    assert (sent.queued, sent.no_address) == (2, 1)
    queued = {m.to or "": m for m in mails(runtime, notices.TEMPLATE)}
    assert sorted(queued) == ["a@example.jp", "b@example.jp"]
    body = queued["a@example.jp"].body or ""
    assert "不正アクセス" in body and "脆弱性" in body and "氏名" in body
    assert "漏えい等" in (queued["a@example.jp"].subject or "")
    english = queued["b@example.jp"]
    assert english.summary.language == "en" and "Notice from" in (english.subject or "")
    assert "[Cause]" in (english.body or "") and "Name" in (english.body or "")
    again = notices.send_notices(runtime, found.id, actor=ACTOR)
    assert again.queued == 0 and len(mails(runtime, notices.TEMPLATE)) == 2
    assert register.get(runtime, found.id).noticed == 2


def test_reminders_go_to_the_responsible_once_per_report(
    runtime: Runtime, clock: ManualClock, lead: str
) -> None:
    found = register.record(runtime, actor=ACTOR, responsible=lead, **FACTS)
    assert reminders.remind(runtime) == 0  # preliminary due 4 May, 3 days left (> 1)
    clock.advance(days=2)  # 3 May: one day left
    assert reminders.remind(runtime) == 1
    assert reminders.remind(runtime) == 0  # once
    [mail] = mails(runtime, reminders.TEMPLATE)
    assert mail.to == "lead@example.jp" and "2026-05-04" in (mail.subject or "")
    assert "速報" in (mail.subject or "") and f"/admin/incidents/{found.id}" in (mail.body or "")
    register.mark_report(runtime, found.id, actor=ACTOR, kind="preliminary", sent_on="2026-05-03")
    clock.advance(days=26)  # 29 May: the final report is due on 30 May
    job = BUILT_IN.job(reminders.NAME)
    assert job is not None
    job.run(runtime)
    job.run(runtime)
    subjects = [m.subject or "" for m in mails(runtime, reminders.TEMPLATE)]
    assert len(subjects) == 2 and "確報" in subjects[1] and "2026-05-30" in subjects[1]


def test_no_reminder_without_an_address_or_for_what_is_not_reportable(
    runtime: Runtime, clock: ManualClock, lead: str
) -> None:
    mute = directory(runtime).create("mute", "職員 mute", "lead", PASSWORD, actor="test").id
    register.record(runtime, actor=ACTOR, responsible=mute, **FACTS)
    register.record(runtime, actor=ACTOR, responsible=lead, **{**FACTS, "people_estimated": "3"})
    clock.advance(days=10)
    assert reminders.remind(runtime) == 0 and mails(runtime, reminders.TEMPLATE) == []
