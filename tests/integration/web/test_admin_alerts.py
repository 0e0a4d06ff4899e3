"""Alerts in the admin console: the list with the rule in words and the evidence linking into
the audit log, the dashboard's highlighted card, dismissing with a reason (post/redirect/get;
a bad reason or note: 400 and nothing stored; twice: 409), the note sealed, the audit entry
with codes only, linking to an incident, and the roles (auditors read, leads act)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mamori.anomalies import alerts
from mamori.anomalies.evaluate import evaluate
from mamori.app import Runtime
from mamori.errors import Conflict, InvalidValue
from mamori.store import db
from mamori.vault import service_keys
from mamori.vault.access import Caller
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff, csrf_token

NOTE = "山田さんの依頼による一括確認"


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    clock = ManualClock()
    clock.freeze(dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC))  # 12:00 in Tokyo
    runtime = open_test_runtime(
        tmp_path, database_url, clock=clock, anomaly_evaluate_minutes=0, anomaly_volume_min=3
    )
    create_staff(runtime, "lead", PASSWORD, "lead")
    create_staff(runtime, "auditor", PASSWORD, "auditor")
    create_staff(runtime, "handler", PASSWORD, "handler")
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


def _client(app: FastAPI, login: str) -> TestClient:
    return admin_client(TestClient(app, follow_redirects=False), login, PASSWORD)


def _raise_alert(runtime: Runtime) -> alerts.AlertRow:
    account, _ = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="busy",
        purposes=["service_operation"],
        operations=["read"],
        actor="test",
    )
    caller = Caller.of_key(account)
    for i in range(5):
        runtime.vault.read(
            caller, person(runtime, f"p{i}@example.jp"), "service_operation", ["email"]
        )
    evaluate(runtime.engine, runtime.settings, runtime.clock)
    [alert] = alerts.alerts(runtime.vault, "open")
    return alert


def _alert_row(runtime: Runtime) -> dict[str, object]:
    with db.read(runtime.engine) as conn:
        return dict(conn.execute(sa.text("SELECT * FROM anomaly_alerts")).one()._mapping)


def test_the_list_names_the_rule_and_links_the_evidence(app: FastAPI, runtime: Runtime) -> None:
    alert = _raise_alert(runtime)
    auditor = _client(app, "auditor")
    page = auditor.get("/admin/alerts")
    assert page.status_code == 200
    assert "通常より多くの人の参照" in page.text and alert.actor in page.text
    for seq in alert.evidence:
        assert f'href="/admin/audit?before={seq + 1}&amp;lang=ja"' in page.text
    assert "/dismiss" not in page.text  # an auditor reads only
    english = auditor.get("/admin/alerts?lang=en")
    assert "More people read than usual" in english.text
    dashboard = auditor.get("/admin")
    assert "card-attention" in dashboard.text and "未対応のアラート" in dashboard.text
    assert auditor.get("/admin/alerts?status=dismissed").text.count("data-alert=") == 0


def test_dismissing_with_a_reason_seals_the_note_and_audits_codes_only(
    app: FastAPI, runtime: Runtime
) -> None:
    alert = _raise_alert(runtime)
    lead = _client(app, "lead")
    page = lead.get("/admin/alerts")
    assert f"/admin/incidents/new?alert={alert.id}" in page.text
    token = csrf_token(lead)
    done = lead.post(
        f"/admin/alerts/{alert.id}/dismiss",
        data={"csrf_token": token, "reason": "expected_work", "note": NOTE},
    )
    assert done.status_code == 303 and "done=dismissed" in done.headers["location"]
    stored = _alert_row(runtime)
    assert stored["status"] == "dismissed" and stored["reason"] == "expected_work"
    assert NOTE.encode() not in bytes(stored["note"])  # type: ignore[call-overload]
    listed = lead.get("/admin/alerts?status=dismissed")
    assert NOTE in listed.text and "予定された業務" in listed.text
    [entry] = [e for e in runtime.audit.tail(5) if e.action == "alert.dismiss"]
    assert list(entry.targets) == [f"alert:{alert.id}"]
    assert entry.details == {"rule": "volume", "reason": "expected_work", "note": True}
    again = lead.post(
        f"/admin/alerts/{alert.id}/dismiss", data={"csrf_token": token, "reason": "test"}
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    "form",
    [
        {"reason": "bored"},
        {"reason": ""},
        {"reason": "other"},  # other needs a note
        {"reason": "test", "note": "x" * 501},
        {"reason": "test", "note": "two\u2028lines"},
    ],
)
def test_a_bad_dismissal_is_refused_and_nothing_is_stored(
    app: FastAPI, runtime: Runtime, form: dict[str, str]
) -> None:
    alert = _raise_alert(runtime)
    before = _alert_row(runtime)
    size = runtime.audit.size()
    lead = _client(app, "lead")
    refused = lead.post(
        f"/admin/alerts/{alert.id}/dismiss", data={"csrf_token": csrf_token(lead), **form}
    )
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text
    assert _alert_row(runtime) == before
    assert not [
        e
        for e in runtime.audit.tail(runtime.audit.size() - size + 1)
        if e.action == "alert.dismiss"
    ]


def test_roles_and_unknown_alerts(app: FastAPI, runtime: Runtime) -> None:
    alert = _raise_alert(runtime)
    handler = _client(app, "handler")
    assert handler.get("/admin/alerts").status_code == 403
    auditor = _client(app, "auditor")
    refused = auditor.post(
        f"/admin/alerts/{alert.id}/dismiss",
        data={"csrf_token": csrf_token(auditor), "reason": "test"},
    )
    assert refused.status_code == 403
    assert _alert_row(runtime)["status"] == "open"
    lead = _client(app, "lead")
    missing = lead.post(
        "/admin/alerts/al_000000000000000000000000/dismiss",
        data={"csrf_token": csrf_token(lead), "reason": "test"},
    )
    assert missing.status_code == 404


def test_an_alert_linked_to_an_incident(runtime: Runtime) -> None:
    alert = _raise_alert(runtime)
    linked = alerts.link_incident(
        runtime.vault, actor="staff:st_x", alert_id=alert.id, incident_id="in_1234"
    )
    assert linked.status == "incident" and linked.incident_id == "in_1234"
    [entry] = [e for e in runtime.audit.tail(3) if e.action == "alert.incident"]
    assert list(entry.targets) == [f"alert:{alert.id}", "incident:in_1234"]
    with pytest.raises(Conflict):
        alerts.dismiss(runtime.vault, actor="staff:st_x", alert_id=alert.id, reason="test")
    with pytest.raises(InvalidValue):
        alerts.link_incident(
            runtime.vault, actor="staff:st_x", alert_id=alert.id, incident_id="山田"
        )
