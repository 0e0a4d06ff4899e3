"""Lockout after repeated failures: the pure rule, and through sign-in on a real database."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.errors import SignInFailed, SignInLocked
from mamori.staff import Limits, StaffDirectory, sign_in
from mamori.staff.lockout import locked_until
from mamori.store import db, tables
from tests.helpers.clock import ManualClock
from tests.helpers.staff import PASSWORD

T0 = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)
LIMITS = Limits(login_failures=5, client_failures=8, minutes=15)
HOUR = dt.timedelta(hours=1)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_five_failures_within_the_window_lock_for_the_window() -> None:
    times = [at(m) for m in (0, 1, 2, 3, 4)]
    assert locked_until(times[:4], 5, WINDOW, at(4)) is None
    assert locked_until(times, 5, WINDOW, at(4)) == at(19)
    assert locked_until(times, 5, WINDOW, at(18.9)) == at(19)
    assert locked_until(times, 5, WINDOW, at(19)) is None


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    times = [at(m) for m in (0, 4, 8, 12, 16, 20, 24)]
    assert locked_until(times, 5, WINDOW, at(24)) is None
    assert locked_until(times[::-1], 3, WINDOW, at(24)) == at(39)  # any order


def _sign_in(staff: StaffDirectory, login: str, password: str, client: str = "192.0.2.1"):
    return sign_in(staff, login, password, client=client, limits=LIMITS, max_age=HOUR)


def _fail(staff: StaffDirectory, login: str, times: int, client: str = "192.0.2.1") -> None:
    for _ in range(times):
        with pytest.raises(SignInFailed):
            _sign_in(staff, login, "wrong password!!", client)


def test_an_account_locks_after_five_failures_and_unlocks_after_the_window(
    staff: StaffDirectory, frozen: ManualClock
) -> None:
    staff.create("hanako", "山田 花子", "manager", PASSWORD, actor="test")
    _fail(staff, "hanako", 5)
    with pytest.raises(SignInLocked) as caught:
        _sign_in(staff, "hanako", PASSWORD)  # the right password does not help while locked
    assert caught.value.retry_after == 15 * 60
    assert "15 minutes" in str(caught.value)
    frozen.advance(minutes=14, seconds=59)
    with pytest.raises(SignInLocked):
        _sign_in(staff, "Hanako", PASSWORD)  # login IDs compare case-insensitively
    frozen.advance(seconds=1)
    assert _sign_in(staff, "hanako", PASSWORD).session.account.login == "hanako"


def test_attempts_while_locked_do_not_extend_the_lock(
    staff: StaffDirectory, frozen: ManualClock
) -> None:
    staff.create("hanako", "山田 花子", "manager", PASSWORD, actor="test")
    _fail(staff, "hanako", 5)
    for _ in range(3):
        frozen.advance(minutes=4)
        with pytest.raises(SignInLocked):
            _sign_in(staff, "hanako", "still guessing!!")
    frozen.advance(minutes=3)  # 15 minutes after the fifth failure
    assert _sign_in(staff, "hanako", PASSWORD)


def test_unknown_login_ids_lock_exactly_like_real_ones(
    staff: StaffDirectory, frozen: ManualClock
) -> None:
    """No enumeration: the sixth attempt says "locked" whether or not the account exists."""
    staff.create("hanako", "山田 花子", "manager", PASSWORD, actor="test")
    answers: dict[str, object] = {}
    for login in ("hanako", "nobody"):
        _fail(staff, login, 5, client=f"198.51.100.{len(answers)}")
        with pytest.raises(SignInLocked) as caught:
            _sign_in(staff, login, "wrong password!!", client=f"198.51.100.{len(answers)}")
        answers[login] = (type(caught.value), caught.value.retry_after, str(caught.value))
    assert answers["hanako"] == answers["nobody"]


def test_a_client_address_locks_across_login_ids(
    staff: StaffDirectory, frozen: ManualClock
) -> None:
    staff.create("hanako", "山田 花子", "manager", PASSWORD, actor="test")
    for n in range(LIMITS.client_failures):
        _fail(staff, f"guess{n}", 1, client="203.0.113.9")
    with pytest.raises(SignInLocked):
        _sign_in(staff, "hanako", PASSWORD, client="203.0.113.9")
    assert _sign_in(staff, "hanako", PASSWORD, client="192.0.2.7")  # others are not locked


def test_a_success_does_not_forget_the_failures_of_its_login(
    runtime: Runtime, staff: StaffDirectory, frozen: ManualClock
) -> None:
    """Failures age out of the window; a right password does not wipe them (else a guesser
    gets fresh tries each time the member signs in)."""
    staff.create("hanako", "山田 花子", "manager", PASSWORD, actor="test")
    _fail(staff, "hanako", 4)
    assert _sign_in(staff, "hanako", PASSWORD)  # the right password does not count
    _fail(staff, "hanako", 1)
    with pytest.raises(SignInLocked):
        _sign_in(staff, "hanako", PASSWORD)  # five failures within the window
    frozen.advance(minutes=31)
    assert _sign_in(staff, "hanako", PASSWORD)


def test_failures_store_no_login_and_no_address(
    runtime: Runtime, staff: StaffDirectory, frozen: ManualClock
) -> None:
    _fail(staff, "yamada.hanako@example.jp", 2, client="192.0.2.44")
    table = tables.staff_sign_in_failures
    with db.read(runtime.engine) as conn:
        rows = conn.execute(sa.select(table)).all()
    assert len(rows) == 2
    stored = b"".join(bytes(r.login_hash) + bytes(r.client_hash) for r in rows)
    assert b"hanako" not in stored and b"192.0.2.44" not in stored
    frozen.advance(minutes=31)
    _fail(staff, "someone", 1)  # old rows that can no longer count are deleted
    with db.read(runtime.engine) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 1
