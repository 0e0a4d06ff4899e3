"""The admin console's outbox: staff read mail decrypted, every look audited."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.store import db
from mamori.web.app import create_app
from tests.helpers.staff import admin_client, create_staff

PASSWORD = "correct horse battery"


def _queue(runtime: Runtime, to: str, **kwargs: object) -> str:
    args: dict[str, object] = {"to": to, "template": "test", "language": "ja", "context": {}}
    args.update(kwargs)
    with db.write(runtime.engine) as conn:
        return runtime.mail.queue(conn, **args)  # type: ignore[arg-type]


def test_staff_see_the_outbox_decrypted_and_the_view_is_audited(runtime: Runtime) -> None:
    staff_id = create_staff(runtime, "yamada", PASSWORD, "handler")
    kept = _queue(runtime, "hanako@example.jp", subject_id="s42")
    runtime.mail.opt_out_address("skip@example.jp", actor="staff:x")
    skipped = _queue(
        runtime, "skip@example.jp", template="news", context={"body": "x"}, marketing=True
    )
    with TestClient(create_app(runtime=runtime)) as client:
        anonymous = client.get(
            "/admin/outbox", headers={"Accept": "text/html"}, follow_redirects=False
        )
        assert anonymous.status_code == 303 and "/admin/login" in anonymous.headers["location"]
        admin_client(client, "yamada", PASSWORD)
        page = client.get("/admin/outbox")
        assert page.status_code == 200
        assert "hanako@example.jp" in page.text  # decrypted for staff
        assert "株式会社ココチエ 送信テスト" in page.text
        assert "保管(未送信)" in page.text and "配信停止により送信せず" in page.text
        assert "skip@example.jp" not in page.text  # a skipped mail keeps no address
        en = client.get("/admin/outbox?lang=en&status=outbox")
        assert "Kept (not sent)" in en.text and "hanako@example.jp" in en.text
        one = client.get(f"/admin/outbox/{kept}")
        assert one.status_code == 200 and "mamori のメール送信設定" in one.text
        assert "<code>s42</code>" in one.text
        assert client.get(f"/admin/outbox/{skipped}").status_code == 200
        assert client.get("/admin/outbox/ml_nope").status_code == 404
        assert client.get("/admin/outbox?status=lost").status_code == 400
        assert client.get("/admin").status_code == 200  # the dashboard's card renders
    with db.read(runtime.engine) as conn:
        views = conn.execute(
            sa.text(
                "SELECT action, actor, targets FROM audit_entries"
                " WHERE action IN ('mail.outbox.view', 'mail.view') ORDER BY seq"
            )
        ).all()
    assert [v.action for v in views] == [
        "mail.outbox.view",
        "mail.outbox.view",
        "mail.view",
        "mail.view",
    ]
    assert all(v.actor == f"staff:{staff_id}" for v in views)
    assert f"mail:{kept}" in views[0].targets and f"mail:{skipped}" in views[0].targets
    assert "@" not in "".join(v.targets for v in views)


def test_staff_never_see_a_live_code_or_an_unsubscribe_token(runtime: Runtime) -> None:
    """Issue 10: staff could read live one-time codes in the outbox. Masked for every role,
    on the list and on the mail's page; the mail as sent keeps them."""
    from mamori.requests import service
    from mamori.requests.intake import check_intake

    create_staff(runtime, "kanri", PASSWORD, "manager")
    intake = check_intake(
        runtime.vault.rules(), type="disclosure", language="ja", email="hanako@example.jp"
    )
    service.file_request(
        runtime, intake, actor="system:center", client="192.0.2.1", base_url="http://m.test"
    )
    news = _queue(
        runtime, "hanako@example.jp", template="news", context={"body": "x"}, marketing=True
    )
    with db.read(runtime.engine) as conn:
        summaries = runtime.mail.summaries(conn, limit=10)
        sent = {
            m.summary.template: m for m in runtime.mail.open_many(conn, summaries, masked=False)
        }
    code = re.search(r"確認コード: (\d{6})", sent["request_code"].body or "")
    assert code is not None
    token = (sent["news"].unsubscribe_url or "").rsplit("/", 1)[-1]
    assert len(token) > 40
    with TestClient(create_app(runtime=runtime)) as client:
        admin_client(client, "kanri", PASSWORD)
        pages = [client.get("/admin/outbox").text]
        pages += [client.get(f"/admin/outbox/{m.summary.id}").text for m in sent.values()]
        pages.append(client.get(f"/admin/outbox/{news}?lang=en").text)
        pages.append(client.get("/admin/audit").text)
    for text in pages:
        assert code[1] not in text and token not in text
    assert any("確認コード: ●●●●●●" in text for text in pages)
