"""The request pages, the admin console's request pages and the API, over HTTP in-process."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.client import Client, RequestStatus
from mamori.config import load_settings
from mamori.errors import ApiError, ConfigError
from mamori.requests import service, store
from mamori.store import db
from mamori.vault import service_keys
from mamori.web.app import create_app
from mamori.web.center.requests import FORM_COOKIE
from tests.helpers.requests import last_code, mails, person
from tests.helpers.server import LiveServer
from tests.helpers.staff import admin_client, create_staff

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        client.headers["Accept"] = "text/html"
        yield client


def _token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found[1]


def _file(client: TestClient, type: str, **data: str) -> str:
    token = _token(client, f"/center/requests/new/{type}?lang=ja")
    response = client.post(
        f"/center/requests/new/{type}?lang=ja",
        data={"csrf_token": token, "email": "hanako@example.jp", **data},
    )
    assert response.status_code == 303, response.text
    found = re.search(r"/center/requests/([0-9a-f]{32})", response.headers["location"])
    assert found
    return found[1]


def test_every_type_has_a_form_in_both_languages(client: TestClient) -> None:
    index = client.get("/center/requests?lang=ja")
    assert "開示" in index.text and "お問い合わせ・苦情" in index.text
    for type in ("disclosure", "correction", "usage_stop", "erasure", "provision_stop"):
        for lang in ("ja", "en"):
            assert client.get(f"/center/requests/new/{type}?lang={lang}").status_code == 200
    inquiry = client.get("/center/requests/new/inquiry?lang=ja").text
    assert "通話内容を記録あるいは録音" in inquiry
    assert "記録が" not in client.get("/center/requests/new/erasure?lang=ja").text[:0]
    assert "rights or legitimate" in client.get("/center/requests/new/erasure?lang=en").text
    assert client.get("/center/requests/new/nonsense").status_code == 404


def test_a_form_without_its_token_stores_nothing(client: TestClient, runtime: Runtime) -> None:
    client.get("/center/requests/new/disclosure")
    response = client.post(
        "/center/requests/new/disclosure", data={"csrf_token": "x" * 40, "email": "a@b.jp"}
    )
    assert response.status_code == 403
    with db.read(runtime.engine) as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM data_requests")).scalar_one() == 0


def _multipart(boundary: str, fields: dict[str, str]) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


@pytest.mark.parametrize(
    "cut",
    [
        lambda body: body[: body.rindex(b"--X--")],  # no closing boundary
        lambda body: body[: len(body) // 2],  # cut short inside a part
        lambda body: body.replace(b"--X--", b"--Y--"),  # a closing boundary of another body
    ],
)
def test_a_truncated_multipart_body_is_refused_and_stores_nothing(
    client: TestClient, runtime: Runtime, cut: Callable[[bytes], bytes]
) -> None:
    """Issue 10: a body without its closing boundary, or cut short, filed a request."""
    token = _token(client, "/center/requests/new/inquiry?lang=ja")
    fields = {"csrf_token": token, "email": "hanako@example.jp", "message": "質問です"}
    body = _multipart("X", fields)
    headers = {"Content-Type": "multipart/form-data; boundary=X"}
    refused = client.post(
        "/center/requests/new/inquiry?lang=en",
        content=cut(body),
        headers=headers,
    )
    assert refused.status_code == 400
    assert "incomplete" in refused.text  # the detail, on an English page
    japanese = client.post(
        "/center/requests/new/inquiry?lang=ja", content=cut(body), headers=headers
    )
    assert japanese.status_code == 400 and "incomplete" not in japanese.text
    with db.read(runtime.engine) as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM data_requests")).scalar_one() == 0
    whole = client.post("/center/requests/new/inquiry?lang=ja", content=body, headers=headers)
    assert whole.status_code == 303, whole.text  # the same form, complete, is filed


def test_a_form_body_past_the_limit_is_a_413(client: TestClient) -> None:
    token = _token(client, "/center/requests/new/inquiry?lang=ja")
    big = _multipart("X", {"csrf_token": token, "message": "x" * 7_000_000})
    response = client.post(
        "/center/requests/new/inquiry",
        content=big,
        headers={"Content-Type": "multipart/form-data; boundary=X"},
    )
    assert response.status_code == 413


def test_a_bad_field_shows_the_form_again(client: TestClient) -> None:
    token = _token(client, "/center/requests/new/erasure?lang=ja")
    response = client.post(
        "/center/requests/new/erasure?lang=ja",
        data={"csrf_token": token, "email": "hanako@example.jp", "items": "phone"},
    )
    assert response.status_code == 400
    assert "ground" in response.text and 'role="alert"' in response.text
    # what to fix is said in the page's language; what was entered is kept
    assert "ご請求の理由を選んでください" in response.text
    assert 'value="hanako@example.jp"' in response.text
    assert re.search(r'name="items" value="phone" checked', response.text)
    # the legend of the items is a word, not a Python object
    assert "built-in method" not in response.text and "対象となる情報</legend>" in response.text


def test_an_agent_request_keeps_the_proof_encrypted(client: TestClient, runtime: Runtime) -> None:
    token = _token(client, "/center/requests/new/disclosure")
    proof = b"%PDF-1.4 power of attorney " + b"x" * 100
    response = client.post(
        "/center/requests/new/disclosure",
        data={
            "csrf_token": token,
            "email": "hanako@example.jp",
            "agent": "appointed_agent",
            "agent_name": "代理 太郎",
        },
        files={"proof": ("proof.pdf", proof, "application/pdf")},
    )
    assert response.status_code == 303, response.text
    request_id = response.headers["location"].split("/")[3]
    with db.read(runtime.engine) as conn:
        row = conn.execute(sa.text("SELECT proof, sealed FROM data_requests")).one()
    assert b"power of attorney" not in row.proof and "代理".encode() not in row.sealed
    assert service.proof(runtime, request_id, actor="staff:x") == (proof, "application/pdf")


def test_the_status_page_needs_the_code(client: TestClient, runtime: Runtime) -> None:
    request_id = _file(client, "disclosure")
    assert client.get(f"/center/requests/{request_id}").status_code == 401
    token = client.cookies[FORM_COOKIE]
    verify = client.post(
        f"/center/requests/{request_id}/verify",
        data={"csrf_token": token, "code": last_code(runtime)},
    )
    assert verify.status_code == 303
    page = client.get(f"/center/requests/{request_id}?lang=en")
    assert page.status_code == 200 and "Identity confirmed" in page.text


def test_sessions_of_two_requests_live_side_by_side(client: TestClient, runtime: Runtime) -> None:
    first = _file(client, "disclosure")
    token = client.cookies[FORM_COOKIE]
    client.post(
        f"/center/requests/{first}/verify", data={"csrf_token": token, "code": last_code(runtime)}
    )
    second = _file(client, "inquiry", message="質問です")
    client.post(
        f"/center/requests/{second}/verify", data={"csrf_token": token, "code": last_code(runtime)}
    )
    # confirming the second request does not lock the person out of the first
    assert client.get(f"/center/requests/{first}").status_code == 200
    assert client.get(f"/center/requests/{second}").status_code == 200


def test_a_signed_in_person_is_verified_at_once(runtime: Runtime) -> None:
    subject = person(runtime)
    from mamori.center import access
    from mamori.vault.access import Caller

    link = access.issue_link(runtime.vault, Caller.system("t"), subject, minutes=5)
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        client.headers["Accept"] = "text/html"
        client.get(f"/center/enter?token={link.token}")
        page = client.get("/center/requests/new/usage_stop?lang=ja")
        assert "ログインしているため" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        response = client.post(
            "/center/requests/new/usage_stop",
            data={
                "csrf_token": token[1],
                "email": "hanako@example.jp",
                "items": "phone",
                "ground": "no_longer_needed",
            },
        )
        assert response.status_code == 303
        assert "/verify" not in response.headers["location"]
        status = client.get(response.headers["location"])
        assert "本人確認済み" in status.text
        # the center leads to the requests, and they list the person's own requests
        assert 'href="/center/requests?lang=ja"' in client.get("/center?lang=ja").text
        listed = client.get("/center/requests?lang=ja").text
        assert "これまでのご請求" in listed and response.headers["location"].split("?")[0] in listed
    with db.read(runtime.engine) as conn:
        assert store.open_requests(conn)[0].subject_id == subject


def test_staff_decide_and_viewers_only_read(runtime: Runtime) -> None:
    subject = person(runtime)
    create_staff(runtime, "handler1", PASSWORD, "lead")
    create_staff(runtime, "viewer1", PASSWORD, "viewer")
    app = create_app(runtime=runtime)
    from mamori.requests.intake import check_intake
    from mamori.requests.model import Verification

    filed = service.file_request(
        runtime,
        check_intake(runtime.vault.rules(), type="disclosure", language="ja", email="h@x.jp"),
        actor="t",
        client="c",
        base_url="http://t",
        subject_id=subject,
        verified_by=Verification.session,
    )
    with TestClient(app, follow_redirects=False) as raw:
        viewer = admin_client(raw, "viewer1", PASSWORD)
        queue = viewer.get("/admin/requests")
        assert queue.status_code == 200 and filed.id in queue.text
        page = viewer.get(f"/admin/requests/{filed.id}")
        assert "判断は個人情報取扱責任者が行います" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        assert (
            viewer.post(f"/admin/requests/{filed.id}/review", data={"csrf_token": token[1]})
        ).status_code == 403
        assert viewer.get(f"/admin/requests/{filed.id}/proof").status_code == 403
    with TestClient(app, follow_redirects=False) as raw:
        handler = admin_client(raw, "handler1", PASSWORD)
        page = handler.get(f"/admin/requests/{filed.id}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        assert (
            handler.post(
                f"/admin/requests/{filed.id}/review", data={"csrf_token": token[1]}
            ).status_code
            == 303
        )
        refused = handler.post(
            f"/admin/requests/{filed.id}/decide",
            data={"csrf_token": token[1], "outcome": "refused", "reason": ""},
        )
        assert refused.status_code == 400 and 'id="decision-error"' in refused.text
        # the message is in the console's language, and the form keeps the refusal chosen:
        # a handler who now writes a reason must not fulfil the request by mistake
        assert "理由を記入してください" in refused.text
        assert re.search(r'value="refused" checked', refused.text)
        assert not re.search(r'value="fulfilled" checked', refused.text)
        decision = {"csrf_token": token[1], "outcome": "refused", "reason": "業務に支障があるため"}
        # First the notice as the person will read it; nothing is decided or sent yet.
        mails_before = len(mails(runtime))
        check = handler.post(f"/admin/requests/{filed.id}/decide", data=decision)
        assert check.status_code == 200 and 'id="notice-preview"' in check.text
        assert "業務に支障があるため" in check.text.split('id="notice-preview"')[1]
        assert len(mails(runtime)) == mails_before
        assert "対応中" in handler.get(f"/admin/requests/{filed.id}").text
        edit = handler.post(f"/admin/requests/{filed.id}/decide", data={**decision, "edit": "yes"})
        assert edit.status_code == 200 and "業務に支障があるため</textarea>" in edit.text
        assert re.search(r'value="refused" checked', edit.text)
        done = handler.post(
            f"/admin/requests/{filed.id}/decide", data={**decision, "confirmed": "yes"}
        )
        assert done.status_code == 303
        assert len(mails(runtime)) == mails_before + 1
        assert "通知済み" in handler.get(f"/admin/requests/{filed.id}").text


def test_the_api_files_and_reports(runtime: Runtime) -> None:
    subject = person(runtime)
    _, key = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation"],
        operations=["read", "write"],
        actor="test",
    )
    with TestClient(create_app(runtime=runtime)) as client:
        auth = {"Authorization": f"Bearer {key}"}
        created = client.post(
            "/api/v1/requests",
            json={
                "subject_id": subject,
                "type": "erasure",
                "email": "h@x.jp",
                "items": ["phone"],
                "ground": "no_longer_needed",
            },
            headers=auth,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["status"] == "verified" and body["verified_by"] == "service"
        status = client.get(f"/api/v1/requests/{body['id']}", headers=auth)
        assert status.json()["type"] == "erasure"
        bad = client.post(
            "/api/v1/requests",
            json={"subject_id": subject, "type": "erasure", "email": "h@x.jp", "items": ["phone"]},
            headers=auth,
        )
        assert bad.status_code == 400 and "ground" in bad.json()["error"]
        assert client.get(f"/api/v1/requests/{'0' * 32}", headers=auth).status_code == 404
        assert client.get(f"/api/v1/requests/{body['id']}").status_code == 401


def test_the_python_client_files_and_reports(live_server: LiveServer) -> None:
    """The host service's client returns the API's own models (mamori.web.api.schemas)."""
    runtime = live_server.runtime
    subject = person(runtime)
    _, key = service_keys.create(
        runtime.engine,
        runtime.audit,
        name="host",
        purposes=["service_operation"],
        operations=["read", "write"],
        actor="test",
    )
    with Client(live_server.url, key) as host:
        filed = host.file_request(
            subject, "erasure", email="h@x.jp", items=["phone"], ground="no_longer_needed"
        )
        assert isinstance(filed, RequestStatus)
        assert (filed.type, filed.status, filed.verified_by) == ("erasure", "verified", "service")
        assert filed.subject_id == subject and filed.due_at > filed.created_at
        assert host.request_status(filed.id) == filed
        with pytest.raises(ApiError, match="ground") as refused:
            host.file_request(subject, "erasure", email="h@x.jp", items=["phone"])
        assert refused.value.status == 400


def test_a_fee_is_allowed_for_disclosure_only() -> None:
    assert load_settings(request_fees={"disclosure": 1000}).request_fees == {"disclosure": 1000}
    with pytest.raises(ConfigError, match=r"MAMORI_REQUEST_FEES: .*disclosure only"):
        load_settings(request_fees={"erasure": 500})
    with pytest.raises(ConfigError, match="MAMORI_REQUEST_DUE_DAYS"):
        load_settings(request_due_days={"nonsense": 5})
    # a due date past the two weeks of APPI 法39 is refused, per type and as the default
    with pytest.raises(ConfigError, match="MAMORI_REQUEST_DUE_DAYS"):
        load_settings(request_due_days={"disclosure": 30})
    with pytest.raises(ConfigError, match="MAMORI_REQUEST_DEFAULT_DUE_DAYS"):
        load_settings(request_default_due_days=15)


def test_a_wrong_code_keeps_the_form_with_the_tries_left(
    client: TestClient, runtime: Runtime
) -> None:
    request_id = _file(client, "disclosure")
    token = client.cookies[FORM_COOKIE]
    first = client.get(f"/center/requests/{request_id}/verify?lang=ja&filed=1")
    assert "まだ受付は完了していません" in first.text and "ご請求を受け付けました" not in first.text
    assert "あと 5 回入力できます" in first.text
    assert mails(runtime, "request_received") == []
    code = last_code(runtime)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = client.post(
        f"/center/requests/{request_id}/verify?lang=ja", data={"csrf_token": token, "code": wrong}
    )
    assert page.status_code == 400
    assert 'id="code-error"' in page.text and 'aria-invalid="true"' in page.text
    assert "あと 4 回入力できます" in page.text and 'name="code"' in page.text
    english = client.post(
        f"/center/requests/{request_id}/verify?lang=en", data={"csrf_token": token, "code": wrong}
    )
    assert "3 tries left" in english.text
    right = client.post(
        f"/center/requests/{request_id}/verify", data={"csrf_token": token, "code": code}
    )
    assert right.status_code == 303
    # The receipt comes after the verification, once, naming the request by its number.
    [receipt] = mails(runtime, "request_received")
    request = service.get(runtime, request_id, actor="test")
    assert request.reference in (receipt.body or "")
