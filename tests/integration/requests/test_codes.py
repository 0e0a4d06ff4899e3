"""Identity by a one-time code: hashed, 10 minutes, 5 attempts, rate-limited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.errors import CodeLocked, CodeRejected, RateLimited, RequestNotVerified
from mamori.requests import service, store
from mamori.requests.intake import check_intake
from mamori.requests.model import Outcome, Status
from mamori.requests.workflow import Decision
from mamori.store import db
from tests.helpers.clock import ManualClock
from tests.helpers.requests import BASE, last_code, mails, person


def _file(runtime: Runtime, email: str = "hanako@example.jp", client: str = "1.2.3.4") -> str:
    intake = check_intake(runtime.vault.rules(), type="disclosure", language="ja", email=email)
    return service.file_request(
        runtime, intake, actor="system:center", client=client, base_url=BASE
    ).id


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_verifies_the_request_and_links_the_person(runtime: Runtime) -> None:
    subject = person(runtime)
    request_id = _file(runtime)
    code = last_code(runtime)
    assert len(code) == 6 and code.isdigit()
    mail = mails(runtime, "request_code")[-1]
    assert mail.to == "hanako@example.jp"
    assert "10分間" in (mail.body or "")
    with db.read(runtime.engine) as conn:
        stored = conn.execute(sa.text("SELECT code_hash FROM request_codes")).scalar_one()
        assert code.encode() not in stored and len(stored) == 32
    verified = service.verify_code(runtime, request_id, code)
    assert verified.request.status is Status.verified
    assert verified.request.subject_id == subject
    assert len(verified.session) >= 40
    # the code is spent
    with pytest.raises(CodeRejected):
        service.verify_code(runtime, request_id, code)


def test_the_sixth_attempt_is_refused_even_with_the_right_code(runtime: Runtime) -> None:
    request_id = _file(runtime)
    code = last_code(runtime)
    for _ in range(5):
        with pytest.raises(CodeRejected):
            service.verify_code(runtime, request_id, _wrong(code))
    with pytest.raises(CodeLocked):
        service.verify_code(runtime, request_id, code)
    with db.read(runtime.engine) as conn:
        assert store.load(conn, request_id).status is Status.received
    # a new code works again
    service.send_code(runtime, request_id, client="1.2.3.4", base_url=BASE)
    assert service.verify_code(runtime, request_id, last_code(runtime)).request.verified


def test_a_code_expires_after_ten_minutes(runtime: Runtime, clock: ManualClock) -> None:
    request_id = _file(runtime)
    code = last_code(runtime)
    clock.advance(minutes=10, seconds=1)
    with pytest.raises(CodeRejected, match="expired"):
        service.verify_code(runtime, request_id, code)


def test_codes_are_rate_limited_per_address_and_per_client(runtime: Runtime) -> None:
    for _ in range(5):
        _file(runtime, "a@example.jp", client="10.0.0.1")
    with pytest.raises(RateLimited):
        _file(runtime, "a@example.jp", client="10.0.0.2")
    with pytest.raises(RateLimited):
        _file(runtime, "A@example.jp", client="10.0.0.3")  # the same address
    for n in range(20):
        _file(runtime, f"p{n}@example.jp", client="10.0.0.9")
    with pytest.raises(RateLimited):
        _file(runtime, "other@example.jp", client="10.0.0.9")
    _file(runtime, "other@example.jp", client="10.0.0.10")


def test_an_unverified_request_cannot_be_decided(runtime: Runtime) -> None:
    person(runtime)
    request_id = _file(runtime)
    with pytest.raises(RequestNotVerified):
        service.decide(
            runtime, request_id, Decision(Outcome.fulfilled), actor="staff:x", base_url=BASE
        )
    with db.read(runtime.engine) as conn:
        assert store.load(conn, request_id).outcome is None
