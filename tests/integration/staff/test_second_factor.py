"""The second factor of staff sign-in, as the library does it: enrolment, codes, replays,
recovery codes, pending sign-ins, lockout, reset, and what the audit log keeps."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.errors import (
    SecondFactorRejected,
    SecondFactorRequired,
    SignInLocked,
    StaffConflict,
    StaffSessionRequired,
)
from mamori.staff import (
    Limits,
    Pending,
    SecondFactors,
    SignedIn,
    StaffDirectory,
    begin_sign_in,
    finish_enrolment,
    finish_sign_in,
    sign_in,
    totp,
)
from mamori.store import db, tables
from tests.helpers.clock import ManualClock
from tests.helpers.staff import PASSWORD, enrol, totp_secret

HOUR = dt.timedelta(hours=1)
LIMITS = Limits(login_failures=5, client_failures=50, minutes=15)


def _begin(staff: StaffDirectory, login: str = "hanako", *, required: bool = True):
    return begin_sign_in(
        staff, login, PASSWORD, client="192.0.2.1", limits=LIMITS, max_age=HOUR,
        require_second_factor=required,
    )  # fmt: skip


def _finish(staff: StaffDirectory, pending: Pending, code: str) -> SignedIn:
    return finish_sign_in(
        staff, pending.token, code, client="192.0.2.1", limits=LIMITS, max_age=HOUR
    )


def _code(runtime: Runtime, offset: int = 0, secret: str | None = None) -> str:
    step = totp.step_at(runtime.clock.now()) + offset
    return totp.code_at(secret or totp_secret("hanako"), step)


def _audit(runtime: Runtime) -> list[tuple[str, str, dict[str, Any]]]:
    with db.read(runtime.engine) as conn:
        rows = conn.execute(
            sa.select(
                tables.audit_entries.c.actor,
                tables.audit_entries.c.action,
                tables.audit_entries.c.details,
            ).order_by(tables.audit_entries.c.seq)
        ).all()
    return [(r.actor, r.action, json.loads(r.details or "{}")) for r in rows]


@pytest.fixture
def hanako(staff: StaffDirectory, runtime: Runtime, frozen: ManualClock) -> str:
    staff_id = staff.create("hanako", "山田 花子", "manager", PASSWORD, actor="test").id
    enrol(runtime, staff_id, totp_secret("hanako"))
    return staff_id


def test_enrolment_stores_the_secret_encrypted_and_recovery_codes_hashed(
    staff: StaffDirectory, runtime: Runtime, frozen: ManualClock
) -> None:
    staff_id = staff.create("taro", "山田 太郎", "viewer", PASSWORD, actor="test").id
    factors = SecondFactors(staff)
    enrolment = factors.begin(staff_id)
    assert factors.begin(staff_id).secret == enrolment.secret  # a reload shows the same one
    assert enrolment.uri.startswith("otpauth://totp/mamori:taro?")
    for wrong in ("000000", "abc", "", totp.code_at(enrolment.secret, 99)):
        with pytest.raises(SecondFactorRejected):
            factors.confirm(staff_id, wrong, actor="test")
    assert not factors.status(staff_id).enrolled
    now = totp.step_at(runtime.clock.now())
    codes = factors.confirm(staff_id, totp.code_at(enrolment.secret, now), actor="test")
    assert len(codes) == 10 and factors.status(staff_id) == factors.status(staff_id)
    assert factors.status(staff_id).enrolled and factors.status(staff_id).recovery_left == 10
    with pytest.raises(StaffConflict):
        factors.begin(staff_id)
    with db.read(runtime.engine) as conn:
        sealed = conn.execute(sa.select(tables.staff_totp.c.secret_ct)).scalar_one()
        hashes = conn.execute(sa.select(tables.staff_recovery_codes.c.code_hash)).scalars().all()
    assert enrolment.secret.encode() not in sealed
    assert len(hashes) == 10
    assert not {c.replace("-", "").encode() for c in codes} & {bytes(h) for h in hashes}
    entries = _audit(runtime)
    assert ("test", "staff.totp_enrol") in [(a, b) for a, b, _ in entries]
    text = " ".join(json.dumps(d) for _, _, d in entries)
    assert enrolment.secret not in text and not any(c in text for c in codes)


def test_sign_in_with_a_code_and_a_replay_refused(
    staff: StaffDirectory, runtime: Runtime, hanako: str
) -> None:
    pending = _begin(staff)
    assert isinstance(pending, Pending) and pending.stage == "code"
    with pytest.raises(SecondFactorRequired):  # the one-step sign-in cannot skip the code
        sign_in(staff, "hanako", PASSWORD, client="c", limits=LIMITS, max_age=HOUR)
    code = _code(runtime)
    signed_in = _finish(staff, pending, code)
    assert signed_in.session.account.id == hanako
    with pytest.raises(StaffSessionRequired):  # a pending sign-in is used once
        _finish(staff, pending, _code(runtime, 1))
    again = _begin(staff)
    assert isinstance(again, Pending)
    with pytest.raises(SecondFactorRejected):  # the same code, seen over a shoulder
        _finish(staff, again, code)
    with pytest.raises(SecondFactorRejected):  # an older one in the window
        _finish(staff, again, _code(runtime, -1))
    assert _finish(staff, again, _code(runtime, 1)).session.account.id == hanako
    details = [d for _, a, d in _audit(runtime) if a == "staff.second_factor"]
    assert [d["result"] for d in details] == ["ok", "failed", "failed", "ok"]
    assert {d["method"] for d in details} == {"totp"}
    assert not any(code in json.dumps(d) for d in details)


def test_recovery_codes_work_once_and_are_audited(
    staff: StaffDirectory, runtime: Runtime, frozen: ManualClock
) -> None:
    staff_id = staff.create("hanako", "山田 花子", "manager", PASSWORD, actor="test").id
    codes = enrol(runtime, staff_id, totp_secret("hanako"))
    first = codes[0]
    assert _finish(staff, _begin(staff), first.upper().replace("-", " ")).session
    with pytest.raises(SecondFactorRejected):
        _finish(staff, _begin(staff), first)
    assert SecondFactors(staff).status(staff_id).recovery_left == 9
    entries = [(a, b, d) for a, b, d in _audit(runtime) if b == "staff.recovery_code_used"]
    assert entries == [(f"staff:{staff_id}", "staff.recovery_code_used", {"left": 9})]
    new = SecondFactors(staff).regenerate(staff_id, actor=f"staff:{staff_id}")
    with pytest.raises(SecondFactorRejected):  # the old codes stop working
        _finish(staff, _begin(staff), codes[1])
    assert _finish(staff, _begin(staff), new[0]).session


def test_a_pending_sign_in_ends_after_five_minutes(
    staff: StaffDirectory, runtime: Runtime, hanako: str, frozen: ManualClock
) -> None:
    pending = _begin(staff)
    assert isinstance(pending, Pending)
    frozen.advance(minutes=5, seconds=1)
    with pytest.raises(StaffSessionRequired, match="too long"):
        _finish(staff, pending, _code(runtime))
    for token in (None, "", "x" * 43, "not a token"):
        with pytest.raises(StaffSessionRequired):
            finish_sign_in(staff, token, _code(runtime), client="c", limits=LIMITS, max_age=HOUR)


def test_wrong_codes_count_toward_the_lockout_and_a_password_does_not_clear_them(
    staff: StaffDirectory, runtime: Runtime, hanako: str
) -> None:
    for _ in range(4):
        with pytest.raises(SecondFactorRejected):
            _finish(staff, _begin(staff), "000000")
    pending = _begin(staff)  # the right password: the 4 failures still count
    with pytest.raises(SecondFactorRejected):
        _finish(staff, pending, "999999")
    with pytest.raises(SignInLocked):  # locked: even the right code is not checked
        _finish(staff, pending, _code(runtime))
    with pytest.raises(SignInLocked):
        _begin(staff)


def test_enrolment_is_required_after_the_password_when_the_setting_is_on(
    staff: StaffDirectory, runtime: Runtime, frozen: ManualClock
) -> None:
    staff_id = staff.create("jiro", "次郎", "handler", PASSWORD, actor="test").id
    signed = _begin(staff, "jiro", required=False)
    assert isinstance(signed, SignedIn)  # the setting off: a session straight away
    pending = _begin(staff, "jiro")
    assert isinstance(pending, Pending) and pending.stage == "enrol"
    with pytest.raises(StaffSessionRequired):  # not a code sign-in
        _finish(staff, pending, "123456")
    secret = SecondFactors(staff).begin(staff_id).secret
    with pytest.raises(SecondFactorRejected):
        finish_enrolment(staff, pending.token, "000000", max_age=HOUR)
    signed_in, codes = finish_enrolment(
        staff, pending.token, _code(runtime, secret=secret), max_age=HOUR
    )
    assert signed_in.session.account.id == staff_id and len(codes) == 10
    assert isinstance(_begin(staff, "jiro", required=False), Pending)  # enrolled: a code now


def test_reset_removes_the_authenticator_and_ends_sessions(
    staff: StaffDirectory, runtime: Runtime, hanako: str
) -> None:
    signed_in = _finish(staff, _begin(staff), _code(runtime))
    factors = SecondFactors(staff)
    assert factors.reset(hanako, actor="cli") == 1
    with db.read(runtime.engine) as conn:
        sessions = conn.execute(sa.select(sa.func.count()).select_from(tables.staff_sessions))
        assert sessions.scalar_one() == 0
    assert not factors.status(hanako).enrolled and factors.status(hanako).recovery_left == 0
    assert signed_in.token
    with pytest.raises(StaffConflict):
        factors.reset(hanako, actor="cli")
    pending = _begin(staff)
    assert isinstance(pending, Pending) and pending.stage == "enrol"
    assert ("cli", "staff.totp_reset", {"sessions_ended": 1}) in _audit(runtime)
