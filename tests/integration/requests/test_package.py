"""The disclosure package: every item, purposes, source, stops, sections and events, zipped."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import Connection

from mamori.app import BUILT_IN, Runtime
from mamori.requests import package
from mamori.vault.events import add_events
from mamori.vault.restrictions import set_stops
from tests.helpers.requests import HOST, person
from tests.helpers.runtime import open_test_runtime


def _ledger(conn: Connection, subject_id: str) -> Iterable[Mapping[str, object]]:
    yield {"recipient": "株式会社テスト", "items": ["email"], "provided_at": "2026-01-05"}


@pytest.fixture
def provisioned(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    """A runtime whose parts include a provision ledger's section."""
    parts = BUILT_IN.with_sections(package.Section(package.PROVISIONS, _ledger))
    runtime = open_test_runtime(tmp_path, database_url, parts=parts)
    yield runtime
    runtime.close()


def _build(runtime: Runtime, subject: str, lang: str = "ja") -> zipfile.ZipFile:
    out = io.BytesIO()
    package.build(runtime, subject, out, language=lang)
    out.seek(0)
    return zipfile.ZipFile(out)


def test_the_package_holds_everything(provisioned: Runtime) -> None:
    runtime = provisioned
    subject = person(runtime, phone="090-1234-5678")
    set_stops(runtime.vault, HOST, subject, stopped_items=["phone"], stopped_purposes=[])
    add_events(
        runtime.vault,
        HOST,
        subject,
        [
            {"occurred_at": "2026-01-05T10:00:00Z", "action": "login", "ip_address": "192.0.2.1"},
            {"occurred_at": "2026-01-06T10:00:00Z", "action": "login"},
            {"occurred_at": "2026-02-01T10:00:00Z", "action": "send"},
        ],
    )
    zf = _build(runtime, subject)
    assert set(zf.namelist()) >= {
        "package.json",
        "items.csv",
        "events.csv",
        "events_summary.csv",
        "index.html",
        "sections/third_party_provisions.csv",
    }
    data = json.loads(zf.read("package.json"))
    items = {i["id"]: i for i in data["items"]}
    assert items["email"]["value"] == "hanako@example.jp"
    assert items["name"]["value"] == "山田 花子"
    assert items["email"]["source"] == "provided"
    assert items["email"]["collected_at"]
    assert "service_operation" in items["email"]["purposes"]
    assert data["usage_stops"]["items"] == ["phone"]
    assert data["usage_events"]["total"] == 3
    assert {"action": "login", "month": "2026-01", "count": 2} in data["usage_events"]["by_month"]
    assert data["sections"]["third_party_provisions"][0]["recipient"] == "株式会社テスト"
    rows = list(csv.DictReader(io.StringIO(zf.read("items.csv").decode("utf-8-sig"))))
    assert {r["項目"] for r in rows} == {"氏名", "メールアドレス", "電話番号"}
    email_row = next(r for r in rows if r["項目"] == "メールアドレス")
    # a time in a CSV cell is the operator's local time to the minute, not a JSON string
    assert email_row["取得日時"].endswith(" JST") and not email_row["取得日時"].startswith('"')
    events = list(csv.DictReader(io.StringIO(zf.read("events.csv").decode("utf-8-sig"))))
    assert events[0]["IPアドレス"] == "192.0.2.1"
    assert events[0]["日時"] == "2026-01-05 19:00 JST"
    html = zf.read("index.html").decode()
    assert "山田 花子" in html and "株式会社テスト" in html and "第三者提供の記録" in html
    assert "保有していません" not in html
    # people read labels, not ids: the source, the stopped item, the section titles
    assert "ご本人からご提供" in html and ">provided<" not in html
    assert "停止中の項目: 電話番号" in html


def test_every_section_has_a_title_for_people() -> None:
    from mamori.requests import labels

    assert set(package.ordered_sections(BUILT_IN.sections)) <= set(labels.SECTIONS)


def test_a_person_with_nothing_held_gets_the_no_data_notice(runtime: Runtime) -> None:
    subject = runtime.vault.create_subject(HOST, type="customer")
    zf = _build(runtime, subject, "en")
    html = zf.read("index.html").decode()
    assert "We hold no personal data about you." in html
    assert json.loads(zf.read("package.json"))["items"] == []


def test_the_package_is_html_escaped(runtime: Runtime) -> None:
    subject = person(runtime, address="<script>alert(1)</script>")
    html = _build(runtime, subject).read("index.html").decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
