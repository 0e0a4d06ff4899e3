"""The disclosure package as a person reads it: their language, words instead of codes,
documents as files, no empty sections, and what the policy says about joint use, recipients,
retention and the contact desk."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import zipfile
from urllib.parse import unquote

import pytest

from mamori.app import Runtime
from mamori.requests import package
from mamori.vault.events import add_events
from tests.helpers.package import PDF, person_with_documents, png
from tests.helpers.requests import HOST

EVENTS = [
    {"occurred_at": "2026-01-05T10:00:00Z", "action": "invitation.create"},
    {"occurred_at": "2026-01-06T10:00:00Z", "action": "photo.upload", "ip_address": "192.0.2.7"},
]


def _build(runtime: Runtime, subject: str, lang: str) -> zipfile.ZipFile:
    out = io.BytesIO()
    package.build(runtime, subject, out, language=lang)
    out.seek(0)
    return zipfile.ZipFile(out)


def _csv(zf: zipfile.ZipFile, name: str) -> tuple[bytes, list[dict[str, str]]]:
    raw = zf.read(name)
    return raw, list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def _japanese(runtime: Runtime) -> tuple[zipfile.ZipFile, str]:
    subject = person_with_documents(runtime)
    add_events(runtime.vault, HOST, subject, EVENTS)
    zf = _build(runtime, subject, "ja")
    return zf, zf.read("index.html").decode()


def test_the_csvs_are_japanese_words_with_a_bom(runtime: Runtime) -> None:
    zf, _ = _japanese(runtime)
    raw, items = _csv(zf, "items.csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 Japanese only with the BOM
    assert list(items[0]) == [
        "項目",
        "内容",
        "取得元",
        "取得日時",
        "更新日時",
        "利用目的",
        "保存期間",
    ]
    by_label = {r["項目"]: r for r in items}
    assert by_label["メールアドレス"]["内容"] == "hanako@example.jp"
    assert by_label["メールアドレス"]["取得元"] == "ご本人からご提供"
    purposes = by_label["メールアドレス"]["利用目的"].split("\n")  # one a line
    assert purposes[0].startswith("当社サービスに関する登録の受付") and len(purposes) > 1
    assert by_label["本人確認書類"]["保存期間"] == "取得から30日間"
    assert by_label["氏名"]["保存期間"] == "退会まで"
    raw, events = _csv(zf, "events.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    assert [e["操作"] for e in events] == ["招待状の作成", "photo upload"]
    assert events[0]["日時"] == "2026-01-05 19:00 JST"
    assert events[1]["IPアドレス"] == "192.0.2.7"
    _, summary = _csv(zf, "events_summary.csv")
    assert {(s["年月"], s["操作"], s["件数"]) for s in summary} == {
        ("2026-01", "招待状の作成", "1"),
        ("2026-01", "photo upload", "1"),
    }
    everything = "".join(
        zf.read(n).decode("utf-8-sig") for n in zf.namelist() if n.endswith(".csv")
    )
    # no codes where a label exists, no base64, never the word "none"
    for code in ("service_operation", "provided", "invitation.create", "identity_document"):
        assert code not in everything, code
    assert "iVBOR" not in everything  # the PNG's base64
    assert not re.search(r"\bnone\b", everything, re.IGNORECASE)


def test_documents_are_files_referenced_from_the_page(runtime: Runtime) -> None:
    zf, html = _japanese(runtime)
    assert zf.read("files/本人確認書類_1.png") == png()
    assert zf.read("files/コンテンツ_1.pdf") == PDF
    _, items = _csv(zf, "items.csv")
    by_label = {r["項目"]: r for r in items}
    assert by_label["本人確認書類"]["内容"] == "files/本人確認書類_1.png"
    images = re.findall(r'<img class="document" src="([^"]+)" alt="([^"]+)"', html)
    assert [(unquote(src), alt) for src, alt in images] == [
        ("files/本人確認書類_1.png", "本人確認書類")
    ]
    assert any(unquote(h) == "files/コンテンツ_1.pdf" for h in re.findall(r'href="([^"]+)"', html))
    assert "iVBOR" not in html
    assert "zip を展開してからこのページを開くと" in html  # where the files are, when there are
    data = json.loads(zf.read("package.json"))
    held = {i["id"]: i for i in data["items"]}
    # package.json stays for machines: codes and the value, with the file named beside it
    assert held["identity_document"]["file"] == "files/本人確認書類_1.png"
    assert held["identity_document"]["source"] == "provided"
    assert data["language"] == "ja"


def test_empty_sections_are_left_out_and_said_in_words(runtime: Runtime) -> None:
    zf, html = _japanese(runtime)
    assert not [n for n in zf.namelist() if n.startswith("sections/")]
    assert "記録はありません。" in html
    assert "利用を停止している項目はありません。" in html
    assert not re.search(r">\s*(none|なし)\s*<", html, re.IGNORECASE)


def test_the_page_tells_joint_use_recipients_retention_and_the_contact_desk(
    runtime: Runtime,
) -> None:
    _, html = _japanese(runtime)
    assert '<html lang="ja">' in html
    assert "共同利用" in html and "当社取引先である販売代理店、及びASP事業者等" in html
    assert "管理について責任を有する者" in html and "株式会社ココチエ" in html
    assert "第三者提供と提供先" in html and "委託先" in html
    assert '<ul class="exceptions"><li>' in html  # the cases the statement's 但し points to
    assert "利用履歴の保存期間: 取得から730日間" in html
    assert "株式会社ココチエ お問い合わせ窓口" in html
    assert 'href="https://kokochie.co.jp/contact/"' in html
    assert "招待状の作成" in html and "invitation.create" not in html
    assert '<th scope="col">項目</th>' in html


def test_a_request_in_english_gets_an_english_package(runtime: Runtime) -> None:
    subject = person_with_documents(runtime)
    add_events(runtime.vault, HOST, subject, EVENTS)
    zf = _build(runtime, subject, "en")
    _, items = _csv(zf, "items.csv")
    assert list(items[0])[:3] == ["Item", "Value", "Obtained from"]
    by_label = {r["Item"]: r for r in items}
    assert by_label["Email address"]["Obtained from"] == "Given by you"
    assert by_label["Identity document"]["Value"] == "files/Identity document_1.png"
    assert zf.read("files/Identity document_1.png") == png()
    _, events = _csv(zf, "events.csv")
    assert events[0]["Action"] == "Creating an invitation"
    html = zf.read("index.html").decode()
    assert '<html lang="en">' in html
    assert "Joint use" in html and "Kokochie Co., Ltd. Contact Desk" in html
    assert "No records." in html and "氏名" not in html


def test_events_stream_in_keyset_pages_oldest_first(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package, "EVENT_BATCH", 3)  # 7 events: pages of 3, 3 and 1
    subject = person_with_documents(runtime)
    add_events(
        runtime.vault,
        HOST,
        subject,
        [{"occurred_at": f"2026-01-0{d}T00:00:00Z", "action": "login"} for d in range(7, 0, -1)],
    )
    zf = _build(runtime, subject, "ja")
    _, events = _csv(zf, "events.csv")
    assert [e["日時"] for e in events] == [f"2026-01-0{d} 09:00 JST" for d in range(1, 8)]
    assert {e["操作"] for e in events} == {"ログイン"}


def test_the_staff_preview_shows_the_images_inline(runtime: Runtime) -> None:
    zf, _ = _japanese(runtime)
    page = package.preview_page(zf)
    assert f'src="data:image/png;base64,{base64.b64encode(png()).decode()}"' in page
    assert 'src="files/' not in page and "本人確認書類" in page


def test_the_summary_counts_months_in_the_operators_zone(runtime: Runtime) -> None:
    subject = person_with_documents(runtime)
    late = {"occurred_at": "2026-01-31T20:00:00Z", "action": "login"}  # 2026-02-01 05:00 JST
    add_events(runtime.vault, HOST, subject, [late])
    zf = _build(runtime, subject, "ja")
    _, summary = _csv(zf, "events_summary.csv")
    assert [(s["年月"], s["操作"]) for s in summary] == [("2026-02", "ログイン")]
    by_month = json.loads(zf.read("package.json"))["usage_events"]["by_month"]
    assert by_month == [{"action": "login", "month": "2026-02", "count": 1}]


@pytest.mark.parametrize(
    ("kind", "value"),
    [("url", "https://www.youtube.com/watch?v=mamori"), ("text", "ふたりの思い出の写真集")],
)
def test_content_of_another_kind_reads_as_its_value(
    runtime: Runtime, kind: str, value: str
) -> None:
    """``content`` holds text, a link or a document: a person reads the value, not its kind."""
    from tests.helpers.requests import person

    subject = person(runtime, content={"kind": kind, "value": value})
    zf = _build(runtime, subject, "ja")
    _, items = _csv(zf, "items.csv")
    row = next(r for r in items if r["項目"] == "コンテンツ")
    assert row["内容"] == value
    assert value in zf.read("index.html").decode()
    assert not any(name.startswith("files/") for name in zf.namelist())
