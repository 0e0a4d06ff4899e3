"""Webhooks in the admin console: the manager registers an endpoint (the secret shown once, on
that answer only), the delivery log shows IDs, status, attempts and the last answer in the
operator's time, a failed delivery is replayed (再送) with CSRF and audited, bad entries are 400
with the reason in Japanese and store nothing, and the roles (lead and auditor read, only the
manager acts)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.vault import service_keys
from mamori.web.app import create_app
from mamori.webhooks import endpoints, log
from mamori.webhooks.delivery import run
from tests.helpers.requests import HOST, person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff, csrf_token
from tests.helpers.webhooks import receiver


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(
        tmp_path,
        database_url,
        webhook_deliver_seconds=0,
        webhook_allow_http_loopback=True,
        webhook_retry_schedule=[],
    )
    service_keys.create(
        runtime.engine,
        runtime.audit,
        name="shop",
        purposes=["service_operation"],
        operations=["read"],
        actor="test",
    )
    create_staff(runtime, "boss", PASSWORD, "manager")
    create_staff(runtime, "lead", PASSWORD, "lead")
    create_staff(runtime, "auditor", PASSWORD, "auditor")
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


def _client(app: FastAPI, login: str) -> TestClient:
    return admin_client(TestClient(app, follow_redirects=False), login, PASSWORD)


def test_register_deliver_fail_and_replay_from_the_console(app: FastAPI, runtime: Runtime) -> None:
    boss = _client(app, "boss")
    token = csrf_token(boss)
    with receiver(fail_first=1) as rec:
        added = boss.post(
            "/admin/webhooks/endpoints",
            data={
                "csrf_token": token,
                "service": "shop",
                "url": rec.url,
                "events": "subject.withdrawn",
            },
        )
        assert added.status_code == 200, added.text
        assert "この画面でのみ表示します" in added.text
        secret = added.text.split("<p><code>")[1].split("</code>")[0]
        assert secret.startswith("whsec_")
        rec.secret = secret
        page = boss.get("/admin/webhooks")
        assert secret not in page.text and rec.url in page.text

        subject = person(runtime)
        runtime.vault.withdraw(HOST, subject)
        run(runtime)  # the receiver answers 500; with no retries in the schedule: failed
        [row] = log.deliveries(runtime)
        assert row.status == "failed"
        failed = boss.get("/admin/webhooks?status=failed")
        assert row.id in failed.text and subject in failed.text
        assert "失敗" in failed.text and "500" in failed.text and "再送" in failed.text

        refused = boss.post(f"/admin/webhooks/deliveries/{row.id}/replay", data={})
        assert refused.status_code == 403  # no CSRF token
        replayed = boss.post(
            f"/admin/webhooks/deliveries/{row.id}/replay", data={"csrf_token": token}
        )
        assert replayed.status_code == 303
        assert "done=replayed" in replayed.headers["location"]
        again = boss.post(f"/admin/webhooks/deliveries/{row.id}/replay", data={"csrf_token": token})
        assert again.status_code == 409 and "失敗した配信だけ" in again.text
        run(runtime)
        assert rec.seen == {row.id: 1}
        assert log.deliveries(runtime)[0].status == "delivered"
    assert "webhook.replay" in [e.action for e in runtime.audit.tail(10)]


def test_bad_entries_are_400_in_japanese_and_store_nothing(app: FastAPI, runtime: Runtime) -> None:
    boss = _client(app, "boss")
    token = csrf_token(boss)
    for data, words in [
        ({"service": "shop", "url": "http://example.jp/h"}, "https://"),
        ({"service": "shop", "url": "https://u:p@example.jp/h"}, "パスワード"),
        ({"service": "nobody", "url": "https://example.jp/h"}, "サービス"),
        ({"service": "shop", "url": "https://example.jp/h", "events": "x.y"}, "イベント"),
    ]:
        answer = boss.post("/admin/webhooks/endpoints", data={"csrf_token": token, **data})
        assert answer.status_code == 400, data
        assert words in answer.text
    assert endpoints.listing(runtime) == []
    assert (
        boss.post(
            "/admin/webhooks/deliveries/msg_none/replay", data={"csrf_token": token}
        ).status_code
        == 404
    )


def test_the_lead_and_the_auditor_read_and_only_the_manager_acts(
    app: FastAPI, runtime: Runtime
) -> None:
    endpoint, _ = endpoints.create(
        runtime, service="shop", url="https://host.example.jp/h", events=(), actor="test"
    )
    for login in ("lead", "auditor"):
        client = _client(app, login)
        page = client.get("/admin/webhooks?lang=en")
        assert page.status_code == 200
        assert endpoint.id in page.text and "Rotate the secret" not in page.text
        token = csrf_token(client)
        assert (
            client.post(
                f"/admin/webhooks/endpoints/{endpoint.id}/remove", data={"csrf_token": token}
            ).status_code
            == 403
        )
    boss = _client(app, "boss")
    token = csrf_token(boss)
    rotated = boss.post(
        f"/admin/webhooks/endpoints/{endpoint.id}/rotate", data={"csrf_token": token}
    )
    assert rotated.status_code == 200 and "whsec_" in rotated.text
    removed = boss.post(
        f"/admin/webhooks/endpoints/{endpoint.id}/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 303
    assert endpoints.listing(runtime) == []
