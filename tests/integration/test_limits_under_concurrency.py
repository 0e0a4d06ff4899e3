"""Every counter-based limit holds when N attempts arrive at once (issue 10).

On PostgreSQL 40 parallel guesses of a request's code got 7 to 39 of them checked (the limit
is 5), and the right code was accepted after more than 20 wrong ones; the staff sign-in lockout
raced on both backends, and a locked burst answered the right password (429) differently from
the wrong ones (401). Each limit must be checked and counted in one atomic step, and give one
answer to every attempt of a locked burst. These tests release N >= 40 attempts together, on the
backend under test (CI runs them on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from mamori.app import Runtime
from mamori.errors import (
    CodeLocked,
    CodeRejected,
    RateLimited,
    SignInFailed,
    SignInLocked,
)
from mamori.requests import codes, service, store
from mamori.requests.intake import check_intake
from mamori.requests.model import Delivery, Outcome, Verification
from mamori.requests.workflow import Decision
from mamori.staff import Limits, StaffDirectory, sign_in
from mamori.store import db
from tests.helpers.race import race
from tests.helpers.requests import BASE, HOST, last_code, person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, directory

N = 40
LIMITS = Limits(login_failures=5, client_failures=20, minutes=15)
MAX_AGE = dt.timedelta(hours=1)


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    # Enough pooled connections that all N attempts really run at once.
    opened = open_test_runtime(tmp_path, database_url, database_pool_size=N + 5)
    yield opened
    opened.close()


def _kinds(results: Sequence[object]) -> Counter[str]:
    return Counter(type(r).__name__ for r in results)


def _file(runtime: Runtime, email: str = "hanako@example.jp", client: str = "192.0.2.1") -> str:
    intake = check_intake(runtime.vault.rules(), type="disclosure", language="ja", email=email)
    return service.file_request(
        runtime, intake, actor="system:center", client=client, base_url=BASE
    ).id


def _code_checks(runtime: Runtime, request_id: str) -> Counter[str]:
    """The results of the code checks the audit log recorded for the request."""
    found: Counter[str] = Counter()
    for entry in runtime.audit.tail(500):
        if entry.action == "request.code" and f"request:{request_id}" in entry.targets:
            found[str(entry.details.get("result"))] += 1
    return found


def test_parallel_guesses_check_exactly_five(runtime: Runtime) -> None:
    request_id = _file(runtime)
    right = last_code(runtime)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    results = race(N, lambda i: service.verify_code(runtime, request_id, wrong))
    kinds = _kinds(results)
    assert kinds == {"CodeRejected": codes.MAX_ATTEMPTS, "CodeLocked": N - codes.MAX_ATTEMPTS}
    checks = _code_checks(runtime, request_id)
    assert checks["wrong"] == codes.MAX_ATTEMPTS and checks["ok"] == 0
    # Dead after the burst: the right code is refused like every other attempt now.
    with pytest.raises(CodeLocked):
        service.verify_code(runtime, request_id, right)


def test_the_right_code_in_a_burst_is_accepted_only_within_the_limit(runtime: Runtime) -> None:
    request_id = _file(runtime)
    right = last_code(runtime)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    results = race(
        N, lambda i: service.verify_code(runtime, request_id, right if i == N - 1 else wrong)
    )
    checks = _code_checks(runtime, request_id)
    assert checks["wrong"] + checks["ok"] <= codes.MAX_ATTEMPTS
    accepted = [r for r in results if isinstance(r, service.Verified)]
    assert len(accepted) == checks["ok"] <= 1
    refused = [r for r in results if isinstance(r, CodeRejected | CodeLocked)]
    assert len(refused) + len(accepted) == N


def test_parallel_codes_to_one_address_send_exactly_the_limit(runtime: Runtime) -> None:
    per_address = runtime.settings.request_codes_per_address_hour
    results = race(N, lambda i: _file(runtime, "burst@example.jp", client=f"198.51.100.{i}"))
    kinds = _kinds(results)
    assert kinds == {"str": per_address, "RateLimited": N - per_address}


def test_parallel_codes_from_one_client_send_exactly_the_limit(runtime: Runtime) -> None:
    per_client = runtime.settings.request_codes_per_client_hour
    results = race(N, lambda i: _file(runtime, f"p{i}@example.jp", client="203.0.113.9"))
    assert _kinds(results) == {"str": per_client, "RateLimited": N - per_client}


def test_parallel_downloads_spend_exactly_the_allowance(runtime: Runtime) -> None:
    subject = person(runtime)
    intake = check_intake(
        runtime.vault.rules(),
        type="disclosure",
        language="ja",
        email="hanako@example.jp",
        delivery=Delivery.electronic.value,
    )
    filed = service.file_request(
        runtime,
        intake,
        actor="service:test",
        client="192.0.2.1",
        base_url=BASE,
        subject_id=subject,
        verified_by=Verification.service,
    )
    service.start_review(runtime, filed.id, actor="staff:test")
    decided = service.decide(
        runtime, filed.id, Decision(Outcome.fulfilled, reason=""), actor="staff:test", base_url=BASE
    )
    allowance = runtime.settings.request_download_max
    results = race(N, lambda i: service.open_download(runtime, decided))
    kinds = _kinds(results)
    assert kinds["Request"] == allowance and kinds["DownloadUnavailable"] == N - allowance
    with db.read(runtime.engine) as conn:
        assert store.load(conn, filed.id).downloads_left == 0
    assert HOST  # the host filed it


@pytest.fixture
def staff(runtime: Runtime) -> StaffDirectory:
    found = directory(runtime)
    found.create("hanako", "山田 花子", "manager", PASSWORD, actor="test")
    return found


def _sign_in(staff: StaffDirectory, password: str, client: str = "192.0.2.7") -> object:
    return sign_in(staff, "hanako", password, client=client, limits=LIMITS, max_age=MAX_AGE)


def test_parallel_wrong_passwords_check_exactly_the_limit(staff: StaffDirectory) -> None:
    results = race(N, lambda i: _sign_in(staff, f"wrong password {i}"))
    kinds = _kinds(results)
    assert kinds == {
        "SignInFailed": LIMITS.login_failures,
        "SignInLocked": N - LIMITS.login_failures,
    }


def test_a_locked_burst_answers_the_right_password_like_the_wrong_ones(
    staff: StaffDirectory,
) -> None:
    for i in range(LIMITS.login_failures):  # locked before the burst
        with pytest.raises(SignInFailed):
            _sign_in(staff, f"wrong {i}")
    results = race(N, lambda i: _sign_in(staff, PASSWORD if i % 2 else "still wrong"))
    assert _kinds(results) == {"SignInLocked": N}  # no oracle: one answer for all


def test_in_a_burst_the_right_password_gets_a_slot_or_the_lock(staff: StaffDirectory) -> None:
    results = race(N, lambda i: _sign_in(staff, PASSWORD if i == 0 else f"wrong {i}"))
    kinds = _kinds(results)
    # At most the limit of wrong guesses is ever compared; the right password does not count
    # as one (its slot is given back), so one more attempt may be checked after it.
    assert kinds["SignInFailed"] <= LIMITS.login_failures
    assert kinds["SignedIn"] <= 1
    checked = kinds["SignInFailed"] + kinds["SignedIn"]
    assert kinds["SignInLocked"] == N - checked
    assert kinds.keys() <= {"SignInFailed", "SignedIn", "SignInLocked"}


def test_parallel_attempts_from_one_client_check_exactly_its_limit(staff: StaffDirectory) -> None:
    results = race(
        N,
        lambda i: sign_in(
            staff, f"login-{i}", "wrong", client="192.0.2.99", limits=LIMITS, max_age=MAX_AGE
        ),
    )
    kinds = _kinds(results)
    assert kinds == {
        "SignInFailed": LIMITS.client_failures,
        "SignInLocked": N - LIMITS.client_failures,
    }
    assert isinstance(next(r for r in results if isinstance(r, SignInLocked)), RateLimited)
