"""The breach register: incidents recorded with their decision and deadlines, texts sealed and
audit entries with ids and codes only, bad entries refused with nothing stored, people chosen
from the vault (by list and from the audit log) filling the counts, reports, corrective
actions, and closing only with prevention measures. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.errors import Conflict, IncidentEntryInvalid, IncidentNotClosable, IncidentNotFound
from mamori.incidents import people, register
from mamori.incidents.rules import Trigger
from mamori.store import db
from mamori.vault import service_keys
from mamori.vault.access import Caller
from tests.helpers.clock import ManualClock
from tests.helpers.requests import person

ACTOR = "staff:st_test"
FACTS: dict[str, Any] = {
    "discovered_at": "2026-04-30T22:00",
    "aware_at": "2026-05-01T09:30",
    "items": ["name", "email"],
    "people_estimated": "1001",
    "texts": {"summary": "不正アクセスにより顧客情報が閲覧された", "cause": "脆弱性"},
}


def _record(runtime: Runtime, **given: Any) -> register.Incident:
    return register.record(runtime, actor=ACTOR, **{**FACTS, **given})


def _count(runtime: Runtime, table: str) -> int:
    with db.read(runtime.engine) as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _entries(runtime: Runtime, prefix: str = "incident.") -> list[dict[str, Any]]:
    with db.read(runtime.engine) as conn:
        rows = conn.execute(
            sa.text("SELECT action, targets, details FROM audit_entries ORDER BY seq")
        ).all()
    return [
        {"action": a, "targets": orjson.loads(t), "details": orjson.loads(d)}
        for a, t, d in rows
        if a.startswith(prefix)
    ]


def test_1001_people_is_reportable_with_both_deadlines_and_texts_sealed(
    runtime: Runtime, lead: str
) -> None:
    found = _record(runtime, responsible=lead)
    assert found.id.startswith("inc_") and found.row.status == "open"
    assert found.row.aware_on == dt.date(2026, 5, 1)
    d = found.decision
    assert d.reportable and d.triggers == (Trigger.over_1000,)
    assert d.preliminary_due == dt.date(2026, 5, 4) and d.final_due == dt.date(2026, 5, 30)
    assert found.texts["summary"].startswith("不正アクセス") and found.texts["other"] == ""
    assert found.days_left("preliminary") == 3 and found.next_deadline is not None
    with db.read(runtime.engine) as conn:
        raw = conn.execute(sa.text("SELECT summary_ct FROM incidents")).scalar_one()
    assert "不正".encode() not in bytes(raw)  # sealed
    [entry] = _entries(runtime)
    assert entry["action"] == "incident.record"
    assert entry["targets"] == [f"incident:{found.id}"]
    assert entry["details"]["reportable"] is True and entry["details"]["triggers"] == "over_1000"
    assert "不正" not in orjson.dumps(entry).decode()
    assert register.get(runtime, found.id).texts["cause"] == "脆弱性"


def test_1000_people_is_not_reportable_and_one_sensitive_record_is(runtime: Runtime) -> None:
    assert not _record(runtime, people_estimated="1,000").decision.reportable
    sensitive = _record(runtime, items=["content"], people_estimated="1")
    assert sensitive.decision.reportable
    assert sensitive.decision.triggers == (Trigger.sensitive,)
    assert sensitive.decision.final_due == dt.date(2026, 5, 30)


def test_encrypted_only_is_not_reportable_unless_the_key_leaked(runtime: Runtime) -> None:
    exempt = _record(runtime, items=["content"], people_estimated="5000", encrypted=True)
    assert not exempt.decision.reportable and exempt.decision.exempt
    assert exempt.due("final") is None
    leaked = _record(runtime, items=["content"], encrypted=True, key_leaked=True)
    assert leaked.decision.reportable


def test_an_improper_purpose_has_60_days_and_awareness_is_the_tokyo_day(
    runtime: Runtime,
) -> None:
    # 2026-04-30 23:30 in Tokyo is 14:30 UTC: the day of awareness is 30 April (Tokyo), day 1.
    found = _record(
        runtime,
        discovered_at="2026-04-30T20:00",
        aware_at=dt.datetime(2026, 4, 30, 14, 30, tzinfo=dt.UTC),
        people_estimated="1",
        triggers=["improper_purpose"],
    )
    assert found.row.aware_on == dt.date(2026, 4, 30)
    assert found.decision.final_days == 60
    assert found.decision.preliminary_due == dt.date(2026, 5, 3)
    assert found.decision.final_due == dt.date(2026, 6, 28)


@pytest.mark.parametrize(
    ("given", "field", "problem"),
    [
        ({"aware_at": ""}, "aware_at", "missing"),
        ({"aware_at": "yesterday"}, "aware_at", "not_a_time"),
        ({"aware_at": "2026-02-30T10:00"}, "aware_at", "not_a_time"),
        ({"aware_at": "2026-05-02T10:00"}, "aware_at", "future"),
        ({"aware_at": "2026-04-29T10:00"}, "aware_at", "before_discovery"),
        ({"items": []}, "items", "missing"),
        ({"items": ["emial"]}, "items", "unknown"),
        ({"people_estimated": "-1"}, "people_estimated", "not_a_number"),
        ({"people_estimated": "many"}, "people_estimated", "not_a_number"),
        ({"people_estimated": ""}, "people_estimated", "missing"),
        ({"people_confirmed": "1.5"}, "people_confirmed", "not_a_number"),
        ({"triggers": ["skimming"]}, "triggers", "unknown"),
        ({"responsible": "st_nobody"}, "responsible", "unknown"),
        ({"texts": {"summary": "x" * 4001}}, "summary", "too_long"),
        ({"texts": {"cause": "a\u202eb"}}, "cause", "not_plain"),
    ],
)
def test_bad_entries_are_refused_with_nothing_stored(
    runtime: Runtime, given: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(IncidentEntryInvalid) as caught:
        _record(runtime, **given)
    assert (caught.value.field, caught.value.problem) == (field, problem)
    assert _count(runtime, "incidents") == 0 and _entries(runtime) == []


def test_people_by_list_fill_the_counts(runtime: Runtime) -> None:
    found = _record(runtime, people_estimated="2")
    a, b, c = (person(runtime, f"p{n}@example.jp") for n in range(3))
    chosen = people.choose(runtime, found.id, actor=ACTOR, subject_ids=f"{a}, {b}\n{c}\n{a}")
    assert (chosen.added, chosen.total) == (3, 3)
    again = people.choose(runtime, found.id, actor=ACTOR, subject_ids=[a])
    assert (again.added, again.total) == (0, 3)
    current = register.get(runtime, found.id)
    assert current.row.people_confirmed == 3 and current.row.people_estimated == 3
    assert current.people_on_file == 3
    with pytest.raises(IncidentEntryInvalid) as caught:
        people.choose(runtime, found.id, actor=ACTOR, subject_ids=[a, "0" * 32])
    assert caught.value.problem == "unknown"
    with pytest.raises(IncidentEntryInvalid) as caught:
        people.choose(runtime, found.id, actor=ACTOR, subject_ids="not-an-id")
    assert caught.value.problem == "not_an_id"
    assert _count(runtime, "incident_people") == 3
    details = [e["details"] for e in _entries(runtime) if e["action"] == "incident.people"]
    assert details == [{"how": "list", "added": 3, "total": 3}] * 1 + [
        {"how": "list", "added": 0, "total": 3}
    ]


def test_people_from_the_audit_log_are_those_whose_items_a_key_read(
    runtime: Runtime, clock: ManualClock
) -> None:
    account, _ = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation"],
        actor="test",
    )
    other, _ = service_keys.create(
        runtime.engine, runtime.audit, name="other", purposes=["service_operation"], actor="t"
    )
    a, b, c, d = (person(runtime, f"p{n}@example.jp") for n in range(4))
    key = Caller.of_key(account)
    runtime.vault.read(key, a, "service_operation", ["email"])
    runtime.vault.read(key, b, "service_operation", ["name"])  # another item
    runtime.vault.read(Caller.of_key(other), c, "service_operation", ["email"])  # another key
    runtime.vault.read_by(key, "email", "p3@example.jp", "service_operation", ["email"])
    clock.advance(hours=2)
    runtime.vault.read(key, b, "service_operation", ["email"])  # after the window
    found = _record(runtime, people_estimated="1")
    chosen = people.from_audit(
        runtime,
        found.id,
        actor=ACTOR,
        key=account.id,
        items=["email"],
        since="2026-05-01T11:00",
        until="2026-05-01T13:00",
    )
    on_file = {p for p in _people(runtime, found.id)}
    assert on_file == {a, d} and (chosen.added, chosen.total) == (2, 2)
    with pytest.raises(IncidentEntryInvalid) as caught:
        people.from_audit(
            runtime,
            found.id,
            actor=ACTOR,
            key="nokey",
            items=["email"],
            since="2026-05-01T11:00",
            until="2026-05-01T13:00",
        )
    assert caught.value.problem == "unknown"
    with pytest.raises(IncidentEntryInvalid) as caught:
        people.from_audit(
            runtime,
            found.id,
            actor=ACTOR,
            key=account.id,
            items=["email"],
            since="2026-05-01T13:00",
            until="2026-05-01T11:00",
        )
    assert caught.value.problem == "before_start"


def _people(runtime: Runtime, incident_id: str) -> list[str]:
    with db.read(runtime.engine) as conn:
        rows = conn.execute(
            sa.text("SELECT subject_id FROM incident_people WHERE incident_id = :i"),
            {"i": incident_id},
        ).all()
    return [r[0] for r in rows]


def test_reports_actions_and_closing_only_with_prevention(runtime: Runtime, lead: str) -> None:
    found = _record(runtime)
    done = register.mark_report(
        runtime, found.id, actor=ACTOR, kind="preliminary", sent_on="2026-05-01"
    )
    assert done.row.status == "reported" and done.days_left("preliminary") is None
    assert done.next_deadline is not None and done.next_deadline[0] == "final"
    with pytest.raises(Conflict):
        register.mark_report(
            runtime, found.id, actor=ACTOR, kind="preliminary", sent_on="2026-05-01"
        )
    with pytest.raises(IncidentEntryInvalid) as caught:
        register.mark_report(runtime, found.id, actor=ACTOR, kind="final", sent_on="2026-05-09")
    assert caught.value.problem == "future"
    with pytest.raises(IncidentEntryInvalid) as caught:
        register.mark_report(runtime, found.id, actor=ACTOR, kind="other", sent_on="2026-05-01")
    assert caught.value.problem == "unknown"
    action = register.add_action(
        runtime, found.id, actor=ACTOR, text="WAFの導入", owner=lead, due_on="2026-05-20"
    )
    with pytest.raises(IncidentEntryInvalid) as caught:
        register.add_action(runtime, found.id, actor=ACTOR, text="x", owner="", due_on="2026-05-20")
    assert caught.value.field == "owner"
    register.complete_action(runtime, found.id, action.id, actor=ACTOR)
    with pytest.raises(Conflict):
        register.complete_action(runtime, found.id, action.id, actor=ACTOR)
    with pytest.raises(IncidentNotClosable, match="prevention"):
        register.close(runtime, found.id, actor=ACTOR)
    assert register.get(runtime, found.id).row.status == "reported"
    register.update(
        runtime,
        found.id,
        actor=ACTOR,
        **{**FACTS, "texts": {**FACTS["texts"], "prevention": "脆弱性診断を四半期ごとに実施"}},
    )
    closed = register.close(runtime, found.id, actor=ACTOR)
    assert closed.closed and closed.next_deadline is None
    assert closed.actions[0].text == "WAFの導入" and closed.actions[0].done
    with pytest.raises(Conflict):
        register.update(runtime, found.id, actor=ACTOR, **FACTS)
    with pytest.raises(Conflict):
        register.close(runtime, found.id, actor=ACTOR)
    actions = [e["action"] for e in _entries(runtime)]
    assert actions == [
        "incident.record",
        "incident.report",
        "incident.action_add",
        "incident.action_done",
        "incident.update",
        "incident.close",
    ]
    assert "WAF" not in orjson.dumps(_entries(runtime)).decode()


def test_an_unknown_incident_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(IncidentNotFound):
        register.get(runtime, "inc_" + "0" * 24)
    with pytest.raises(IncidentNotFound, match="not an id"):
        register.get(runtime, "../etc")
