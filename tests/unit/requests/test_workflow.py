"""The pure workflow: transitions, due dates, reminders and the rules of a decision."""

from __future__ import annotations

import datetime as dt

import pytest

from mamori.errors import InvalidTransition, ReasonRequired, RequestNotVerified, UserInputError
from mamori.requests.model import Outcome, Request, RequestType, Status, Verification
from mamori.requests.workflow import (
    TRANSITIONS,
    Decision,
    check_decision,
    due_at,
    needs_reminder,
    next_status,
)

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


def _request(**changes: object) -> Request:
    values: dict[str, object] = {
        "id": "r1",
        "type": RequestType.disclosure,
        "status": Status.in_review,
        "language": "ja",
        "created_at": NOW,
        "due_at": NOW + dt.timedelta(days=14),
        "subject_id": "s1",
        "verified_by": Verification.email_code,
        "items": (),
    }
    values.update(changes)
    return Request(**values)  # type: ignore[arg-type]


def test_the_happy_path_and_nothing_else() -> None:
    path = [Status.verified, Status.in_review, Status.decided, Status.notified, Status.closed]
    current = Status.received
    for wanted in path:
        current = next_status(current, wanted)
    assert current is Status.closed
    for state, allowed in TRANSITIONS.items():
        for wanted in Status:
            if wanted not in allowed:
                with pytest.raises(InvalidTransition):
                    next_status(state, wanted)


def test_received_cannot_be_decided_or_reviewed() -> None:
    with pytest.raises(InvalidTransition):
        next_status(Status.received, Status.in_review)
    with pytest.raises(InvalidTransition):
        next_status(Status.received, Status.decided)


def test_an_unverified_request_can_never_be_fulfilled() -> None:
    for status in Status:
        request = _request(status=status, verified_by=None)
        for outcome in Outcome:
            with pytest.raises(RequestNotVerified):
                check_decision(request, Decision(outcome, reason="x"))


def test_a_refusal_and_a_partial_fulfilment_need_a_reason() -> None:
    for outcome in (Outcome.refused, Outcome.partly_fulfilled):
        with pytest.raises(ReasonRequired):
            check_decision(_request(), Decision(outcome))
        with pytest.raises(ReasonRequired):
            check_decision(_request(), Decision(outcome, reason="   \n"))
        check_decision(_request(), Decision(outcome, reason="法33条2項1号に該当するため"))
    check_decision(_request(), Decision(Outcome.fulfilled))
    check_decision(_request(), Decision(Outcome.no_data))


def test_a_substitute_measure_needs_a_description_and_a_stop_type() -> None:
    stop = _request(type=RequestType.usage_stop, items=("address",))
    with pytest.raises(ReasonRequired):
        check_decision(stop, Decision(Outcome.fulfilled, substitute=True))
    check_decision(stop, Decision(Outcome.fulfilled, substitute=True, reason="配送を停止"))
    with pytest.raises(UserInputError):
        check_decision(_request(), Decision(Outcome.fulfilled, substitute=True, reason="x"))


def test_decisions_only_from_review() -> None:
    with pytest.raises(InvalidTransition):
        check_decision(_request(status=Status.verified), Decision(Outcome.fulfilled))
    with pytest.raises(InvalidTransition):
        check_decision(_request(status=Status.notified), Decision(Outcome.fulfilled))


def test_an_inquiry_is_answered_with_text() -> None:
    inquiry = _request(type=RequestType.inquiry, subject_id=None)
    with pytest.raises(ReasonRequired):
        check_decision(inquiry, Decision(Outcome.fulfilled))
    with pytest.raises(UserInputError):
        check_decision(inquiry, Decision(Outcome.no_data))
    check_decision(inquiry, Decision(Outcome.fulfilled, reason="回答です"))


def test_only_asked_items_can_be_accepted_and_only_erasure_shreds() -> None:
    stop = _request(type=RequestType.usage_stop, items=("address",))
    with pytest.raises(UserInputError):
        check_decision(stop, Decision(Outcome.fulfilled, accepted_items=("phone",)))
    with pytest.raises(UserInputError):
        check_decision(stop, Decision(Outcome.fulfilled, withdraw=True))
    erasure = _request(type=RequestType.erasure, items=("address",))
    check_decision(erasure, Decision(Outcome.fulfilled, withdraw=True))


def test_fulfilling_needs_a_linked_subject() -> None:
    with pytest.raises(UserInputError):
        check_decision(_request(subject_id=None), Decision(Outcome.fulfilled))
    check_decision(_request(subject_id=None), Decision(Outcome.no_data))


def test_due_dates_per_type() -> None:
    assert due_at(NOW, RequestType.erasure) == NOW + dt.timedelta(days=14)
    per_type = {"disclosure": 10}
    assert due_at(NOW, RequestType.disclosure, per_type) == NOW + dt.timedelta(days=10)
    assert due_at(NOW, RequestType.erasure, per_type, 7) == NOW + dt.timedelta(days=7)


def test_reminders_once_before_the_due_date() -> None:
    request = _request(status=Status.verified)
    assert not needs_reminder(request, NOW, 3)
    soon = request.due_at - dt.timedelta(days=2)
    assert needs_reminder(request, soon, 3)
    assert not needs_reminder(_request(status=Status.verified, reminded_at=soon), soon, 3)
    assert not needs_reminder(_request(status=Status.notified), soon, 3)
    assert request.overdue(request.due_at + dt.timedelta(seconds=1))
    assert not _request(status=Status.closed).overdue(request.due_at + dt.timedelta(days=1))
