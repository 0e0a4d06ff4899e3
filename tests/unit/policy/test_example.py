"""The worked example (株式会社ココチエ) is valid and its rendering says everything the seed says.

The seed is the company's published privacy policy (<repo>/../shared/seed/privacy-policy.txt).
The Japanese HTML rendering of examples/kokochie/policy.yaml must carry every heading, paragraph
(so every sentence), list entry with its number, table row, URL and date of it, in the seed's
order: a fact dropped or changed in the declaration fails this test. Each line of the seed must be
one block of the rendering (a heading, paragraph, list entry or table row) word for word, after
NFKC and whitespace normalisation on both sides (which turns ① into 1).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser

import pytest

from mamori.policy.loader import load_policy
from mamori.policy.model import CookieService, Policy, PurposeGroup
from mamori.policy.render import render_policy
from tests.helpers.paths import ROOT

EXAMPLE = ROOT / "examples" / "kokochie" / "policy.yaml"
# The seed as published by 株式会社ココチエ, kept beside the example so this test always runs;
# test_the_seed_copy_is_current compares it with the shared original when that is present.
SEED = ROOT / "examples" / "kokochie" / "seed-privacy-policy.txt"
SHARED_SEED = ROOT / ".." / "shared" / "seed" / "privacy-policy.txt"

# The site's footer after §12 is not part of the policy.
FOOTER = frozenset({"お仕事、お見積り、取材のご依頼など", "CONTACT US"})
BLOCK_TAGS = frozenset(
    {"article", "section", "div", "p", "ul", "ol", "li", "table", "thead", "tbody", "tr", "br"}
    | {"th", "td", "h1", "h2", "h3", "h4", "h5", "h6"}
)
URL = re.compile(r"https?://[^\s|()]+")
DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


@dataclass
class Seed:
    blocks: list[str] = field(default_factory=list)
    """Headings, paragraphs and list entries, numbering included (① ..., (1) ...)."""
    rows: list[tuple[str, ...]] = field(default_factory=list)
    """The cookie table, header row first."""
    urls: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)


def parse_seed(text: str) -> Seed:
    seed = Seed()
    lines = [line.strip() for line in text.splitlines()]
    for line in lines:
        if not line or line in FOOTER:
            continue
        if line.endswith("|"):
            cells = tuple(normalise(cell) for cell in line.rstrip("|").split("|"))
            if not all(set(cell) <= {"-", ":"} for cell in cells):
                seed.rows.append(cells)
            continue
        # The seed flattens "- ②" onto the end of the line before it in §1 (3).
        for part in re.split(r"\s+-\s+(?=[①-⑳])", line):
            seed.blocks.append(normalise(part.removeprefix("- ")))
    seed.urls = URL.findall(text)
    seed.dates = DATE.findall(text)
    return seed


class _Extractor(HTMLParser):
    """Plain text (blocks on lines of their own), table rows and link targets of HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[str] = []
        self.rows: list[tuple[str, ...]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append("\n")
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(normalise("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(tuple(self._row))
            self._row = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def lines(self) -> list[str]:
        return [normalise(line) for line in "".join(self.parts).split("\n") if line.strip()]


def extract(html: str) -> _Extractor:
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    return parser


def _missing_in_order(blocks: list[str], lines: list[str]) -> list[str]:
    """The blocks that are not lines of the rendering, in order (other lines may come between)."""
    missing, at = [], 0
    for block in blocks:
        try:
            at = lines.index(block, at) + 1
        except ValueError:
            missing.append(block)
    return missing


def missing_facts(seed: Seed, html: str) -> list[str]:
    """Every fact of the seed that the rendered HTML does not carry."""
    page = extract(html)
    text = "\n".join(page.lines)
    missing = [f"text: {block}" for block in _missing_in_order(seed.blocks, page.lines)]
    missing += [f"table row: {' | '.join(row)}" for row in seed.rows if row not in page.rows]
    missing += [f"link: {url}" for url in seed.urls if url not in page.hrefs]
    missing += [f"url text: {url}" for url in seed.urls if url not in text]
    missing += [f"date: {date}" for date in seed.dates if normalise(date) not in text]
    return missing


@cache
def example() -> Policy:
    return load_policy(EXAMPLE)


@cache
def seed() -> Seed:
    return parse_seed(SEED.read_text(encoding="utf-8"))


def japanese(policy: Policy) -> str:
    return render_policy(policy, lang="ja", fmt="html")


def test_the_seed_copy_is_current() -> None:
    if not SHARED_SEED.is_file():
        pytest.skip("no shared seed beside the repository to compare the copy with")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_the_example_loads_and_validates() -> None:
    policy = example()
    assert policy.id == "kokochie"
    assert policy.operator.name.ja == "株式会社ココチエ"


def test_the_seed_parser_finds_every_kind_of_fact() -> None:
    found = seed()
    assert "1 個人情報" in found.blocks  # ① normalised by NFKC, split from the flattened line
    assert "2 個人に関する利用者情報" in found.blocks
    assert "名称 :株式会社ココチエ" in found.blocks
    assert "2022年7月1日 改定" in found.blocks
    assert len(found.rows) == 5 and found.rows[2][-1] == "提供なし"
    assert len(found.urls) == 10
    assert found.dates == ["2022年7月1日", "2023年7月12日", "2024年6月18日", "2024年10月29日"]
    assert not any("CONTACT US" in block for block in found.blocks)


def test_the_japanese_rendering_carries_every_fact_of_the_seed() -> None:
    missing = missing_facts(seed(), japanese(example()))
    assert not missing, "the rendering drops facts of the seed:\n" + "\n".join(missing)


def _with_service(policy: Policy, service_id: str, **changes: object) -> Policy:
    services = [
        s.model_copy(update=changes) if s.id == service_id else s for s in policy.cookies.services
    ]
    return policy.model_copy(
        update={"cookies": policy.cookies.model_copy(update={"services": services})}
    )


def test_a_dropped_cookie_link_is_caught() -> None:
    broken = _with_service(example(), "a8net", privacy_policy_url="https://www.fancs.com/")
    missing = missing_facts(seed(), japanese(broken))
    assert "link: https://www.fancs.com/btapolicy" in missing
    assert any(m.startswith("table row: A8.net") for m in missing)


def test_a_dropped_opt_out_link_is_caught() -> None:
    broken = _with_service(example(), "youtube", opt_out="none")
    missing = missing_facts(seed(), japanese(broken))
    assert "link: https://myadcenter.google.com/home?sasb=true" in missing


def test_a_dropped_cookie_row_is_caught() -> None:
    policy = example()
    services = [s for s in policy.cookies.services if s.id != "google_ads"]
    broken = policy.model_copy(
        update={"cookies": policy.cookies.model_copy(update={"services": services})}
    )
    missing = missing_facts(seed(), japanese(broken))
    assert any(m.startswith("table row: Google 広告") for m in missing)
    assert "link: https://myadcenter.google.com/" in missing


def test_a_dropped_list_entry_is_caught() -> None:
    policy = example()
    purposes = [p for p in policy.purposes if p.id != "shipping"]
    missing = missing_facts(seed(), japanese(policy.model_copy(update={"purposes": purposes})))
    assert "text: 3 商品等や景品等を手配または発送するため" in missing
    # the entries after it are renumbered, so they are missing as the seed numbers them too
    assert "text: 7 上記の利用目的に付随する利用目的のため" in missing


def test_a_dropped_exception_revision_or_measure_group_is_caught() -> None:
    policy = example()
    provision = policy.third_party_provision
    exceptions = [e for e in provision.exceptions if e.kind != "public_authority"]
    broken = policy.model_copy(
        update={
            "third_party_provision": provision.model_copy(update={"exceptions": exceptions}),
            "revisions": policy.revisions[1:],
        }
    )
    missing = missing_facts(seed(), japanese(broken))
    assert any("国の機関もしくは地方公共団体" in m for m in missing)
    assert "date: 2022年7月1日" in missing

    measures = list(policy.security.measures)
    measures[1] = measures[1].model_copy(update={"groups": []})
    security = policy.security.model_copy(update={"measures": measures})
    missing = missing_facts(seed(), japanese(policy.model_copy(update={"security": security})))
    assert any("(人的・物理的・技術的安全管理措置)" in m for m in missing)


def test_a_changed_word_is_caught() -> None:
    policy = example()
    fixed = policy.security.basic_policy.model_copy(
        update={"ja": policy.security.basic_policy.ja.replace("減失", "滅失")}
    )
    security = policy.security.model_copy(update={"basic_policy": fixed})
    missing = missing_facts(seed(), japanese(policy.model_copy(update={"security": security})))
    assert any("減失" in m for m in missing)


def test_the_english_rendering_has_the_operator_links_and_dates() -> None:
    policy = example()
    html = render_policy(policy, lang="en", fmt="html")
    page = extract(html)
    text = "\n".join(page.lines)
    assert "Name: Kokochie Co., Ltd." in text
    assert "Representative: Representative Director, Kyuichi Itoshima" in text
    for service in policy.cookies.services:
        assert service.privacy_policy_url in page.hrefs
        if service.opt_out != "none":
            assert service.opt_out in page.hrefs
    assert "None offered" in text
    for date in ("July 1, 2022", "July 12, 2023", "June 18, 2024", "October 29, 2024"):
        assert date in text
    assert "https://kokochie.co.jp/contact/" in page.hrefs
    assert "https://www.youtube.com/t/terms" in page.hrefs


# What the example declares beyond the seed's words: the flags and purposes the mechanisms use.


def test_every_item_is_collected_in_section_1_and_used_for_a_purpose() -> None:
    policy = example()
    collected = {i for g in policy.collection.groups for e in g.entries for i in e.items}
    used = {i for p in policy.purposes for i in p.items}
    ids = {item.id for item in policy.items}
    assert collected == ids
    assert used == ids


def test_the_flags_are_set_for_what_the_seed_names() -> None:
    policy = example()
    assert [i.id for i in policy.items if i.identifier_code] == ["identity_document"]
    assert not [i.id for i in policy.items if i.sensitive or i.financial_risk]
    assert {i.id for i in policy.items if i.source == "linked_service"} == {
        "linked_service_id",
        "linked_service_info",
    }
    partners = {i.id for i in policy.items if "business_contact" in i.subjects}
    assert partners == {"contact_name", "contact_address", "contact_phone", "contact_email"}


def test_the_purposes_use_only_what_they_need() -> None:
    policy = example()
    statistics = policy.purpose("statistics")
    assert statistics.statistics_only
    assert statistics.group is PurposeGroup.marketing_statistics
    advertising = set(policy.purpose("advertising").items)
    assert {"advertising_id", "cookie_id", "device_id", "usage_history"} <= advertising
    assert not advertising & {"identity_document", "name", "email", "address", "phone"}
    uses_document = {p.id for p in policy.purposes if "identity_document" in p.items}
    assert uses_document == {"service_operation"}
    assert [p.id for p in policy.purposes if p.stated_in == "collection"] == [
        "business_communication"
    ]


def test_cookie_categories_map_to_consent_mode() -> None:
    policy = example()
    modes = {c.id: set(c.consent_mode) for c in policy.cookies.categories}
    assert modes["analytics"] == {"analytics_storage"}
    assert modes["advertising"] == {"ad_storage", "ad_user_data", "ad_personalization"}
    assert [c.id for c in policy.cookies.categories if c.required] == ["necessary"]
    by_id: dict[str, CookieService] = {s.id: s for s in policy.cookies.services}
    assert by_id["google_analytics"].category == "analytics"
    assert by_id["a8net"].opt_out == "none"
    assert by_id["google_analytics"].provider.country == "US"
    assert by_id["a8net"].provider.country == "JP"


def test_joint_use_names_the_operator_as_responsible() -> None:
    policy = example()
    (joint,) = policy.joint_use
    assert joint.responsible.name == policy.operator.name
    assert joint.responsible.address == policy.operator.address
    assert joint.responsible.representative is not None
    assert joint.responsible.representative.ja == "代表取締役 糸島求一"


def test_advertising_keeps_its_group_and_is_listed_under_marketing_as_in_the_seed() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.purpose("advertising").group is PurposeGroup.advertising
    text = render_policy(policy, lang="ja", fmt="md")
    marketing = text.index("マーケティングデータの調査、統計、分析のため")
    assert marketing < text.index("当社又は第三者の広告の配信、効果測定のため")
    assert text.index("当社又は第三者の広告の配信") < text.index(
        "サービスの販売・利用促進に利用するため"
    )
