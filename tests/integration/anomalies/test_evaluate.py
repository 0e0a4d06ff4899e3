"""The evaluation of the anomaly rules over the real audit log (entries written by the vault
and the admin sign-in): a key that reads far more people than usual raises an alert naming
the entries, normal volume does not; refusal bursts and sign-ins from a new client; the cursor
moves, pages are bounded, and running the job twice or at once raises no alert twice. On
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.anomalies import alerts, storage
from mamori.anomalies.evaluate import NAME, evaluate
from mamori.app import Runtime
from mamori.store import db
from mamori.vault import service_keys
from mamori.vault.access import Caller
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.race import race
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import admin_client, create_staff

NOON_JST = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)  # 2026-05-01 12:00 in Tokyo
SETTINGS: dict[str, int] = {
    "anomaly_evaluate_minutes": 0,  # run by the tests, not in the background
    "anomaly_volume_min": 5,
    "anomaly_volume_factor": 3,
    "anomaly_baseline_windows": 3,
    "anomaly_refusal_burst": 3,
}


@pytest.fixture
def clock() -> ManualClock:
    clock = ManualClock()
    clock.freeze(NOON_JST)
    return clock


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock, **SETTINGS)  # type: ignore[arg-type]
    yield runtime
    runtime.close()


def _key(runtime: Runtime, name: str, *purposes: str) -> Caller:
    account, _ = service_keys.create(
        runtime.engine,
        runtime.audit,
        name=name,
        purposes=list(purposes or ["service_operation"]),
        operations=["read"],
        actor="test",
    )
    return Caller.of_key(account)


def _run(runtime: Runtime, **kw: int) -> int:
    return evaluate(runtime.engine, runtime.settings, runtime.clock, **kw).raised


def _reads(runtime: Runtime, caller: Caller, people: list[str]) -> list[int]:
    seqs = []
    for subject in people:
        runtime.vault.read(caller, subject, "service_operation", ["email"])
        seqs.append(runtime.audit.size())
    return seqs


def test_a_key_reading_far_more_people_than_usual_raises_an_alert_naming_the_entries(
    runtime: Runtime, clock: ManualClock
) -> None:
    people = [person(runtime, f"p{i}@example.jp") for i in range(16)]
    busy, steady = _key(runtime, "busy"), _key(runtime, "steady")
    for hour in range(3):  # three usual hours: 3 people each, for both keys
        clock.freeze(NOON_JST + dt.timedelta(hours=hour))
        _reads(runtime, busy, people[:3])
        _reads(runtime, steady, people[:3])
        assert _run(runtime) == 0
    clock.freeze(NOON_JST + dt.timedelta(hours=3, minutes=10))
    evidence = _reads(runtime, busy, people)  # 16 people: beyond max(5, 3 x 3)
    _reads(runtime, steady, people[:4])  # a little more than usual: no alert
    assert _run(runtime) == 1
    [alert] = alerts.alerts(runtime.vault, "open")
    assert alert.rule == "volume" and alert.actor == busy.actor_id
    assert alert.count == 16 and alert.threshold == 9
    assert list(alert.evidence) == evidence
    assert (alert.first_seq, alert.last_seq) == (evidence[0], evidence[-1])
    assert alert.window_start == NOON_JST + dt.timedelta(hours=3)
    assert alert.id.startswith("al_")


def test_the_cursor_advances_in_bounded_pages_and_no_alert_is_raised_twice(
    runtime: Runtime, clock: ManualClock
) -> None:
    people = [person(runtime, f"p{i}@example.jp") for i in range(8)]
    key = _key(runtime, "new")
    _reads(runtime, key, people)  # no history: beyond the minimum of 5
    size = runtime.audit.size()
    result = evaluate(runtime.engine, runtime.settings, runtime.clock, page=4, pages=1)
    assert result.entries == 4 and result.cursor == 4
    with db.read(runtime.engine) as conn:
        assert storage.cursor(conn) == 4
    assert evaluate(runtime.engine, runtime.settings, runtime.clock, page=4).cursor == size
    assert len(alerts.alerts(runtime.vault)) == 1
    assert _run(runtime) == 0  # nothing new
    [alert] = alerts.alerts(runtime.vault)
    assert alert.count == 8  # across two pages, each person once
    _reads(runtime, key, people[:2])  # the same people again, in the same window
    others = [person(runtime, f"q{i}@example.jp") for i in range(2)]
    _reads(runtime, key, others)  # and two more: the same alert, more evidence
    assert evaluate(runtime.engine, runtime.settings, runtime.clock, page=3).raised == 0
    [alert] = alerts.alerts(runtime.vault)
    assert alert.count == 10 and alert.last_seq == runtime.audit.size()


def test_several_processes_evaluating_at_once_raise_each_alert_once(
    runtime: Runtime, clock: ManualClock
) -> None:
    people = [person(runtime, f"p{i}@example.jp") for i in range(8)]
    for name in ("a", "b", "c"):
        _reads(runtime, _key(runtime, name), people)
    results = race(6, lambda _i: _run(runtime, page=7))
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r for r in results if isinstance(r, int)) == 3
    with db.read(runtime.engine) as conn:
        keys = conn.execute(sa.text("SELECT key FROM anomaly_alerts")).scalars().all()
        assert storage.cursor(conn) == runtime.audit.size()
    assert len(keys) == len(set(keys)) == 3


def test_a_burst_of_refused_reads_raises_an_alert(runtime: Runtime) -> None:
    people = [person(runtime, f"p{i}@example.jp") for i in range(3)]
    key = _key(runtime, "narrow", "service_operation")
    seqs = []
    for subject in people:
        result = runtime.vault.read(key, subject, "campaigns", ["email"])
        assert result.refused
        seqs.append(runtime.audit.size())
    _run(runtime)
    [alert] = alerts.alerts(runtime.vault, "open")
    assert alert.rule == "refusals" and list(alert.evidence) == seqs


def test_a_sign_in_from_a_new_client_raises_an_alert(runtime: Runtime) -> None:
    create_staff(runtime, "lead1", "correct horse battery", "lead")
    app = create_app(runtime=runtime)
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    chrome = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
    for agent in (firefox, firefox, chrome):
        client = TestClient(app, follow_redirects=False, headers={"User-Agent": agent})
        admin_client(client, "lead1", "correct horse battery")
    sign_ins = [
        e
        for e in runtime.audit.tail(40)
        if e.action == "staff.sign_in" and e.details.get("result") == "ok"
    ]
    assert len({e.details["client"] for e in sign_ins}) == 2
    assert _run(runtime) == 1
    [alert] = alerts.alerts(runtime.vault, "open")
    assert alert.rule == "new_client" and list(alert.evidence) == [sign_ins[-1].seq]


def test_the_job_is_a_built_in_part(runtime: Runtime) -> None:
    job = runtime.parts.job(NAME)
    assert job is not None and job.period(runtime.settings) == 0
    assert job.period(runtime.settings.model_copy(update={"anomaly_evaluate_minutes": 5})) == 300


def test_an_alert_becomes_an_incident_from_its_form(runtime: Runtime) -> None:
    people = [person(runtime, f"p{i}@example.jp") for i in range(3)]
    key = _key(runtime, "narrow", "service_operation")
    for subject in people:
        runtime.vault.read(key, subject, "campaigns", ["email"])
    _run(runtime)
    [alert] = alerts.alerts(runtime.vault, "open")
    create_staff(runtime, "lead1", "correct horse battery", "lead")
    client = admin_client(create_app(runtime=runtime), "lead1", "correct horse battery")
    form = client.get(f"/admin/incidents/new?alert={alert.id}")
    assert form.status_code == 200 and 'id="from-alert"' in form.text
    assert client.get("/admin/incidents/new?alert=al_nothing").status_code == 404
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    done = client.post(
        "/admin/incidents",
        data={
            "csrf_token": token[1],
            "alert": alert.id,
            "discovered_at": "2026-05-01T11:00",
            "aware_at": "2026-05-01T11:30",
            "items": ["email"],
            "people_estimated": "3",
            "responsible": "",
            "summary": "不審な読み出しの連続",
        },
    )
    assert done.status_code == 303, done.text
    incident_id = done.headers["location"].split("/admin/incidents/")[1].split("?")[0]
    linked = alerts.alert(runtime.vault, alert.id)
    assert (linked.status, linked.incident_id) == ("incident", incident_id)
    # The same alert cannot start a second incident.
    assert client.get(f"/admin/incidents/new?alert={alert.id}").status_code == 409
