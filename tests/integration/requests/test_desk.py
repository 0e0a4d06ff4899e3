"""The request desk: the queue found by number (however typed), by the e-mail address it was
filed with (by its keyed hash) or by id; filters by type, status, due and assignee; the
dashboard's counts; the CSV with no personal details; notes sealed and audited without their
text; assignment audited."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.errors import UserInputError
from mamori.requests import casework, desk, service
from mamori.requests.intake import check_intake
from mamori.requests.model import Request, RequestType, Status, Verification
from mamori.requests.store import SealKeys
from mamori.store import db, tables
from tests.helpers.clock import ManualClock
from tests.helpers.requests import BASE, person

NOW = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo


def file(runtime: Runtime, type: str = "inquiry", email: str = "hanako@example.jp") -> Request:
    intake = check_intake(
        runtime.vault.rules(), type=type, language="ja", email=email, message="質問です"
    )
    return service.file_request(
        runtime,
        intake,
        actor="subject:x",
        client="c",
        base_url=BASE,
        subject_id=person(runtime, email=email),
        verified_by=Verification.session,
    )


def find(runtime: Runtime, **query: str) -> desk.Queue:
    filt = desk.QueueFilter.parse(query)
    with db.read(runtime.engine) as conn:
        return desk.find(
            conn, filt, SealKeys(runtime.vault.system_keys), now=runtime.clock.now(), soon_days=3
        )


@pytest.fixture
def frozen(runtime: Runtime, clock: ManualClock) -> Runtime:
    clock.freeze(NOW)
    return runtime


def test_the_queue_finds_a_request_by_its_number_however_typed(frozen: Runtime) -> None:
    wanted = file(frozen)
    file(frozen, email="taro@example.jp")
    assert wanted.number is not None and wanted.reference.count("-") == 2
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in wanted.number)
    for typed in (wanted.reference, wanted.number, f" {full_width} "):
        found = find(frozen, q=typed)
        assert [r.id for r in found.requests] == [wanted.id]
        assert found.searched_by == "number"
    typo = wanted.number[:-1] + str((int(wanted.number[-1]) + 1) % 10)
    with pytest.raises(UserInputError, match="check digit"):
        find(frozen, q=typo)


def test_the_queue_finds_requests_by_address_and_by_id(frozen: Runtime) -> None:
    first = file(frozen, email="hanako@example.jp")
    second = file(frozen, type="disclosure", email="hanako@example.jp")
    file(frozen, email="taro@example.jp")
    by_address = find(frozen, q="Hanako@Example.JP")
    assert {r.id for r in by_address.requests} == {first.id, second.id}
    assert by_address.searched_by == "email"
    assert [r.id for r in find(frozen, q=first.id).requests] == [first.id]
    assert find(frozen, q="nobody@example.jp").requests == []
    with pytest.raises(UserInputError, match="request number"):
        find(frozen, q="hanako")


def test_filters_narrow_by_type_status_due_and_assignee(
    frozen: Runtime, clock: ManualClock
) -> None:
    inquiry = file(frozen)
    disclosure = file(frozen, type="disclosure")
    service.start_review(frozen, disclosure.id, actor="staff:st_1")
    assert [r.id for r in find(frozen, type="disclosure").requests] == [disclosure.id]
    assert [r.id for r in find(frozen, status="in_review").requests] == [disclosure.id]
    assert find(frozen, due="overdue").requests == []
    casework.assign(frozen, inquiry.id, "st_1", actor="staff:st_1")
    assert [r.id for r in find(frozen, assignee="st_1").requests] == [inquiry.id]
    assert [r.id for r in find(frozen, assignee="none").requests] == [disclosure.id]
    clock.freeze(max(inquiry.due_at, disclosure.due_at) + dt.timedelta(hours=1))
    assert {r.id for r in find(frozen, due="overdue").requests} == {inquiry.id, disclosure.id}
    with pytest.raises(UserInputError, match="type: one of"):
        find(frozen, type="everything")
    with pytest.raises(UserInputError, match="due: one of"):
        find(frozen, due="yesterday")


def test_counts_and_days_left_are_in_the_operators_calendar(
    frozen: Runtime, clock: ManualClock
) -> None:
    request = file(frozen)
    with db.read(frozen.engine) as conn:
        counts = desk.counts(conn, now=frozen.clock.now(), soon_days=3)
    assert counts == desk.Counts(open=1, overdue=0, due_soon=0, awaiting_verification=0)
    due_day = request.due_at.astimezone(dt.timezone(dt.timedelta(hours=9))).date()
    # 23:30 in Tokyo on the day before the due day is "1 day left", though it is 14:30 UTC.
    late_evening = dt.datetime.combine(
        due_day - dt.timedelta(days=1), dt.time(23, 30), dt.timezone(dt.timedelta(hours=9))
    )
    clock.freeze(late_evening)
    assert desk.days_left(request, frozen.clock.now(), "Asia/Tokyo") == 1
    with db.read(frozen.engine) as conn:
        assert desk.counts(conn, now=frozen.clock.now(), soon_days=3).due_soon == 1


def test_the_csv_names_requests_by_number_in_japanese_and_holds_no_address(
    frozen: Runtime,
) -> None:
    request = file(frozen, email="hanako@example.jp")
    casework.assign(frozen, request.id, "st_1", actor="staff:st_1")
    with db.read(frozen.engine) as conn:
        text = "".join(
            desk.to_csv(
                conn,
                desk.QueueFilter(),
                SealKeys(frozen.vault.system_keys),
                now=frozen.clock.now(),
                soon_days=3,
                zone="Asia/Tokyo",
                lang="ja",
                staff_names={"st_1": "=HYPERLINK(1)"},
                page=1,
            )
        )
    lines = text.lstrip("\ufeff").splitlines()
    assert text.startswith("\ufeff受付番号,")
    assert len(lines) == 2 and lines[1].startswith(request.reference + ",お問い合わせ")
    assert "JST" in lines[1] and "'=HYPERLINK(1)" in lines[1]
    assert "hanako" not in text and "質問" not in text


def test_a_note_is_sealed_and_its_audit_entry_holds_no_text(frozen: Runtime) -> None:
    request = file(frozen)
    note = casework.add_note(frozen, request.id, "電話で本人確認済み 山田様", staff_id="st_1")
    assert [n.text for n in casework.notes(frozen, request.id)] == ["電話で本人確認済み 山田様"]
    with db.read(frozen.engine) as conn:
        raw = conn.execute(sa.select(tables.request_notes.c.sealed)).scalar_one()
    entry = [e for e in frozen.audit.tail(5) if e.action == "request.note"]
    assert len(entry) == 1
    assert "山田".encode() not in raw
    assert "山田" not in str(entry) and note.id in str(entry)
    for bad, message in (
        ("   ", "write something"),
        ("x" * 4001, "at most"),
        ("a\x00b", "control"),
    ):
        with pytest.raises(UserInputError, match=message):
            casework.add_note(frozen, request.id, bad, staff_id="st_1")
    assert len(casework.notes(frozen, request.id)) == 1


def test_closed_requests_show_only_when_asked_for_or_searched(frozen: Runtime) -> None:
    request = file(frozen)
    service.start_review(frozen, request.id, actor="staff:st_1")
    from mamori.requests.model import Outcome
    from mamori.requests.workflow import Decision

    service.decide(
        frozen,
        request.id,
        Decision(Outcome.fulfilled, reason="回答"),
        actor="staff:st_1",
        base_url=BASE,
    )
    service.close(frozen, request.id, actor="staff:st_1")
    assert find(frozen).requests == []
    assert [r.status for r in find(frozen, closed="1").requests] == [Status.closed]
    assert [r.type for r in find(frozen, q=request.reference).requests] == [RequestType.inquiry]


def test_mails_and_pages_give_dates_in_the_operators_time_zone(
    runtime: Runtime, clock: ManualClock
) -> None:
    from tests.helpers.requests import mails

    clock.freeze(dt.datetime(2026, 5, 1, 15, 30, tzinfo=dt.UTC))  # 00:30 on 2 May in Tokyo
    request = file(runtime)
    tokyo = request.due_at.astimezone(dt.timezone(dt.timedelta(hours=9))).date()
    assert tokyo != request.due_at.date()
    body = mails(runtime, "request_received")[-1].body or ""
    assert tokyo.isoformat() in body and request.due_at.date().isoformat() not in body
    assert request.reference in body
