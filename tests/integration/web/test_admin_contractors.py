"""Contractors in the admin console: the list (no contract on file highlighted, overdue
checks), a contractor's page with the policy's declaration and the register, the forms of a
handler (post/redirect/get, refusals shown again with 400/409 and nothing stored), CSRF and
roles, the dashboard's card."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.contractors import register
from mamori.store import db
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff, csrf_token

PAGE = "/admin/contractors/hosting"
CONTRACT = {
    "signed_on": "2026-03-20",
    "starts_on": "2026-04-01",
    "ends_on": "2027-03-31",
    "items": ["name", "email"],
    "note": "契約書 K-2026-017",
}


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    clock = ManualClock()
    clock.freeze(dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC))  # 12:00 in Tokyo
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    create_staff(runtime, "handler", PASSWORD, "lead")
    # A handler reads the register but may not record in it.
    create_staff(runtime, "viewer", PASSWORD, "handler")
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
def handler(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield admin_client(client, "handler", PASSWORD)


@pytest.fixture
def viewer(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield admin_client(client, "viewer", PASSWORD)


def _rows(runtime: Runtime) -> tuple[int, int]:
    with db.read(runtime.engine) as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("contractor_contracts", "contractor_checks")
        )


def _alert(html: str) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", found[1]).strip() if found else ""


def test_the_list_highlights_a_contractor_without_a_contract(
    handler: TestClient, runtime: Runtime
) -> None:
    page = handler.get("/admin/contractors")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "クラウドサービス事業者(例)" in page.text and "契約の登録なし" in page.text
    assert re.search(r'<tr class="attention" data-contractor="hosting">', page.text)
    assert 'href="/admin/contractors?lang=ja" aria-current="page"' in page.text  # the menu
    dashboard = handler.get("/admin")
    assert "対応が必要な委託先の監督" in dashboard.text
    assert "契約が未登録の委託先 1社" in dashboard.text
    assert re.search(
        r'card card-attention">\s*<p class="card-label">対応が必要な委託先', dashboard.text
    )
    english = handler.get("/admin/contractors?lang=en")
    assert "No contract on file" in english.text and "Cloud service provider" in english.text


def test_a_handler_records_a_contract_and_a_check(handler: TestClient, runtime: Runtime) -> None:
    page = handler.get(PAGE)
    assert page.status_code == 200
    assert "当社サービスの基盤の運用" in page.text  # the policy's declaration
    token = csrf_token(handler)
    answer = handler.post(f"{PAGE}/contracts", data={**CONTRACT, "csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == f"{PAGE}?done=contract"
    shown = handler.get(answer.headers["location"])
    assert "契約を記録しました。" in shown.text and "K-2026-017" in shown.text
    assert "2026-04-01 – 2027-03-31" in shown.text and "契約期間中" in shown.text
    answer = handler.post(
        f"{PAGE}/checks?lang=en", data={"due_on": "2026-04-30", "csrf_token": token}
    )
    assert answer.headers["location"] == f"{PAGE}?lang=en&done=scheduled"
    shown = handler.get(answer.headers["location"])
    assert "The check is scheduled." in shown.text and "Overdue" in shown.text  # due yesterday
    listing = handler.get("/admin/contractors")
    assert "期限超過 1件" in listing.text
    assert "期限を過ぎた監督確認 1件" in handler.get("/admin").text
    [check] = register.contractor(runtime.vault, "hosting").checks
    answer = handler.post(
        f"{PAGE}/checks/{check.id}/complete",
        data={"done_on": "2026-05-01", "result": "failed", "note": "R-1", "csrf_token": token},
    )
    assert answer.status_code == 303
    shown = handler.get(answer.headers["location"])
    assert "直近の監督確認が不適合" in shown.text and "委託停止中" in shown.text
    again = handler.post(
        f"{PAGE}/checks/{check.id}/complete",
        data={"done_on": "2026-05-01", "result": "passed", "csrf_token": token},
    )
    assert again.status_code == 409
    assert _alert(again.text).endswith("この監督確認の結果はすでに記録されています。")
    [contract] = register.contractor(runtime.vault, "hosting").contracts
    ended = handler.post(f"{PAGE}/contracts/{contract.id}/end", data={"csrf_token": token})
    assert ended.status_code == 303
    assert "契約を終了しました。" in handler.get(ended.headers["location"]).text
    twice = handler.post(f"{PAGE}/contracts/{contract.id}/end", data={"csrf_token": token})
    assert twice.status_code == 409


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("signed_on", "2026-13-01", "「締結日」が日付として正しくありません。"),
        ("starts_on", "tomorrow", "「開始日」が日付として正しくありません。"),
        ("ends_on", "2026-03-31", "「終了日」が開始日より前です。"),
        ("signed_on", "", "「締結日」を入力してください。"),
        ("note", "長" * 501, "「証跡」が長すぎます"),
    ],
)
def test_a_bad_entry_is_shown_again_with_its_reason_and_nothing_is_stored(
    handler: TestClient, runtime: Runtime, field: str, value: str, message: str
) -> None:
    token = csrf_token(handler)
    answer = handler.post(f"{PAGE}/contracts", data={**CONTRACT, field: value, "csrf_token": token})
    assert answer.status_code == 400
    assert message in _alert(answer.text)
    assert 'value="2026-04-01"' in answer.text or field == "starts_on"  # the form as sent
    assert _rows(runtime) == (0, 0)


def test_items_not_declared_and_unknown_results_are_refused(
    handler: TestClient, runtime: Runtime
) -> None:
    token = csrf_token(handler)
    answer = handler.post(
        f"{PAGE}/contracts?lang=en",
        data={**CONTRACT, "items": ["name", "advertising_id"], "csrf_token": token},
    )
    assert answer.status_code == 400
    assert "does not declare for this contractor" in _alert(answer.text)
    check = register.schedule_check(
        runtime.vault, actor="test", recipient_id="hosting", due_on="2026-05-10"
    )
    answer = handler.post(
        f"{PAGE}/checks/{check.id}/complete",
        data={"done_on": "2026-05-01", "result": "great", "csrf_token": token},
    )
    assert answer.status_code == 400 and "「結果」を選んでください。" in _alert(answer.text)
    assert _rows(runtime) == (0, 1)


def test_forms_need_their_csrf_token_and_a_handler(
    handler: TestClient, viewer: TestClient, runtime: Runtime
) -> None:
    assert handler.post(f"{PAGE}/contracts", data=CONTRACT).status_code == 403
    forged = handler.post(f"{PAGE}/contracts", data={**CONTRACT, "csrf_token": "forged"})
    assert forged.status_code == 403
    page = viewer.get(PAGE)
    assert page.status_code == 200 and "この権限では記録できません" in page.text
    assert f'action="{PAGE}/contracts' not in page.text
    token = csrf_token(viewer)
    refused = viewer.post(f"{PAGE}/contracts", data={**CONTRACT, "csrf_token": token})
    assert refused.status_code == 403
    refused = viewer.post(f"{PAGE}/checks", data={"due_on": "2026-06-01", "csrf_token": token})
    assert refused.status_code == 403
    assert _rows(runtime) == (0, 0)


def test_an_unknown_contractor_is_a_404(handler: TestClient) -> None:
    assert handler.get("/admin/contractors/a8net").status_code == 404
    token = csrf_token(handler)
    answer = handler.post(
        "/admin/contractors/nobody/checks", data={"due_on": "2026-06-01", "csrf_token": token}
    )
    assert answer.status_code == 404
