"""Rendering the published policy: golden files, determinism, escaping, order and optional parts.

Rewrite the golden files after an intended change with ``MAMORI_UPDATE_GOLDEN=1 pytest
tests/unit/policy/test_render.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest
from babel.messages.pofile import read_po
from pydantic import BaseModel

from mamori import i18n
from mamori.policy.document import md_escape
from mamori.policy.loader import load_policy
from mamori.policy.model import (
    ExternalService,
    Fee,
    Link,
    Organisation,
    Policy,
    Revision,
    SecurityGroup,
    SecurityMeasure,
    Text,
)
from mamori.policy.render import render_policy, render_policy_page
from tests.helpers.paths import ROOT

EXAMPLE = ROOT / "examples" / "kokochie" / "policy.yaml"
GOLDEN = Path(__file__).parent / "golden"

M = TypeVar("M", bound=BaseModel)

COMBINATIONS = [("ja", "html"), ("en", "html"), ("ja", "md"), ("en", "md")]

JA_HEADINGS = [
    "1. 個人情報の取得",
    "2. 利用目的",
    "3. 個人データの安全管理措置",
    "4. 個人情報の共同利用について",
    "5. 利用中止要請の方法",
    "6. Cookieについて",
    "7. YouTube API サービスの利用について",
    "8. 第三者提供",
    "9. 個人情報の開示",
    "10. 個人情報の訂正及び利用停止等",
    "11. 個人情報の管理",
    "12. プライバシーポリシーの変更手続き",
]
EN_HEADINGS = [
    "1. Collection of Personal Information",
    "2. Purposes of Use",
    "3. Security Control Measures for Personal Data",
    "4. Joint Use of Personal Information",
    "5. How to Ask Us to Stop Using Your Information",
    "6. Cookies",
    "7. Use of YouTube API Services",
    "8. Provision to Third Parties",
    "9. Disclosure of Personal Information",
    "10. Correction, Stop of Use and Other Requests",
    "11. Management of Personal Information",
    "12. Changes to This Privacy Policy",
]


@cache
def example() -> Policy:
    return load_policy(EXAMPLE)


def render(policy: Policy, lang: str, fmt: str, **kwargs: Any) -> str:
    return render_policy(policy, lang=lang, fmt=fmt, **kwargs)  # type: ignore[arg-type]


def replace(model: M, **changes: Any) -> M:
    """A copy of a frozen model with some fields changed (not validated again)."""
    return model.model_copy(update=changes)


class _Headings(HTMLParser):
    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag = tag
        self.found: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == self.tag:
            self._inside = True
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self.tag:
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.found[-1] += data


def headings(html: str, tag: str = "h2") -> list[str]:
    parser = _Headings(tag)
    parser.feed(html)
    return [" ".join(h.split()) for h in parser.found]


# Golden files and determinism.


@pytest.mark.parametrize(("lang", "fmt"), COMBINATIONS)
def test_matches_the_golden_file(lang: str, fmt: str) -> None:
    out = render(example(), lang, fmt)
    path = GOLDEN / f"kokochie.{lang}.{fmt}"
    if os.environ.get("MAMORI_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(out, encoding="utf-8", newline="\n")
    assert path.is_file(), f"{path} is missing: run with MAMORI_UPDATE_GOLDEN=1 to write it"
    assert out == path.read_text(encoding="utf-8"), (
        f"the rendering differs from {path.name}; if the change is intended, rewrite the golden "
        "files with MAMORI_UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize(("lang", "fmt"), COMBINATIONS)
def test_rendering_is_deterministic(lang: str, fmt: str) -> None:
    policy = example()
    rebuilt = Policy.model_validate(policy.model_dump(by_alias=True))
    first = render(policy, lang, fmt, version=2).encode()
    assert render(policy, lang, fmt, version=2).encode() == first
    assert render(rebuilt, lang, fmt, version=2).encode() == first


def test_the_page_is_deterministic() -> None:
    policy = example()
    assert render_policy_page(policy, lang="ja") == render_policy_page(policy, lang="ja")


# Order and numbering.


def test_sections_come_in_the_seeds_order_with_its_numbers() -> None:
    policy = example()
    assert headings(render(policy, "ja", "html")) == JA_HEADINGS
    assert headings(render(policy, "en", "html")) == EN_HEADINGS
    md = render(policy, "ja", "md")
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == JA_HEADINGS


def test_entries_use_the_seeds_numbering() -> None:
    html = render(example(), "ja", "html")
    marketing = "マーケティングデータの調査、統計、分析のため"
    assert f'<span class="mamori-num">(3)</span> {marketing}</h3>' in html
    assert '<span class="mamori-num">⑦</span> 上記の利用目的に付随する利用目的のため' in html
    en = render(example(), "en", "md")
    assert "- (vii) For purposes incidental to the purposes above" in en


def test_purposes_stated_in_the_collection_section_are_not_listed_again() -> None:
    html = render(example(), "ja", "html")
    assert "提携会社、協力会社、株主など当社の事業運営に必要な方々との連絡のため<" not in html


def test_optional_sections_are_left_out_and_the_rest_renumbered() -> None:
    policy = replace(example(), joint_use=[], external_services=[])
    found = headings(render(policy, "ja", "html"))
    assert found[3] == "4. 利用中止要請の方法"
    assert found[5] == "6. 第三者提供"
    assert len(found) == 10
    assert "## 10. プライバシーポリシーの変更手続き" in render(policy, "ja", "md")


def test_several_external_services_get_a_heading_each() -> None:
    policy = example()
    youtube = policy.external_services[0]
    maps = ExternalService(
        id="maps",
        name="Google Maps Platform",
        provider=youtube.provider,
        text=Text(ja="地図を表示します。", en="We show maps."),
        links=[Link(label=Text(ja="利用規約", en="Terms"), url="https://maps.example.com/terms")],
    )
    html = render(replace(policy, external_services=[youtube, maps]), "ja", "html")
    assert "7. 外部サービスの利用について" in headings(html)
    section = html.split('id="mamori-policy-external-services"')[1].split("<section id=")[0]
    assert headings(section, "h3") == ["YouTube API サービスの利用について", "Google Maps Platform"]
    assert '利用規約(<a href="https://maps.example.com/terms">' in section


# What APPI 法32 asks a published policy to hold, shown only when declared.


def test_the_request_procedure_is_shown_in_the_requests_section() -> None:
    html = render(example(), "ja", "html")
    section = html.split('id="mamori-policy-correction"')[1].split("</section>\n</section>")[0]
    assert "開示等のご請求の手続き" in section
    assert "当社所定の方法により確認いたします。" in section


def test_a_declared_fee_and_accredited_organisation_are_shown() -> None:
    policy = example()
    assert "手数料" not in render(policy, "ja", "html")
    assert "認定個人情報保護団体" not in render(policy, "ja", "html")
    requests = replace(policy.requests, disclosure_fee=Fee(amount=1000))
    accredited = Organisation(
        name=Text(ja="一般財団法人例協会", en="Example Association"),
        address=Text(ja="東京都千代田区1-1", en="1-1 Chiyoda, Tokyo"),
        url="https://association.example.jp/",
    )
    declared = replace(policy, requests=requests, accredited_organisation=accredited)
    ja = render(declared, "ja", "html")
    disclosure = ja.split('id="mamori-policy-disclosure"')[1].split("</section>")[0]
    assert "開示のご請求の手数料は、￥1,000です。" in disclosure
    management = ja.split('id="mamori-policy-management"')[1]
    assert "(3)</span> 認定個人情報保護団体" in management
    assert '<a href="https://association.example.jp/">' in management
    en = render(declared, "en", "md")
    assert "The fee for a disclosure request is ¥1,000." in en
    assert "### (3) Accredited personal information protection organization" in en
    free = replace(policy, requests=replace(policy.requests, disclosure_fee=Fee(amount=0)))
    assert "There is no fee for a disclosure request." in render(free, "en", "html")


def test_the_joint_use_names_the_responsible_party() -> None:
    md = render(example(), "ja", "md")
    assert "### (4) 共同利用の管理について責任を有する者" in md
    assert "- 代表者 :代表取締役 糸島求一" in md


def test_dates_and_version_are_formatted_per_language() -> None:
    policy = replace(
        example(), revisions=[Revision(date=dt.date(2025, 1, 9), label=Text(ja="制定", en="Made"))]
    )
    assert "<li>2025年1月9日 制定</li>" in render(policy, "ja", "html", version=4)
    assert "<p>第4版</p>" in render(policy, "ja", "html", version=4)
    assert "- January 9, 2025: Made" in render(policy, "en", "md", version=4)
    assert "Version 4" in render(policy, "en", "md", version=4)
    assert "Version" not in render(policy, "en", "md")


def test_security_groups_are_written_as_the_seed_writes_them() -> None:
    policy = example()
    measure = SecurityMeasure(
        text=Text(ja="外国の制度を把握。", en="Understanding foreign systems."),
        groups=[
            SecurityGroup.organisational,
            SecurityGroup.technical,
            SecurityGroup.foreign_environment,
        ],
    )
    security = replace(policy.security, measures=[measure])
    policy = replace(policy, security=security)
    ja = render(policy, "ja", "md")
    assert "外国の制度を把握。(組織的・技術的安全管理措置・外的環境の把握)" in ja
    assert (
        "Understanding foreign systems. (organizational and technical security control measures "
        "and understanding of the external environment)"
    ) in render(policy, "en", "md")


# The cookie table.


def test_opt_out_none_is_rendered_in_both_languages() -> None:
    policy = example()
    assert "<td>提供なし</td>" in render(policy, "ja", "html")
    assert "<td>None offered</td>" in render(policy, "en", "html")
    assert "| <https://www.fancs.com/btapolicy> | 提供なし |" in render(policy, "ja", "md")
    assert "| <https://www.fancs.com/btapolicy> | None offered |" in render(policy, "en", "md")


def test_the_cookie_table_is_a_real_table_with_links() -> None:
    html = render(example(), "ja", "html")
    cookies = html.split('id="mamori-policy-cookies"')[1].split('<section id="mamori-policy-')[0]
    assert "<table>" in cookies and cookies.count("<tr>") == 5
    assert '<th scope="row">Google 広告</th>' in html
    assert (
        '<a href="https://policies.google.com/privacy?hl=ja&amp;gl=es">'
        "https://policies.google.com/privacy?hl=ja&amp;gl=es</a>"
    ) in html
    md = render(example(), "en", "md")
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert rows[0] == "| Service | Provider | Purpose | Privacy policy | Opt-out |"
    assert rows[1] == "| --- | --- | --- | --- | --- |"
    assert rows[3].startswith("| A8.net | FAN Communications, Inc. |")


# Escaping: declared text never becomes markup.

EVIL = '<script>alert("x")</script>'
EVIL_URL = 'https://evil.example.com/"onmouseover="alert(1)'


def _evil_policy() -> Policy:
    policy = example()
    lines = [replace(policy.business_lines[0], label=Text(ja=EVIL, en=EVIL))]
    service = policy.cookies.services[0]
    service = replace(
        service,
        name="A|B **bold** [x](javascript:alert(1))",
        provider=replace(service.provider, name=Text(ja="<img src=x>", en="<img src=x>")),
        opt_out=EVIL_URL,
    )
    cookies = replace(policy.cookies, services=[service, *policy.cookies.services[1:]])
    return replace(policy, business_lines=lines, cookies=cookies)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_html_escapes_declared_text(lang: Literal["ja", "en"]) -> None:
    policy = _evil_policy()
    for html in (render(policy, lang, "html"), render_policy_page(policy, lang=lang)):
        assert "<script>" not in html
        assert "<img" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        assert 'onmouseover="' not in html
        assert 'href="https://evil.example.com/&#34;onmouseover=&#34;alert(1)"' in html


def test_markdown_escapes_declared_text() -> None:
    md = render(_evil_policy(), "ja", "md")
    assert '\\<script\\>alert("x")\\</script\\>' in md
    assert "| A\\|B \\*\\*bold\\*\\* \\[x\\](javascript:alert(1)) | \\<img src=x\\> |" in md
    assert '| <https://evil.example.com/"onmouseover="alert(1)> |' in md
    cookies = md.split("ツール提供者")[1].split("\n\n")[0]
    for row in (line for line in cookies.splitlines() if line.startswith("|")):
        assert len(re.findall(r"(?<!\\)\|", row)) == 6


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("1. 最初", "1\\. 最初"),
        ("# 見出し", "\\# 見出し"),
        ("- 項目", "\\- 項目"),
        ("a_b*c`d~e", "a\\_b\\*c\\`d\\~e"),
        ("&amp; &copy", "\\&amp; &copy"),
        ("行1\n行2", "行1 行2"),
        ("2022年7月1日", "2022年7月1日"),
    ],
)
def test_markdown_escape(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


# The standalone page.


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_page_is_a_standalone_document(lang: Literal["ja", "en"]) -> None:
    page = render_policy_page(example(), lang=lang, version=1)
    assert page.startswith("<!DOCTYPE html>\n")
    assert f'<html lang="{lang}">' in page
    assert '<meta charset="utf-8">' in page
    operator = "株式会社ココチエ" if lang == "ja" else "Kokochie Co., Ltd."
    assert f"<title>Privacy Policy | {operator}</title>" in page
    assert "<style>" in page
    head = page.split("</head>")[0]
    assert not re.search(r"<(link|script|img|iframe)\b|@import|url\(", page)
    assert "http" not in head
    assert render_policy(example(), lang=lang, fmt="html", version=1).strip() in page


# Arguments and strings.


def test_unknown_language_or_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        render(example(), "fr", "html")
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render(example(), "ja", "pdf")


def _policy_strings(lang: i18n.Lang) -> set[str]:
    with i18n.catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    return {m.id for m in catalog if isinstance(m.id, str) and m.id.startswith("policy.")}


def test_both_languages_define_the_same_strings() -> None:
    strings = {lang: _policy_strings(lang) for lang in i18n.LANGUAGES}
    assert set(strings) == {"ja", "en"}
    assert strings["ja"] and set(strings["ja"]) == set(strings["en"])
