"""The disclosure package as a person opens it: the zip extracted, its index.html in Chromium.
It reads as Japanese, the stored image loads from its file in the zip, axe finds nothing, and a
screenshot goes to /tmp/package.png."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, expect

from mamori.app import BUILT_IN, Runtime
from mamori.requests import package
from mamori.store.db import Connection
from mamori.vault.events import add_events
from tests.helpers.package import person_with_documents
from tests.helpers.requests import HOST
from tests.helpers.runtime import open_test_runtime

SCREENSHOT = Path("/tmp/package.png")


def _records(conn: Connection, subject_id: str) -> Iterable[Mapping[str, object]]:
    """One provision record, as the provision ledger's section gives it."""
    yield {
        "provided_at": dt.datetime(2026, 1, 5, 1, 30, tzinfo=dt.UTC),
        "recipient": "google",
        "items": "cookie_id,usage_history",
        "purpose": "advertising",
        "basis": "consent",
    }


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    parts = BUILT_IN.with_sections(package.Section(package.PROVISIONS, _records))
    opened = open_test_runtime(tmp_path, database_url, parts=parts)
    yield opened
    opened.close()


def test_the_package_opens_as_readable_japanese_with_the_image_as_a_file(
    runtime: Runtime, browser: Browser, tmp_path: Path
) -> None:
    subject = person_with_documents(runtime)
    add_events(
        runtime.vault,
        HOST,
        subject,
        [
            {"occurred_at": "2026-01-05T10:00:00Z", "action": "invitation.create"},
            {"occurred_at": "2026-02-01T10:00:00Z", "action": "login"},
        ],
    )
    out = io.BytesIO()
    package.build(runtime, subject, out, language="ja")
    folder = tmp_path / "package"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(folder)
    assert (folder / "files" / "本人確認書類_1.png").is_file()

    context = browser.new_context(locale="ja-JP")  # axe runs as a script
    page = context.new_page()
    page.goto((folder / "index.html").as_uri())
    expect(page.get_by_role("heading", level=1)).to_have_text("保有個人データの開示")
    for heading in ("保有している項目", "利用履歴の概要", "共同利用", "お問い合わせ窓口"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    items = page.locator("#items-heading + table")
    expect(items.get_by_role("rowheader", name="メールアドレス")).to_be_visible()
    expect(items).to_contain_text("ご本人からご提供")
    expect(page.get_by_role("cell", name="招待状の作成")).to_be_visible()
    expect(page.get_by_text("利用を停止している項目はありません。")).to_be_visible()
    records = page.locator("#section-third_party_provisions + table")
    expect(records.get_by_role("columnheader", name="提供先", exact=True)).to_be_visible()
    expect(records).to_contain_text("2026-01-05 10:30 JST")
    expect(records).to_contain_text("Google LLC")
    expect(records).to_contain_text("本人の同意")
    expect(records).to_contain_text("クッキー、サービス利用履歴")
    image = page.get_by_role("img", name="本人確認書類")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 48
    expect(page.get_by_role("link", name="PDF を開く (files/コンテンツ_1.pdf)")).to_be_visible()
    assert "none" not in page.locator("body").inner_text().lower()

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    context.close()
