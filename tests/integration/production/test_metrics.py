"""/metrics for Prometheus (scraped and parsed here), /readyz, and the JSON line per request."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mamori.app import Runtime
from mamori.config import Settings
from mamori.store import db
from mamori.web.app import create_app
from mamori.web.metrics import JsonFormatter, log_config
from tests.helpers.keys import service_key
from tests.helpers.runtime import open_test_runtime

TOKEN = "metrics-token-0123456789abcdef"
EMAIL = "zz-metrics-person@example.jp"
ITEMS_ROUTE = "/api/v1/subjects/{subject_id}/items"


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, metrics_token=TOKEN)
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def _scrape(client: TestClient) -> dict[str, list[tuple[dict[str, str], float]]]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def _value(samples: list[tuple[dict[str, str], float]], **labels: str) -> float:
    return sum(v for got, v in samples if all(got.get(k) == w for k, w in labels.items()))


def test_the_token_guards_metrics(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401
    assert "WWW-Authenticate" in wrong.headers
    assert wrong.json() == {
        "error": "send the metrics token as Authorization: Bearer <MAMORI_METRICS_TOKEN>",
        "status": 401,
    }
    basic = client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401


def test_metrics_are_off_without_a_token(tmp_path: Path, database_url: str) -> None:
    runtime = open_test_runtime(tmp_path, database_url)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            for headers in ({"Authorization": f"Bearer {TOKEN}"}, {}):
                answer = client.get("/metrics", headers=headers)
                assert answer.status_code == 404
                assert answer.headers["content-type"] == "application/json"
                assert answer.json() == {"error": "Not Found", "status": 404}
            # Told apart from a path that does not exist by nothing: not that it is there.
            for accept in ("application/json", "text/html"):
                metrics = client.get("/metrics", headers={"Accept": accept})
                missing = client.get("/no-such-path", headers={"Accept": accept})
                assert metrics.status_code == missing.status_code == 404
                assert metrics.headers["content-type"] == missing.headers["content-type"]
                assert metrics.content == missing.content.replace(b"/no-such-path", b"/metrics")
    finally:
        runtime.close()


def test_a_short_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        Settings(metrics_token="short")


def test_scraped_metrics(client: TestClient, runtime: Runtime) -> None:
    key = service_key(runtime, "read", "write", purposes=["service_operation", "campaigns"])
    headers = {"Authorization": f"Bearer {key}"}
    made = client.post(
        "/api/v1/subjects",
        json={"type": "customer", "items": {"email": EMAIL, "name": "測定 花子"}},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    subject = made.json()["id"]
    before = _scrape(client)
    read = client.get(
        f"/api/v1/subjects/{subject}/items",
        params={"purpose": "campaigns", "items": "email,identity_document"},
        headers=headers,
    )
    assert read.status_code == 200, read.text
    refused = read.json()["refused"]
    assert refused  # the example does not use identity documents for campaigns
    looked_up = client.get(
        "/api/v1/subjects", params={"item": "email", "value": EMAIL}, headers=headers
    )
    assert looked_up.status_code == 200
    assert client.get(f"/no/such/page/{EMAIL}").status_code == 404

    after = _scrape(client)
    requests = after["mamori_http_requests_total"]
    assert _value(requests, method="GET", route=ITEMS_ROUTE, status="200") == 1
    assert _value(requests, method="GET", route="/api/v1/subjects", status="200") == 1
    assert _value(requests, method="POST", route="/api/v1/subjects", status="201") == 1
    assert _value(requests, route="<unmatched>", status="404") == 1
    durations = after["mamori_http_request_duration_seconds_count"]
    assert _value(durations, method="GET", route=ITEMS_ROUTE) == 1
    for reason in set(refused.values()):
        gained = _value(after["mamori_refusals_total"], kind="vault_read", reason=reason) - _value(
            before.get("mamori_refusals_total", []), kind="vault_read", reason=reason
        )
        assert gained == list(refused.values()).count(reason)
    assert _value(after["mamori_group_commit_seconds_count"], name="audit") >= 1
    assert _value(after["mamori_database_up"]) == 1
    assert _value(after["mamori_audit_entries"]) > 0
    assert {labels["follower"] for labels, _ in after["mamori_audit_follower_lag_entries"]} == {
        "anomalies",
        "webhooks",
    }
    assert _value(after["mamori_outbox_mail"], status="queued") >= 0
    assert _value(after["mamori_requests_overdue"]) == 0
    assert "mamori_webhook_deliveries_pending" in after
    assert "mamori_task_queue_depth" not in after  # no broker

    # no personal data, no IDs and no query strings in any label
    labels = " ".join(v for samples in after.values() for got, _ in samples for v in got.values())
    for needle in (EMAIL, "zz-metrics", subject, "?", "measure", "測定"):
        assert needle not in labels


def test_readiness(client: TestClient, runtime: Runtime) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "keys": "ok"},
    }
    with db.write(runtime.engine) as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0018_anomalies'")
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["checks"]["migrations"] == "behind"
    assert client.get("/healthz").status_code == 200  # alive all the same


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_one_json_line_per_request(tmp_path: Path, database_url: str) -> None:
    runtime = open_test_runtime(tmp_path, database_url, log_format="json")
    access = logging.getLogger("mamori.access")
    handler = _Lines()
    access.addHandler(handler)
    level, access.level = access.level, logging.INFO
    disabled, access.disabled = access.disabled, False  # import-linter's run disables loggers
    try:
        key = service_key(runtime, "read", purposes=["service_operation"])
        with TestClient(create_app(runtime=runtime)) as client:
            answer = client.get(
                "/api/v1/subjects",
                params={"item": "email", "value": EMAIL},
                headers={"Authorization": f"Bearer {key}", "X-Request-ID": "req-42"},
            )
            assert answer.headers["X-Request-ID"] == "req-42"
            made_up = client.get("/healthz", headers={"X-Request-ID": "bad id\x7f"})
            assert len(made_up.headers["X-Request-ID"]) == 16
            assert client.get("/metrics").status_code == 404  # logs on, metrics off
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
        access.disabled = disabled
        runtime.close()
    lines = handler.lines
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert first["route"] == "/api/v1/subjects"
    assert first["status"] == 200
    assert first["request_id"] == "req-42"
    assert first["method"] == "GET"
    assert first["duration_ms"] > 0
    assert first["level"] == "info" and first["ts"].endswith("Z")
    assert json.loads(lines[1])["route"] == "/healthz"
    for line in lines:
        assert EMAIL not in line and "value=" not in line and key not in line


def test_the_json_log_config_is_accepted() -> None:
    assert log_config("text", "info") is None
    config = log_config("json", "info")
    assert config is not None
    names = list(config["loggers"])
    saved = {
        n: (lg.handlers[:], lg.level, lg.propagate) for n in names if (lg := logging.getLogger(n))
    }
    try:
        logging.config.dictConfig(config)
        assert isinstance(logging.getLogger("mamori").handlers[0].formatter, JsonFormatter)
        assert not logging.getLogger("uvicorn.access").handlers
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
