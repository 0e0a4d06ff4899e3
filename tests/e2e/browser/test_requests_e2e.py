"""A disclosure request end to end in Chromium: file, confirm by the code the test SMTP server
received, staff approve in the admin console, download the package and find the data in it.
Also: a refusal without a reason is rejected, a sixth wrong code is locked out, and an
expired download link is refused."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import Connection

from mamori.app import BUILT_IN, Runtime
from mamori.requests import package, store
from mamori.store import db
from mamori.vault.access import Caller
from tests.helpers.runtime import open_test_runtime
from tests.helpers.server import LiveServer, serving
from tests.helpers.smtp import SmtpServer
from tests.helpers.staff import create_staff, sign_in_code

EMAIL = "hanako@example.jp"
PASSWORD = "correct horse battery staple"


def _ledger(conn: Connection, subject_id: str) -> Iterable[Mapping[str, object]]:
    """A provision ledger's section (the ledger itself is another part of mamori)."""
    yield {
        "recipient": "株式会社ヨブナラ印刷",
        "items": ["name", "address"],
        "date": "2026-03-01",
    }


@pytest.fixture
def server(tmp_path: Path, database_url: str, smtp_server: SmtpServer) -> Iterator[LiveServer]:
    runtime = open_test_runtime(
        tmp_path,
        database_url,
        parts=BUILT_IN.with_sections(package.Section(package.PROVISIONS, _ledger)),
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
    )
    try:
        with serving(runtime) as served:
            yield served
    finally:
        runtime.close()


def _no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _shots() -> Path:
    folder = Path(os.environ.get("MAMORI_SCREENSHOTS", tempfile.gettempdir()))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _code(runtime: Runtime, smtp: SmtpServer, count: int) -> str:
    runtime.mail.deliver_pending()
    smtp.wait_for(count, timeout=10)
    message = smtp.messages[count - 1]
    body = message.get_content() if not message.is_multipart() else message.get_body().get_content()  # type: ignore[union-attr]
    found = re.search(r"確認コード: (\d{6})", body)
    assert found, body
    assert message["To"] == EMAIL
    return found[1]


def _file_disclosure(page: Page, url: str) -> str:
    page.goto(f"{url}/center/requests?lang=ja")
    page.get_by_role("link", name="開示", exact=True).first.click()
    page.get_by_role("textbox", name="ご連絡先のメールアドレス").fill(EMAIL)
    page.get_by_role("button", name="請求する").click()
    page.wait_for_url(re.compile(r".*/center/requests/[0-9a-f]{32}/verify.*"))
    found = re.search(r"/center/requests/([0-9a-f]{32})/verify", page.url)
    assert found
    return found[1]


def _staff(browser: Browser, server: LiveServer) -> tuple[BrowserContext, Page]:
    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/admin/login?lang=ja")
    page.get_by_label("ログインID").fill("hanako.staff")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button").last.click()
    page.get_by_label("確認コード").fill(sign_in_code(server.runtime, "hanako.staff"))
    page.get_by_role("button", name="確認する").click()
    return context, page


def test_disclosure_end_to_end(
    browser: Browser, server: LiveServer, smtp_server: SmtpServer
) -> None:
    runtime = server.runtime
    subject = runtime.vault.create_subject(
        Caller(actor_id="service:test"),
        type="customer",
        items={"name": "山田 花子", "email": EMAIL, "address": "東京都港区南青山5-13-1"},
    )
    create_staff(runtime, "hanako.staff", PASSWORD, "lead")

    person = browser.new_context(locale="ja-JP", java_script_enabled=False, accept_downloads=True)
    page = person.new_page()
    request_id = _file_disclosure(page, server.url)
    code = _code(runtime, smtp_server, 1)
    page.get_by_label("確認コード").fill(code)
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(f"**/center/requests/{request_id}?**")
    assert page.locator("#request-status").inner_text() == "本人確認済み"

    number = page.locator(".request-number").inner_text()
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", number)
    staff, admin = _staff(browser, server)
    # The person reads the number out on the phone; the handler types it as heard, in
    # full-width digits without hyphens, and the queue shows that request alone.
    admin.goto(f"{server.url}/admin/requests?lang=ja")
    heard = "".join(chr(ord(c) + 0xFEE0) for c in number.replace("-", ""))
    admin.get_by_label("受付番号・メールアドレスで検索").fill(heard)
    admin.get_by_role("button", name="絞り込む").click()
    assert admin.locator("table.request-queue tbody tr").count() == 1
    admin.get_by_role("link", name=number).click()
    assert "メールの確認コード" in admin.locator("#verified-by").inner_text()
    admin.get_by_role("button", name="対応を開始する").click()
    # a refusal without a reason is rejected, and nothing is decided
    admin.get_by_label("対応しないことと決定しました").check()
    admin.get_by_role("button", name="通知内容を確認する").click()
    assert admin.locator("#decision-error").is_visible()
    assert admin.locator("#request-status").inner_text() == "対応中"
    # approve
    admin.get_by_label("ご請求のとおり対応しました").check()
    admin.get_by_role("button", name="通知内容を確認する").click()
    # the notice as the person will read it, and the package they will download
    assert "ご請求への対応結果" in admin.locator("#notice-preview").inner_text()
    with admin.context.expect_page() as opened:
        admin.locator("#package-preview").click()
    preview = opened.value
    preview.wait_for_load_state()
    assert "山田 花子" in preview.content()
    preview.close()
    admin.get_by_role("button", name="この内容で決定し本人に通知する").click()
    assert admin.locator("#request-status").inner_text() == "通知済み"
    staff.close()

    runtime.mail.deliver_pending()
    smtp_server.wait_for(3, timeout=10)
    # the code, the receipt after verification, then the result
    assert "ご請求を受け付けました" in str(smtp_server.messages[1]["Subject"])
    assert "ご請求への対応結果" in str(smtp_server.messages[2]["Subject"])

    page.goto(f"{server.url}/center/requests/{request_id}?lang=ja")
    with page.expect_download() as download_info:
        page.locator("#download").click()
    raw = Path(download_info.value.path()).read_bytes()
    zf = zipfile.ZipFile(io.BytesIO(raw))
    data = json.loads(zf.read("package.json"))
    assert data["subject"]["id"] == subject
    values = {i["id"]: i["value"] for i in data["items"]}
    assert values["name"] == "山田 花子" and values["email"] == EMAIL
    assert data["sections"]["third_party_provisions"][0]["recipient"] == "株式会社ヨブナラ印刷"
    assert "株式会社ヨブナラ印刷" in zf.read("index.html").decode()

    # an expired download link is refused
    with db.write(runtime.engine) as conn:
        now = dt.datetime.now(dt.UTC)
        store.update(conn, request_id, now=now, download_until=now - dt.timedelta(minutes=1))
    response = page.goto(f"{server.url}/center/requests/{request_id}/package?lang=ja")
    assert response is not None and response.status == 410
    assert page.locator("#problem").get_attribute("data-problem") == "problem_download"
    person.close()


def test_a_sixth_wrong_code_is_locked_out(
    browser: Browser, server: LiveServer, smtp_server: SmtpServer
) -> None:
    # JavaScript on: axe runs in the page (the flow itself needs none).
    context = browser.new_context(locale="ja-JP", java_script_enabled=True)
    page = context.new_page()
    request_id = _file_disclosure(page, server.url)
    # Before the code, the page says the request is not received yet.
    assert "まだ受付は完了していません" in page.locator("#not-yet-received").inner_text()
    code = _code(server.runtime, smtp_server, 1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert page.locator("#code-tries").inner_text() == "あと 5 回入力できます。"
    for left in (4, 3, 2, 1):
        page.get_by_label("確認コード").fill(wrong)
        page.get_by_role("button", name="確認する").click()
        # The form stays, the mistake is said next to the field, with the tries left.
        assert "確認コードが正しくない" in page.locator("#code-error").inner_text()
        assert page.locator("#code").get_attribute("aria-invalid") == "true"
        assert page.locator("#code-tries").inner_text() == f"あと {left} 回入力できます。"
    _no_violations(page)
    page.screenshot(path=str(_shots() / "center-verify-wrong-code.png"), full_page=True)
    page.get_by_label("確認コード").fill(wrong)
    page.get_by_role("button", name="確認する").click()  # the fifth wrong code: no tries left
    assert page.get_by_role("button", name="確認する").count() == 0
    assert "使えなくなりました" in page.locator("#code-tries").inner_text()
    # No session was opened: the request's page is still closed to this browser.
    page.goto(f"{server.url}/center/requests/{request_id}?lang=ja")
    assert page.locator("#problem").get_attribute("data-problem") == "problem_session"
    # A new code brings the form back with five tries.
    page.goto(f"{server.url}/center/requests/{request_id}/verify?lang=ja")
    page.get_by_role("button", name="新しいコードを送る").click()
    assert page.locator("#code-tries").inner_text() == "あと 5 回入力できます。"
    page.get_by_label("確認コード").fill(_code(server.runtime, smtp_server, 2))
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(f"**/center/requests/{request_id}?**")
    assert page.locator("#request-status").inner_text() == "本人確認済み"
    # The receipt follows the verification, naming the request by its number.
    server.runtime.mail.deliver_pending()
    smtp_server.wait_for(3, timeout=10)
    receipt = smtp_server.messages[2]
    assert "ご請求を受け付けました" in str(receipt["Subject"])
    context.close()
