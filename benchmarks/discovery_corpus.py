# ruff: noqa: E501  (tables of sample data: one entry a line reads better than wrapped)
"""The labelled corpus that discovery's precision and recall are measured on.

``corpus(seed)`` builds, deterministically from ``seed``, realistic values of every kind that
discovery recognises (positives) and values that look like them but are not personal data
(hard negatives: order numbers, timestamps, ISBNs and JAN codes, parcel tracking numbers,
prices, zip-like product codes, toll-free numbers, recent order dates, company and place
names, handles), each with the column name it would sit in. Half of the positives sit in a
column whose name says what it holds (``email``, ``生年月日``) and half in a neutral one
(``value``, ``col_3``), so that the figures show what the values alone are worth.

Values are written the ways people type them: with and without hyphens, spaces, brackets and
〒, with full-width digits and letters (全角), with 和暦 dates, with the katakana long mark
``ー`` for a hyphen. Check digits are computed with python-stdnum (My Number, corporate
numbers) and Luhn (cards), so every positive is valid; phone numbers are drawn from real
number ranges and kept only when phonenumbers says the number is a valid Japanese one.
Nothing in it is a real person's data: names are common surnames and given names combined at
random, and numbers are random.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.jp import cn, in_

from mamori.datasets.discovery.kinds import Kind

__all__ = ["TODAY", "Sample", "columns", "corpus", "negatives", "positive"]

TODAY = dt.date(2026, 12, 1)
"""The day ages are counted from (fixed, so that the corpus and its figures are too)."""


@dataclass(frozen=True, slots=True)
class Sample:
    value: str
    kind: Kind | None
    """``None``: a hard negative."""
    column: str
    source: str
    """What generated it (``email``, ``negative:isbn``): for reading the errors."""


_FULL = str.maketrans("0123456789-", "０１２３４５６７８９－")
_SURNAMES = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
    "山崎",
    "森",
    "池田",
    "橋本",
    "阿部",
    "石川",
    "前田",
    "藤田",
    "小川",
    "岡田",
]
_GIVEN = [
    "太郎",
    "花子",
    "大輔",
    "美咲",
    "翔太",
    "陽菜",
    "健一",
    "さくら",
    "直樹",
    "由美",
    "拓也",
    "愛",
    "浩二",
    "結衣",
    "誠",
    "真由美",
    "蓮",
    "葵",
    "和也",
    "恵子",
    "悠斗",
    "彩",
    "隆",
    "明美",
    "剛",
    "智子",
    "大和",
    "凛",
    "修",
    "裕子",
]
_ROMAN = [
    "sato",
    "suzuki",
    "takahashi",
    "tanaka",
    "ito",
    "watanabe",
    "yamamoto",
    "nakamura",
    "kobayashi",
    "kato",
    "yoshida",
    "yamada",
    "sasaki",
    "yamaguchi",
    "matsumoto",
    "inoue",
    "kimura",
    "hayashi",
]
_DOMAINS = [
    "gmail.com",
    "yahoo.co.jp",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "softbank.ne.jp",
    "icloud.com",
    "outlook.jp",
    "example.co.jp",
    "kokochie.co.jp",
    "nifty.com",
]
_MUNICIPALITIES = {
    "東京都": ["渋谷区", "新宿区", "世田谷区", "港区", "八王子市", "武蔵野市", "西多摩郡奥多摩町"],
    "大阪府": ["大阪市北区", "堺市堺区", "豊中市", "吹田市"],
    "神奈川県": ["横浜市中区", "川崎市中原区", "鎌倉市", "足柄下郡箱根町"],
    "北海道": ["札幌市中央区", "函館市", "虻田郡倶知安町"],
    "愛知県": ["名古屋市中村区", "豊田市", "岡崎市"],
    "福岡県": ["福岡市博多区", "北九州市小倉北区", "久留米市"],
    "京都府": ["京都市左京区", "宇治市"],
    "長野県": ["松本市", "北佐久郡軽井沢町"],
    "沖縄県": ["那覇市", "島尻郡渡嘉敷村"],
    "宮城県": ["仙台市青葉区", "石巻市"],
}
_TOWNS = ["神宮前", "本町", "栄", "中央", "旭町", "緑が丘", "桜木町", "青葉台", "東", "西新宿"]
_BUILDINGS = ["", "", " コーポ桜101", " グランドメゾン203号室", " ハイツ青葉2F"]
_HINTED = {
    Kind.email: ["email", "mail_address", "メールアドレス", "contact_email"],
    Kind.phone: ["phone", "tel", "mobile_phone", "電話番号"],
    Kind.postal_code: ["zip", "postal_code", "郵便番号"],
    Kind.address: ["address", "shipping_address", "住所"],
    Kind.person_name: ["name", "full_name", "氏名", "guest_name"],
    Kind.birth_date: ["birthday", "date_of_birth", "dob", "生年月日"],
    Kind.my_number: ["my_number", "個人番号"],
    Kind.corporate_number: ["corporate_number", "法人番号"],
    Kind.card_number: ["card_number", "cc_number"],
}
_NEUTRAL = ["value", "data", "col_3", "field2", "memo", "info"]


def _full(text: str, rng: random.Random) -> str:
    return text.translate(_FULL) if rng.random() < 0.15 else text


def _email(rng: random.Random) -> str:
    local = rng.choice(_ROMAN) + rng.choice(["", ".", "_", "-"]) + rng.choice(_ROMAN)[:4]
    local += str(rng.randint(1, 9999)) if rng.random() < 0.5 else ""
    if rng.random() < 0.1:
        local += "+yobunara"
    text = f"{local}@{rng.choice(_DOMAINS)}"
    if rng.random() < 0.1:
        text = text.upper()
    if rng.random() < 0.08:  # typed in full width: ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    return text


def _phone(rng: random.Random) -> str:
    while True:
        area, groups = rng.choice(
            [("090", (4, 4)), ("080", (4, 4)), ("070", (4, 4)), ("03", (4, 4)),
             ("06", (4, 4)), ("011", (3, 4)), ("045", (3, 4)), ("092", (3, 4)),
             ("0263", (2, 4)), ("050", (4, 4))]
        )  # fmt: skip
        parts = [area] + ["".join(str(rng.randint(0, 9)) for _ in range(n)) for n in groups]
        parts[1] = str(rng.randint(2, 9)) + parts[1][1:]
        if phonenumbers.is_valid_number(phonenumbers.parse("".join(parts), "JP")):
            break
    style = rng.random()
    if style < 0.45:
        text = "-".join(parts)
    elif style < 0.65:
        text = "".join(parts)
    elif style < 0.75:
        text = f"({parts[0]}){parts[1]}-{parts[2]}"
    elif style < 0.85:
        text = f"+81 {parts[0][1:]} {parts[1]} {parts[2]}"
    elif style < 0.92:
        text = "ー".join(parts)
    else:
        text = " ".join(parts)
    return _full(text, rng)


def _postal(rng: random.Random) -> str:
    code = f"{rng.randint(0, 999):03d}-{rng.randint(0, 9999):04d}"
    text = rng.choice([f"〒{code}", code, code.replace("-", ""), f"〒 {code}"])
    return _full(text, rng)


def _address(rng: random.Random) -> str:
    prefecture = rng.choice(sorted(_MUNICIPALITIES))
    block = rng.choice(
        [f"{rng.randint(1, 9)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}",
         f"{rng.randint(1, 9)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号",
         f"{rng.randint(1, 999)}番地"]
    )  # fmt: skip
    text = f"{prefecture}{rng.choice(_MUNICIPALITIES[prefecture])}{rng.choice(_TOWNS)}{block}"
    text += rng.choice(_BUILDINGS)
    if rng.random() < 0.15:
        text = f"〒{rng.randint(100, 999)}-{rng.randint(0, 9999):04d} {text}"
    return _full(text, rng)


def _name(rng: random.Random) -> str:
    surname, given = rng.choice(_SURNAMES), rng.choice(_GIVEN)
    return rng.choice([f"{surname} {given}", f"{surname}{given}", f"{surname}\u3000{given}"])


def _birth(rng: random.Random) -> str:
    day = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 70))
    style = rng.random()
    if style < 0.4:
        return day.isoformat()
    if style < 0.6:
        return f"{day.year}/{day.month:02d}/{day.day:02d}"
    if style < 0.8:
        return f"{day.year}年{day.month}月{day.day}日"
    era, base = ("平成", 1988) if day.year >= 1989 else ("昭和", 1925)
    return f"{era}{day.year - base}年{day.month}月{day.day}日"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def _my_number(rng: random.Random) -> str:
    body = _digits(rng, 11)
    number = body + in_.calc_check_digit(body)
    sep = rng.choice(["", "", " ", "-"])
    return _full(sep.join((number[:4], number[4:8], number[8:])), rng)


def _corporate(rng: random.Random) -> str:
    body = str(rng.randint(1, 9)) + _digits(rng, 11)
    return cn.calc_check_digit(body) + body


def _card(rng: random.Random) -> str:
    prefix, length = rng.choice(
        [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("3528", 16), ("3589", 16),
         ("34", 15), ("37", 15), ("36", 14), ("6011", 16), ("62", 16)]
    )  # fmt: skip
    body = prefix + _digits(rng, length - len(prefix) - 1)
    number = body + luhn.calc_check_digit(body)
    sep = rng.choice(["", " ", "-"])
    if length == 16:
        return sep.join(number[i : i + 4] for i in range(0, 16, 4))
    return sep.join((number[:4], number[4:10], number[10:])) if sep else number


_POSITIVE: dict[Kind, Callable[[random.Random], str]] = {
    Kind.email: _email,
    Kind.phone: _phone,
    Kind.postal_code: _postal,
    Kind.address: _address,
    Kind.person_name: _name,
    Kind.birth_date: _birth,
    Kind.my_number: _my_number,
    Kind.corporate_number: _corporate,
    Kind.card_number: _card,
}


def positive(kind: Kind, rng: random.Random) -> str:
    """One realistic value of ``kind``."""
    return _POSITIVE[kind](rng)


def _ean(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _recent(rng: random.Random) -> dt.datetime:
    return dt.datetime(2023, 1, 1) + dt.timedelta(seconds=rng.randint(0, 3 * 365 * 86400))


# Each hard negative: its column name and a generator.
_NEGATIVE: dict[str, tuple[str, Callable[[random.Random], str]]] = {
    "order_number": ("order_no", lambda r: f"ORD-{r.randint(2019, 2026)}-{r.randint(0, 999999):06d}"),
    "order_digits_12": ("order_id", lambda r: str(r.randint(10**11, 10**12 - 1))),
    "order_digits_16": ("payment_ref", lambda r: str(r.randint(10**15, 10**16 - 1))),
    "order_digits_10": ("invoice_no", lambda r: str(r.randint(10**9, 10**10 - 1))),
    "timestamp": ("created_at", lambda r: _recent(r).isoformat(sep=" ")),
    "timestamp_iso": ("updated_at", lambda r: _recent(r).isoformat() + "+09:00"),
    "epoch_seconds": ("ts", lambda r: str(int(_recent(r).timestamp()))),
    "epoch_millis": ("ts_ms", lambda r: str(int(_recent(r).timestamp() * 1000))),
    "order_date": ("ordered_on", lambda r: _recent(r).date().isoformat()),
    "isbn": ("isbn", lambda r: _ean("9784" + _digits(r, 8))),
    "isbn_hyphens": ("isbn", lambda r: "978-4-" + _digits(r, 4) + "-" + _digits(r, 4) + "-" + _digits(r, 1)),
    "jan": ("jan_code", lambda r: _ean("49" + _digits(r, 10))),
    "tracking_yamato": ("tracking_no", lambda r: "-".join(_digits(r, 4) for _ in range(3))),
    "tracking_post": ("tracking_no", lambda r: _digits(r, 11) + "JP" if r.random() < 0.5 else "EJ" + _digits(r, 9) + "JP"),
    "price": ("price", lambda r: r.choice(["¥", "", "￥"]) + f"{r.randint(100, 2_000_000):,}" + r.choice(["", "円"])),
    "price_plain": ("amount", lambda r: str(r.randint(100, 999_999))),
    "product_code": ("sku", lambda r: r.choice(["SKU-", "P", "ITEM-", "JP-"]) + _digits(r, 7)),
    "product_code_suffix": ("product_code", lambda r: f"{_digits(r, 7)}-{_digits(r, 2)}"),
    "zip_like_code": ("model_no", lambda r: f"ABC-{_digits(r, 3)}-{_digits(r, 4)}"),
    "toll_free": ("support_line", lambda r: f"0120-{_digits(r, 3)}-{_digits(r, 3)}"),
    "short_number": ("extension", lambda r: f"{_digits(r, 4)}-{_digits(r, 4)}"),
    "ip_address": ("remote_addr", lambda r: ".".join(str(r.randint(1, 254)) for _ in range(4))),
    "version": ("app_version", lambda r: f"{r.randint(1, 20)}.{r.randint(0, 20)}.{r.randint(0, 99)}"),
    "uuid": ("request_id", lambda r: f"{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-4{r.getrandbits(12):03x}-a{r.getrandbits(12):03x}-{r.getrandbits(48):012x}"),
    "handle": ("twitter", lambda r: "@" + r.choice(_ROMAN) + str(r.randint(1, 99))),
    "bad_email": ("contact", lambda r: r.choice(_ROMAN) + r.choice(["@localhost", "@", " at example dot com", "@example"])),
    "company": ("company", lambda r: r.choice(["株式会社ココチエ", "田中商店", "鈴木自動車株式会社", "有限会社山本工務店", "合同会社アオバ"])),
    "place": ("venue", lambda r: r.choice(["渋谷", "新宿駅", "東京タワー", "京都府立植物園", "大阪城ホール", "北海道産じゃがいも", "東京都知事選挙", "大阪府内の市町村", "神奈川県民ホール"])),
    "words": ("note", lambda r: r.choice(["お問い合わせありがとうございます", "ウェディングプラン", "出席", "欠席", "未定", "アレルギーなし", "ベジタリアン"])),
    "quantity": ("qty", lambda r: str(r.randint(1, 20))),
}  # fmt: skip


def negatives(name: str, rng: random.Random) -> str:
    """One hard negative of the named sort."""
    return _NEGATIVE[name][1](rng)


def corpus(seed: int = 20261201, per_kind: int = 400, per_negative: int = 120) -> list[Sample]:
    """The labelled values: ``per_kind`` of each kind, ``per_negative`` of each sort of hard
    negative, shuffled; the same ``seed`` gives the same corpus."""
    rng = random.Random(seed)
    samples = []
    for kind in Kind:
        for i in range(per_kind):
            column = rng.choice(_HINTED[kind]) if i % 2 == 0 else rng.choice(_NEUTRAL)
            samples.append(Sample(positive(kind, rng), kind, column, str(kind)))
    for name, (column, make) in _NEGATIVE.items():
        for _ in range(per_negative):
            samples.append(Sample(make(rng), None, column, f"negative:{name}"))
    rng.shuffle(samples)
    return samples


def columns(seed: int = 20261201, values: int = 50) -> list[tuple[str, Kind | None, list[str]]]:
    """Whole columns: for each kind a column under each of its hinted names and three under
    neutral names, and for each sort of hard negative two columns of those; as (column name,
    kind, values)."""
    rng = random.Random(seed + 1)
    found: list[tuple[str, Kind | None, list[str]]] = []
    for kind in Kind:
        for column in [*_HINTED[kind], *_NEUTRAL[:3]]:
            found.append((column, kind, [positive(kind, rng) for _ in range(values)]))
    for column, make in _NEGATIVE.values():
        for _ in range(2):
            found.append((column, None, [make(rng) for _ in range(values)]))
    return found
