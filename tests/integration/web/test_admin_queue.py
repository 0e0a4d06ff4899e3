"""The request queue and a request's page in the console: search by number, filters, days
left, the CSV (by role), notes and assignment by form (bad input shown again, nothing stored),
staff by name, times in the operator's time zone, and the dashboard's counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.requests import casework, service
from mamori.requests.intake import check_intake
from mamori.requests.model import Request, Verification
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.requests import BASE, person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff, form_token

NOW = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    clock = ManualClock()
    clock.freeze(NOW)
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    yield runtime
    runtime.close()


def file(runtime: Runtime, type: str = "inquiry", email: str = "hanako@example.jp") -> Request:
    intake = check_intake(
        runtime.vault.rules(), type=type, language="ja", email=email, message="質問"
    )
    return service.file_request(
        runtime,
        intake,
        actor="subject:x",
        client="c",
        base_url=BASE,
        subject_id=person(runtime, email=email),
        verified_by=Verification.session,
    )


@pytest.fixture
def staff(runtime: Runtime) -> dict[str, str]:
    return {
        role: create_staff(runtime, role, PASSWORD, role)
        for role in ("manager", "handler", "auditor", "viewer")
    }


def client(runtime: Runtime, login: str) -> TestClient:
    return admin_client(create_app(runtime=runtime), login, PASSWORD)


def test_the_queue_finds_a_request_by_its_number(runtime: Runtime, staff: dict[str, str]) -> None:
    wanted = file(runtime)
    other = file(runtime, email="taro@example.jp")
    browser = client(runtime, "handler")
    page = browser.get("/admin/requests", params={"q": wanted.reference})
    assert page.status_code == 200
    assert f'data-request="{wanted.id}"' in page.text
    assert f'data-request="{other.id}"' not in page.text
    assert "JST" in page.text and "あと" in page.text  # received time and days left
    typo = wanted.reference[:-1] + str((int(wanted.reference[-1]) + 1) % 10)
    refused = browser.get("/admin/requests", params={"q": typo})
    assert refused.status_code == 400
    assert 'id="search-error"' in refused.text and "check digit" in refused.text
    assert browser.get("/admin/requests", params={"due": "someday"}).status_code == 400


def test_the_csv_is_for_roles_that_export_and_is_audited(
    runtime: Runtime, staff: dict[str, str]
) -> None:
    request = file(runtime)
    assert client(runtime, "handler").get("/admin/requests/export.csv").status_code == 403
    auditor = client(runtime, "auditor")
    before = runtime.audit.size()
    out = auditor.get("/admin/requests/export.csv", params={"type": "inquiry"})
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
    assert request.reference in out.text and "hanako" not in out.text
    assert [e.action for e in runtime.audit.tail(runtime.audit.size() - before)] == [
        "requests.export"
    ]


def test_notes_and_assignment_by_form(runtime: Runtime, staff: dict[str, str]) -> None:
    request = file(runtime)
    handler = client(runtime, "handler")
    path = f"/admin/requests/{request.id}"
    token = form_token(handler.get(path).text)
    empty = handler.post(f"{path}/notes", data={"csrf_token": token, "text": "  "})
    assert empty.status_code == 400 and 'id="note-error"' in empty.text
    assert casework.notes(runtime, request.id) == []
    done = handler.post(f"{path}/notes", data={"csrf_token": token, "text": "折り返し電話済み"})
    assert done.status_code == 303
    page = handler.get(path).text
    assert "折り返し電話済み" in page and "職員 handler" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert request.reference in title and "<" not in title
    unknown = handler.post(f"{path}/assign", data={"csrf_token": token, "assignee": "st_nobody"})
    assert unknown.status_code == 400
    # An auditor may not work requests: not a member requests can be assigned to.
    as_auditor = {"csrf_token": token, "assignee": staff["auditor"]}
    assert handler.post(f"{path}/assign", data=as_auditor).status_code == 400
    mine = handler.post(f"{path}/assign", data={"csrf_token": token, "assignee": staff["handler"]})
    assert mine.status_code == 303
    assert 'id="request-assignee">職員 handler<' in handler.get(path).text
    queue = handler.get("/admin/requests", params={"assignee": staff["handler"]}).text
    assert f'data-request="{request.id}"' in queue
    # A viewer sees that notes exist but not what they say.
    viewer_page = client(runtime, "viewer").get(path).text
    assert "折り返し電話済み" not in viewer_page


def test_the_dashboard_counts_requests_due_soon_and_awaiting_verification(
    runtime: Runtime, staff: dict[str, str]
) -> None:
    intake = check_intake(
        runtime.vault.rules(), type="inquiry", language="ja", email="a@example.jp", message="q"
    )
    service.file_request(runtime, intake, actor="subject:x", client="c", base_url=BASE)
    page = client(runtime, "viewer").get("/admin").text
    assert "本人確認待ち" in page and 'href="/admin/requests?status=received&amp;lang=ja"' in page
    assert "期限間近のご請求" in page


def test_the_package_preview_shows_what_the_person_would_receive(
    runtime: Runtime, staff: dict[str, str]
) -> None:
    disclosure = file(runtime, type="disclosure")
    inquiry = file(runtime, email="taro@example.jp")
    handler = client(runtime, "handler")
    page = handler.get(f"/admin/requests/{disclosure.id}/package-preview")
    assert page.status_code == 200 and "山田 花子" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert runtime.audit.tail(1)[0].action == "request.package_preview"
    refused = handler.get(f"/admin/requests/{inquiry.id}/package-preview")
    assert refused.status_code == 409 and "disclosure" in refused.text
    assert (
        client(runtime, "viewer")
        .get(f"/admin/requests/{disclosure.id}/package-preview")
        .status_code
        == 403
    )
