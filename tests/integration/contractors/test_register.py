"""The register of contractors: contracts and checks recorded with their audit entries (IDs
only), bad entries refused with nothing stored, the standing the gate consults (a contract
ended at its term or early, a failed check: entrustment_suspended for everyone; no contract on
file: still allowed), overdue checks counted by the operator's calendar day (Asia/Tokyo), and
of 20 staff completing one check at once exactly one succeeds. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.contractors import register
from mamori.contractors.register import Standing
from mamori.errors import Conflict, ContractorEntryInvalid, ContractorNotFound, NotFound
from mamori.store import db
from mamori.vault import service_keys
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.race import race
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime

ACTOR = "staff:st_test"
NOON_JST = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)  # 2026-05-01 12:00 in Tokyo


@pytest.fixture
def clock() -> ManualClock:
    clock = ManualClock()
    clock.freeze(NOON_JST)
    return clock


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()


def _contract(runtime: Runtime, **given: Any) -> register.ContractRow:
    values: dict[str, Any] = {
        "signed_on": "2026-03-20",
        "starts_on": "2026-04-01",
        "ends_on": "2027-03-31",
        "items": ["name", "email"],
        "note": "契約書 K-2026-017",
    }
    values.update(given)
    return register.record_contract(runtime.vault, actor=ACTOR, recipient_id="hosting", **values)


def _count(runtime: Runtime, table: str) -> int:
    with db.read(runtime.engine) as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_contract_and_checks_are_recorded_with_ids_only_in_the_audit_log(
    runtime: Runtime,
) -> None:
    contract = _contract(runtime, items=["email", "name", "email"])
    assert contract.items == ("name", "email")  # once each, in the policy's order
    assert contract.starts_on == dt.date(2026, 4, 1) and contract.actor == ACTOR
    check = register.schedule_check(
        runtime.vault, actor=ACTOR, recipient_id="hosting", due_on="2026-06-30"
    )
    assert check.contract_id == contract.id and check.done_on is None
    done = register.complete_check(
        runtime.vault,
        actor=ACTOR,
        recipient_id="hosting",
        check_id=check.id,
        done_on="2026-05-01",
        result="issues_found",
        note="監査報告書 R-88",
    )
    assert done.result == "issues_found" and done.completed_by == ACTOR
    found = register.contractor(runtime.vault, "hosting")
    assert found.current == contract and found.standing is Standing.in_force
    assert [c.id for c in found.checks] == [check.id]
    entries = [e for e in runtime.audit.tail(10) if e.action.startswith("contractor.")]
    assert [e.action for e in entries] == [
        "contractor.contract_record",
        "contractor.check_schedule",
        "contractor.check_complete",
    ]
    assert list(entries[0].targets) == ["recipient:hosting", f"contract:{contract.id}"]
    assert entries[0].details["items"] == 2 and entries[0].details["note"] is True
    assert entries[2].details["result"] == "issues_found"
    text = repr(entries)
    assert "K-2026-017" not in text and "R-88" not in text and "email" not in text
    ended = register.end_contract(
        runtime.vault, actor=ACTOR, recipient_id="hosting", contract_id=contract.id
    )
    assert ended.ended_at is not None and ended.ended_by == ACTOR
    with pytest.raises(Conflict):
        register.end_contract(
            runtime.vault, actor=ACTOR, recipient_id="hosting", contract_id=contract.id
        )
    assert register.contractor(runtime.vault, "hosting").standing is Standing.ended


@pytest.mark.parametrize(
    ("given", "field", "problem"),
    [
        ({"signed_on": "2026/03/20"}, "signed_on", "not_a_date"),
        ({"signed_on": ""}, "signed_on", "missing"),
        ({"starts_on": "2026-02-30"}, "starts_on", "not_a_date"),
        ({"starts_on": "9" * 400}, "starts_on", "not_a_date"),
        ({"ends_on": "2026-03-31"}, "ends_on", "before_start"),
        ({"signed_on": "2026-05-02"}, "signed_on", "future"),
        ({"items": ["advertising_id"]}, "items", "not_declared"),
        ({"items": ["'; DROP TABLE subjects; --"]}, "items", "not_declared"),
        ({"items": []}, "items", "missing"),
        ({"note": "x" * 501}, "note", "too_long"),
        ({"note": "a\x00b"}, "note", "not_plain"),
        ({"note": "\u202egnp.exe"}, "note", "not_plain"),
    ],
)
def test_a_bad_contract_is_refused_naming_the_field_and_nothing_is_stored(
    runtime: Runtime, given: dict[str, Any], field: str, problem: str
) -> None:
    entries = runtime.audit.size()
    with pytest.raises(ContractorEntryInvalid) as caught:
        _contract(runtime, **given)
    assert (caught.value.field, caught.value.problem) == (field, problem)
    assert "DROP" not in caught.value.message and "9999" not in caught.value.message
    assert _count(runtime, "contractor_contracts") == 0
    assert runtime.audit.size() == entries


def test_only_contractors_of_the_policy_are_in_the_register(runtime: Runtime) -> None:
    for recipient in ("a8net", "nobody", "<script>"):
        with pytest.raises(ContractorNotFound) as caught:
            register.contractor(runtime.vault, recipient)
        assert "<script>" not in caught.value.message
    assert [c.id for c in register.contractors(runtime.vault)] == ["hosting"]


def test_a_check_is_completed_once_with_a_known_result(runtime: Runtime) -> None:
    check = register.schedule_check(
        runtime.vault, actor=ACTOR, recipient_id="hosting", due_on="2026-04-30"
    )
    assert check.contract_id is None  # no contract on file yet
    complete = {"actor": ACTOR, "recipient_id": "hosting", "check_id": check.id}
    with pytest.raises(ContractorEntryInvalid):
        register.complete_check(runtime.vault, **complete, done_on="2026-05-01", result="ok")
    with pytest.raises(ContractorEntryInvalid):
        register.complete_check(runtime.vault, **complete, done_on="2026-05-02", result="passed")
    with pytest.raises(NotFound):
        register.complete_check(
            runtime.vault, **{**complete, "check_id": "ck_" + "0" * 24}, done_on="2026-05-01",
            result="passed",
        )  # fmt: skip
    register.complete_check(runtime.vault, **complete, done_on="2026-05-01", result="passed")
    with pytest.raises(Conflict):
        register.complete_check(runtime.vault, **complete, done_on="2026-05-01", result="failed")


def test_the_standing_follows_the_contracts_and_the_last_check(
    runtime: Runtime, clock: ManualClock
) -> None:
    def standing() -> Standing:
        return register.contractor(runtime.vault, "hosting").standing

    assert standing() is Standing.no_contract
    _contract(runtime, starts_on="2026-05-02", ends_on="2026-05-31")
    assert standing() is Standing.not_started
    clock.freeze(dt.datetime(2026, 5, 1, 15, 0, tzinfo=dt.UTC))  # 2026-05-02 00:00 in Tokyo
    assert standing() is Standing.in_force
    clock.freeze(dt.datetime(2026, 5, 31, 14, 59, tzinfo=dt.UTC))  # 05-31 23:59: its last day
    assert standing() is Standing.in_force
    clock.freeze(dt.datetime(2026, 5, 31, 15, 0, tzinfo=dt.UTC))  # 06-01: its term is over
    assert standing() is Standing.ended
    renewal = _contract(runtime, signed_on="2026-05-25", starts_on="2026-06-01", ends_on=None)
    assert standing() is Standing.in_force
    check = register.schedule_check(
        runtime.vault, actor=ACTOR, recipient_id="hosting", due_on="2026-06-01"
    )
    args = {"actor": ACTOR, "recipient_id": "hosting"}
    register.complete_check(
        runtime.vault, **args, check_id=check.id, done_on="2026-06-01", result="failed"
    )
    assert standing() is Standing.check_failed
    again = register.schedule_check(runtime.vault, **args, due_on="2026-06-15")
    register.complete_check(
        runtime.vault, **args, check_id=again.id, done_on="2026-06-01", result="passed"
    )
    assert standing() is Standing.in_force  # a later passed check lifts it
    register.end_contract(runtime.vault, **args, contract_id=renewal.id)
    assert standing() is Standing.ended


def test_overdue_checks_are_counted_by_the_day_in_tokyo(
    runtime: Runtime, clock: ManualClock
) -> None:
    def attention() -> tuple[int, int]:
        with db.read(runtime.engine) as conn:
            return register.attention(conn, runtime.vault.rules(), runtime.vault.today())

    assert attention() == (0, 1)  # no contract on file for hosting
    _contract(runtime)
    register.schedule_check(runtime.vault, actor=ACTOR, recipient_id="hosting", due_on="2026-05-01")
    clock.freeze(dt.datetime(2026, 5, 1, 14, 59, 59, tzinfo=dt.UTC))  # 23:59:59 on the due day
    assert attention() == (0, 0)
    assert register.contractor(runtime.vault, "hosting").overdue == ()
    clock.freeze(dt.datetime(2026, 5, 1, 15, 0, tzinfo=dt.UTC))  # 00:00 the day after
    assert attention() == (1, 0)
    [late] = register.contractor(runtime.vault, "hosting").overdue
    assert late.due_on == dt.date(2026, 5, 1)


def test_twenty_staff_completing_one_check_at_once_exactly_one_succeeds(
    runtime: Runtime,
) -> None:
    check = register.schedule_check(
        runtime.vault, actor=ACTOR, recipient_id="hosting", due_on="2026-05-01"
    )
    results = race(
        20,
        lambda i: register.complete_check(
            runtime.vault,
            actor=f"staff:st_{i}",
            recipient_id="hosting",
            check_id=check.id,
            done_on="2026-05-01",
            result="passed" if i % 2 else "failed",
        ),
    )
    done = [r for r in results if isinstance(r, register.CheckRow)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(done) == 1 and len(refused) == 19, results
    [stored] = register.contractor(runtime.vault, "hosting").checks
    assert stored.completed_by == done[0].completed_by and stored.result == done[0].result
    entries = [e for e in runtime.audit.tail(30) if e.action == "contractor.check_complete"]
    assert len(entries) == 1


# -- the gate ------------------------------------------------------------------------------------


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    _, token = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation"],
        operations=["read", "write", "provide"],
        actor="test",
    )
    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def _provide(client: TestClient, subject: str) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/provisions",
        json={
            "recipient": "hosting",
            "purpose": "service_operation",
            "items": ["name", "email"],
            "subjects": [subject],
        },
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    assert result["basis"] == "entrustment"
    [row] = result["people"]
    return row  # type: ignore[no-any-return]


def _stream(client: TestClient) -> Any:
    return client.post(
        "/api/v1/provisions/stream",
        json={"recipient": "hosting", "purpose": "service_operation", "item": "email"},
    )


def test_the_gate_refuses_an_entrustment_the_register_suspends(
    runtime: Runtime, client: TestClient, clock: ManualClock
) -> None:
    subject = person(runtime, "hanako@example.jp")
    # no contract on file: still allowed (the register is being filled)
    assert _provide(client, subject)["items"] == {"name": "山田 花子", "email": "hanako@example.jp"}
    contract = _contract(runtime, ends_on="2026-04-30")  # ended yesterday
    row = _provide(client, subject)
    assert row["items"] == {} and row["record_id"] is None
    assert row["refused"] == {"name": "entrustment_suspended", "email": "entrustment_suspended"}
    refused = _stream(client)
    assert refused.status_code == 409 and "entrustment_suspended" in refused.json()["error"]
    renewal = _contract(runtime, signed_on="2026-04-28", starts_on="2026-05-01", ends_on=None)
    assert _provide(client, subject)["items"]["email"] == "hanako@example.jp"
    assert _stream(client).status_code == 200
    check = register.schedule_check(
        runtime.vault, actor=ACTOR, recipient_id="hosting", due_on="2026-05-01"
    )
    register.complete_check(
        runtime.vault,
        actor=ACTOR,
        recipient_id="hosting",
        check_id=check.id,
        done_on="2026-05-01",
        result="failed",
    )
    assert set(_provide(client, subject)["refused"].values()) == {"entrustment_suspended"}
    assert _stream(client).status_code == 409
    assert contract.id != renewal.id
