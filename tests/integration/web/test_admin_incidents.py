"""Breaches in the admin console: the list with the decision and deadlines, the new-incident
form (post/redirect/get; bad input shown again with 400 and a message, nothing stored), an
incident's page with both deadlines, the people chooser, reports, actions and closing, the
report draft with all nine fields as JSON, HTML (Japanese, English) and PDF, the dashboard's
card, and roles: an auditor reads, only incidents.manage changes."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.incidents import register
from mamori.store import db
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff, csrf_token

FORM = {
    "discovered_at": "2026-04-30T22:00",
    "aware_at": "2026-05-01T09:30",
    "items": ["name", "email"],
    "people_estimated": "1001",
    "summary": "不正アクセスにより顧客情報が閲覧された",
    "cause": "脆弱性",
    "harm": "なし",
    "response": "個別に通知",
    "publication": "ウェブサイトで公表",
    "other": "警察に相談",
}
HEADINGS_JA = [
    "概要",
    "漏えい等が発生し、又は発生したおそれがある個人データの項目",
    "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数",
    "原因",
    "二次被害又はそのおそれの有無及びその内容",
    "本人への対応の実施状況",
    "公表の実施状況",
    "再発防止のための措置",
    "その他参考となる事項",
]


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    clock = ManualClock()
    clock.freeze(dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC))  # 12:00 in Tokyo
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    create_staff(runtime, "lead", PASSWORD, "lead")
    create_staff(runtime, "auditor", PASSWORD, "auditor")
    create_staff(runtime, "handler", PASSWORD, "handler")
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
def lead(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield admin_client(client, "lead", PASSWORD)


@pytest.fixture
def auditor(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield admin_client(client, "auditor", PASSWORD)


def _count(runtime: Runtime) -> int:
    with db.read(runtime.engine) as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one())


def _alert(html: str) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", found[1]).strip() if found else ""


def _record(lead: TestClient, **given: object) -> str:
    answer = lead.post("/admin/incidents", data={**FORM, **given, "csrf_token": csrf_token(lead)})
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(
        r"/admin/incidents/(inc_[0-9a-f]{24})\?done=recorded", answer.headers["location"]
    )
    assert found, answer.headers["location"]
    return found[1]


def test_a_lead_records_an_incident_with_1001_people_and_sees_both_deadlines(
    lead: TestClient, runtime: Runtime
) -> None:
    form = lead.get("/admin/incidents/new")
    assert form.status_code == 200 and "事業者が知った日時" in form.text
    incident_id = _record(lead)
    page = lead.get(f"/admin/incidents/{incident_id}?done=recorded")
    assert page.status_code == 200 and "漏えい等を記録しました。" in page.text
    assert re.search(r'id="incident-reportable"><strong[^>]*>報告対象', page.text)
    assert re.search(r'id="due-preliminary">2026-05-04', page.text)
    assert re.search(r'id="due-final">2026-05-30', page.text)
    assert "1,000人超" in page.text and "残り3日" in page.text
    listing = lead.get("/admin/incidents")
    assert incident_id in listing.text and "報告対象" in listing.text
    assert 'href="/admin/incidents?lang=ja" aria-current="page"' in listing.text
    dashboard = lead.get("/admin")
    assert "対応中の漏えい等" in dashboard.text
    assert "最も近い期限: 速報 2026-05-04(残り3日)" in dashboard.text
    english = lead.get(f"/admin/incidents/{incident_id}?lang=en")
    assert "Reportable" in english.text and "Preliminary report" in english.text


def test_encrypted_data_only_is_shown_as_not_reportable(lead: TestClient) -> None:
    incident_id = _record(lead, encrypted="1")
    page = lead.get(f"/admin/incidents/{incident_id}")
    assert "報告不要(高度な暗号化)" in page.text and "報告対象</strong>" not in page.text


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"aware_at": "someday"}, "事業者が知った日時: 日時ではありません"),
        ({"aware_at": "2026-04-29T10:00"}, "発覚した日時より前です"),
        ({"items": []}, "項目: 入力してください。"),
        ({"items": ["emial"]}, "項目: 一覧にないものです。"),
        ({"people_estimated": "たくさん"}, "本人の数(推定): 0以上の整数"),
        ({"triggers": ["skimming"]}, "報告対象となる事由: 一覧にないもの"),
        ({"summary": "x" * 4001}, "概要: 長すぎます"),
    ],
)
def test_bad_input_is_shown_again_with_400_and_nothing_stored(
    lead: TestClient, runtime: Runtime, given: dict[str, object], message: str
) -> None:
    answer = lead.post("/admin/incidents", data={**FORM, **given, "csrf_token": csrf_token(lead)})
    assert answer.status_code == 400
    assert message in _alert(answer.text), _alert(answer.text)
    kept = str(given.get("summary", FORM["summary"]))
    assert kept[:50] in answer.text  # what was typed is kept
    assert _count(runtime) == 0


def test_people_reports_actions_and_close_through_the_forms(
    lead: TestClient, runtime: Runtime
) -> None:
    incident_id = _record(lead)
    page = f"/admin/incidents/{incident_id}"
    token = csrf_token(lead)
    a, b = person(runtime, "a@example.jp"), person(runtime, "b@example.jp")
    answer = lead.post(f"{page}/people", data={"subjects": f"{a}\n{b}", "csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == f"{page}?done=people"
    shown = lead.get(page)
    assert "2人(うち通知済み0人)" in shown.text and f"<code>{a}</code>" in shown.text
    bad = lead.post(f"{page}/people", data={"subjects": "0" * 32, "csrf_token": token})
    assert bad.status_code == 400 and "本人ID: 一覧にないもの" in _alert(bad.text)
    assert lead.post(f"{page}/notices", data={"csrf_token": token}).status_code == 303
    noticed = lead.get(page).text
    assert "2人(うち通知済み2人)" in noticed and "2026-05-01 12:00" in noticed
    answer = lead.post(
        f"{page}/reports",
        data={"kind": "preliminary", "sent_on": "2026-05-01", "csrf_token": token},
    )
    assert answer.status_code == 303
    twice = lead.post(
        f"{page}/reports",
        data={"kind": "preliminary", "sent_on": "2026-05-01", "csrf_token": token},
    )
    assert twice.status_code == 409
    lead_id = register.staff_members(runtime)[0].id
    answer = lead.post(
        f"{page}/actions",
        data={"action": "WAFの導入", "owner": lead_id, "due_on": "2026-05-20", "csrf_token": token},
    )
    assert answer.status_code == 303 and "WAFの導入" in lead.get(page).text
    refused = lead.post(f"{page}/close", data={"csrf_token": token})
    assert refused.status_code == 409 and "再発防止策" in _alert(refused.text)
    edit = {**FORM, "prevention": "脆弱性診断を四半期ごとに実施", "csrf_token": token}
    assert lead.post(page, data=edit).status_code == 303
    answer = lead.post(f"{page}/close", data={"csrf_token": token})
    assert answer.status_code == 303
    closed = lead.get(page)
    assert "終了" in closed.text and 'action="/admin/incidents/' not in closed.text.split("<h2")[-1]


def test_the_report_draft_holds_the_nine_fields_as_json_html_and_pdf(
    lead: TestClient, auditor: TestClient
) -> None:
    incident_id = _record(lead, prevention="多要素認証の導入")
    base = f"/admin/incidents/{incident_id}/report"
    data = auditor.get(f"{base}.json").json()
    assert [f["key"] for f in data["fields"]] == [
        "summary",
        "items",
        "people",
        "cause",
        "harm",
        "response",
        "publication",
        "prevention",
        "other",
    ]
    assert [f["heading"] for f in data["fields"]] == HEADINGS_JA
    assert data["reportable"] is True and data["final_due"] == "2026-05-30"
    assert data["preliminary_due"] == "2026-05-04"
    values = {f["key"]: f["value"] for f in data["fields"]}
    assert values["items"] == "氏名, メールアドレス" or "氏名" in values["items"]
    assert "1,001人" in values["people"] and values["prevention"] == "多要素認証の導入"
    html = auditor.get(f"{base}.html")
    assert html.status_code == 200 and html.headers["content-language"] == "ja"
    for heading in HEADINGS_JA:
        assert heading in html.text
    english = auditor.get(f"{base}.html?lang=en").text
    assert "Measures to prevent recurrence" in english and "Summary" in english
    pdf = auditor.get(f"{base}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = re.sub(r"\s+", "", text)
    for heading in HEADINGS_JA:
        assert re.sub(r"\s+", "", heading) in flat, heading
    assert "多要素認証の導入" in flat


def test_an_auditor_reads_but_changes_nothing(
    lead: TestClient, auditor: TestClient, runtime: Runtime
) -> None:
    incident_id = _record(lead)
    page = auditor.get(f"/admin/incidents/{incident_id}")
    assert page.status_code == 200 and "閲覧のみです" in page.text
    assert auditor.get("/admin/incidents/new").status_code == 403
    token = csrf_token(auditor)
    refused = auditor.post("/admin/incidents", data={**FORM, "csrf_token": token})
    assert refused.status_code == 403 and _count(runtime) == 1
    assert (
        auditor.post(
            f"/admin/incidents/{incident_id}/close", data={"csrf_token": token}
        ).status_code
        == 403
    )


def test_a_handler_does_not_see_the_register(app: FastAPI) -> None:
    with TestClient(app, follow_redirects=False) as client:
        handler = admin_client(client, "handler", PASSWORD)
        assert handler.get("/admin/incidents").status_code == 200  # registers.view
        assert handler.get("/admin/incidents/new").status_code == 403


def test_an_unknown_incident_is_404(lead: TestClient) -> None:
    assert lead.get("/admin/incidents/inc_" + "0" * 24).status_code == 404
    assert lead.get("/admin/incidents/nothing/report.json").status_code == 404


def test_the_card_and_the_list_highlight_a_deadline_near_or_overdue(
    lead: TestClient, runtime: Runtime
) -> None:
    incident_id = _record(lead)  # preliminary due 4 May, 3 days left: not highlighted
    card = r'card card-attention">\s*<p class="card-label">対応中の漏えい等'
    assert not re.search(card, lead.get("/admin").text)
    row = rf'<tr class="attention" data-incident="{incident_id}"'
    assert not re.search(row, lead.get("/admin/incidents").text)
    # Aware on 28 April: the preliminary report is due today (1 May).
    _record(lead, discovered_at="2026-04-28T08:00", aware_at="2026-04-28T09:30")
    dashboard = lead.get("/admin").text
    assert re.search(card, dashboard) and "速報 2026-05-01(残り0日)" in dashboard
    # Aware on 25 April: due on 28 April, three days overdue.
    late = _record(lead, discovered_at="2026-04-25T08:00", aware_at="2026-04-25T09:30")
    listing = lead.get("/admin/incidents").text
    assert re.search(rf'<tr class="attention" data-incident="{late}"', listing)
    assert "3日超過" in listing and not re.search(row, listing)
    assert "速報 2026-04-28(3日超過)" in lead.get("/admin").text


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        (
            "people/audit",
            {
                "key": "nokey",
                "items": ["email"],
                "since": "2026-05-01T00:00",
                "until": "2026-05-01T10:00",
            },
            "サービスキーのID: 一覧にないもの",
        ),
        (
            "people/audit",
            {"key": "", "items": ["email"], "since": "x", "until": "2026-05-01T10:00"},
            "サービスキーのID: 一覧にないもの",
        ),
        ("people", {"subjects": ""}, "本人ID: 入力してください。"),
        (
            "reports",
            {"kind": "final", "sent_on": "2026-04-01"},
            "送付した日: 事業者が知った日より前",
        ),
        ("reports", {"kind": "final", "sent_on": "someday"}, "送付した日: 日付ではありません"),
        (
            "actions",
            {"action": "", "owner": "", "due_on": "2026-05-20"},
            "是正措置: 入力してください。",
        ),
        (
            "actions",
            {"action": "WAF", "owner": "st_nobody", "due_on": "2026-05-20"},
            "担当者: 一覧にないもの",
        ),
    ],
)
def test_bad_input_to_the_incident_forms_is_400_and_changes_nothing(
    lead: TestClient, runtime: Runtime, path: str, data: dict[str, object], message: str
) -> None:
    incident_id = _record(lead)
    with db.read(runtime.engine) as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar_one()
    answer = lead.post(
        f"/admin/incidents/{incident_id}/{path}", data={**data, "csrf_token": csrf_token(lead)}
    )
    assert answer.status_code == 400 and message in _alert(answer.text), _alert(answer.text)
    with db.read(runtime.engine) as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar_one()
        rows = [
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("incident_people", "incident_reports", "incident_actions")
        ]
    assert rows == [0, 0, 0] and after == before
