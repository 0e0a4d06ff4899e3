"""Sign-in and sessions on a real database: rehash, timeouts, disable, audit, no leaks."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, Type

from mamori.app import Runtime
from mamori.errors import SignInFailed, StaffSessionRequired
from mamori.staff import Limits, StaffDirectory, sessions, sign_in
from mamori.store import db, tables
from tests.helpers.clock import ManualClock
from tests.helpers.staff import PASSWORD

IDLE = dt.timedelta(minutes=30)
MAX_AGE = dt.timedelta(hours=12)


def _sign_in(staff: StaffDirectory, login: str, password: str):
    return sign_in(staff, login, password, client="192.0.2.1", limits=Limits(), max_age=MAX_AGE)


def test_sign_in_opens_a_session_stored_as_a_hash(
    runtime: Runtime, staff: StaffDirectory, frozen: ManualClock
) -> None:
    account = staff.create("hanako", "山田 花子", "handler", PASSWORD, actor="test")
    signed_in = _sign_in(staff, "hanako", PASSWORD)
    assert len(signed_in.token) == 43
    with db.read(runtime.engine) as conn:
        row = conn.execute(sa.select(tables.staff_sessions)).one()
        last = conn.execute(sa.select(tables.staff_accounts.c.last_sign_in_at)).scalar_one()
    assert row.token_hash != signed_in.token.encode()
    assert bytes(row.token_hash) == sessions.token_hash(signed_in.token)
    assert last == frozen.now()
    session = sessions.current(staff, signed_in.token, now=frozen.now(), idle=IDLE)
    assert session.account.id == account.id
    assert session.csrf_token == signed_in.session.csrf_token
    entry = runtime.audit.tail(1)[0]
    client = entry.details["client"]  # a keyed fingerprint, never the address
    assert isinstance(client, str) and len(client) == 16 and int(client, 16) >= 0
    assert (entry.actor, entry.action, entry.details) == (
        f"staff:{account.id}",
        "staff.sign_in",
        {"result": "ok", "second_factor": "none", "client": client},
    )


def test_the_same_answer_for_unknown_login_wrong_password_and_disabled_account(
    runtime: Runtime, staff: StaffDirectory, caplog: pytest.LogCaptureFixture
) -> None:
    staff.create("boss", "管理者", "manager", PASSWORD, actor="test")
    taro = staff.create("taro", "太郎", "viewer", PASSWORD, actor="test")
    staff.disable(taro.id, actor="test")
    caplog.set_level(logging.DEBUG)
    messages = []
    for login, password in (("nobody", PASSWORD), ("boss", "wrong password!"), ("taro", PASSWORD)):
        with pytest.raises(SignInFailed) as caught:
            _sign_in(staff, login, password)
        messages.append(str(caught.value))
    assert len(set(messages)) == 1
    entries = runtime.audit.tail(3)
    assert [(e.actor, e.details) for e in entries] == [
        ("unknown", {"result": "failed", "reason": "unknown_login"}),
        (entries[1].actor, {"result": "failed", "reason": "wrong_password"}),
        (f"staff:{taro.id}", {"result": "failed", "reason": "disabled"}),
    ]
    assert entries[1].actor.startswith("staff:st_")
    for text in ("nobody", "wrong password!", PASSWORD):
        assert text not in caplog.text
        assert all(text not in str(e) for e in entries)


def test_an_unknown_login_costs_one_verification(staff: StaffDirectory) -> None:
    """Timing: unknown and known logins both run argon2 (compared by wall time, generously)."""
    import time

    staff.create("boss", "管理者", "manager", PASSWORD, actor="test")

    def took(login: str) -> float:
        start = time.perf_counter()
        with pytest.raises(SignInFailed):
            _sign_in(staff, login, "wrong password!")
        return time.perf_counter() - start

    took("nobody")  # the dummy hash is made on first use
    known = min(took("boss") for _ in range(2))
    unknown = min(took("nobody") for _ in range(2))
    assert unknown > 0.5 * known


def test_old_parameters_are_rehashed_at_sign_in(runtime: Runtime) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    old = StaffDirectory(runtime.engine, runtime.audit, runtime.vault.system_keys, hasher=weak)
    old.create("hanako", "山田 花子", "manager", PASSWORD, actor="test")
    query = sa.select(tables.staff_accounts.c.password_hash)
    with db.read(runtime.engine) as conn:
        before = conn.execute(query).scalar_one()
    assert "m=8192,t=1,p=1" in before
    staff = StaffDirectory(runtime.engine, runtime.audit, runtime.vault.system_keys)
    _sign_in(staff, "hanako", PASSWORD)
    with db.read(runtime.engine) as conn:
        after = conn.execute(query).scalar_one()
    assert after.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    _sign_in(staff, "hanako", PASSWORD)  # the new hash verifies


def test_idle_and_absolute_timeouts(staff: StaffDirectory, frozen: ManualClock) -> None:
    staff.create("hanako", "山田 花子", "manager", PASSWORD, actor="test")
    token = _sign_in(staff, "hanako", PASSWORD).token
    for _ in range(24):  # active every 29 minutes: the idle timeout never ends it ...
        frozen.advance(minutes=29)
        sessions.current(staff, token, now=frozen.now(), idle=IDLE)
    frozen.advance(minutes=29)  # ... but 12 hours after sign-in it ends
    with pytest.raises(StaffSessionRequired, match="ended"):
        sessions.current(staff, token, now=frozen.now(), idle=IDLE)
    with pytest.raises(StaffSessionRequired):  # and it was deleted
        sessions.current(staff, token, now=frozen.now() - dt.timedelta(hours=1), idle=IDLE)

    token = _sign_in(staff, "hanako", PASSWORD).token
    frozen.advance(minutes=30)
    with pytest.raises(StaffSessionRequired, match="ended"):
        sessions.current(staff, token, now=frozen.now(), idle=IDLE)


def test_disabling_or_resetting_ends_sessions(staff: StaffDirectory, frozen: ManualClock) -> None:
    staff.create("boss", "管理者", "manager", PASSWORD, actor="test")
    taro = staff.create("taro", "太郎", "viewer", PASSWORD, actor="test")
    token = _sign_in(staff, "taro", PASSWORD).token
    staff.disable(taro.id, actor="test")
    with pytest.raises(StaffSessionRequired):
        sessions.current(staff, token, now=frozen.now(), idle=IDLE)
    staff.enable(taro.id, actor="test")
    token = _sign_in(staff, "taro", PASSWORD).token
    staff.reset_password(taro.id, "another long password", actor="test")
    with pytest.raises(StaffSessionRequired):
        sessions.current(staff, token, now=frozen.now(), idle=IDLE)
    with pytest.raises(SignInFailed):
        _sign_in(staff, "taro", PASSWORD)


@pytest.mark.parametrize("token", [None, "", "x" * 43, "short", "a" * 44, "ä" * 43])
def test_malformed_or_unknown_tokens_name_no_session(
    staff: StaffDirectory, token: str | None
) -> None:
    with pytest.raises(StaffSessionRequired):
        sessions.current(staff, token, now=dt.datetime.now(dt.UTC), idle=IDLE)


def test_sign_out_deletes_the_session(
    runtime: Runtime, staff: StaffDirectory, frozen: ManualClock
) -> None:
    account = staff.create("hanako", "山田 花子", "manager", PASSWORD, actor="test")
    token = _sign_in(staff, "hanako", PASSWORD).token
    sessions.end(staff, sessions.current(staff, token, now=frozen.now(), idle=IDLE))
    with pytest.raises(StaffSessionRequired):
        sessions.current(staff, token, now=frozen.now(), idle=IDLE)
    entry = runtime.audit.tail(1)[0]
    assert (entry.actor, entry.action) == (f"staff:{account.id}", "staff.sign_out")
