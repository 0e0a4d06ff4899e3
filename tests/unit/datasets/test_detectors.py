"""Each detector on the forms people write, and on what only looks like them."""

from __future__ import annotations

import datetime as dt

import pytest

from mamori.datasets.discovery import Kind, best_kind, detect
from mamori.datasets.discovery.hints import hinted_kinds
from mamori.datasets.discovery.names import NameAnalyser, load_names

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def analyser() -> NameAnalyser:
    found = load_names()
    assert found is not None, "the dev install has the ja-nlp extra"
    return found


def kind_of(value: str, column: str = "value", analyser: NameAnalyser | None = None) -> Kind | None:
    hints = hinted_kinds(column)
    return best_kind(detect(value, today=TODAY, hints=hints, analyser=analyser))


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("taro.yamada@example.co.jp", Kind.email),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", Kind.email),  # full width: NFKC
        ("user@localhost", None),
        ("@yobunara", None),
        ("090-1234-5678", Kind.phone),
        ("09012345678", Kind.phone),
        ("０９０－１２３４－５６７８", Kind.phone),
        ("090ー1234ー5678", Kind.phone),  # the katakana long mark typed for a hyphen
        ("(03)1234-5678", Kind.phone),
        ("+81 90 1234 5678", Kind.phone),
        ("0120-123-456", None),  # toll-free: a business's line
        ("1234-5678", None),
        ("〒150-0001", Kind.postal_code),
        ("〒１５０－０００１", Kind.postal_code),
        ("150-0001", Kind.postal_code),
        ("1500001", None),  # seven bare digits: the column's name decides
        ("SKU-1234567", None),
        ("ABC-123-4567", None),
        ("東京都渋谷区神宮前1-2-3", Kind.address),
        ("北海道虻田郡倶知安町字山田1番地", Kind.address),
        ("〒150-0001 東京都渋谷区神宮前1丁目2番3号", Kind.address),
        ("東京都知事選挙", None),
        ("大阪府内の市町村", None),
        ("621498320257", Kind.my_number),
        ("6214 9832 0257", Kind.my_number),
        ("6214-9832-0258", None),  # its check digit fails
        ("7000012050002", Kind.corporate_number),
        ("9784101010014", None),  # an ISBN
        ("4901234567894", None),  # a JAN code
        ("4111 1111 1111 1111", Kind.card_number),
        ("4111-1111-1111-1112", None),  # Luhn fails
        ("3530111333300000", Kind.card_number),  # JCB
        ("1985-04-12", Kind.birth_date),
        ("昭和60年4月12日", Kind.birth_date),
        ("平成元年1月8日", Kind.birth_date),
        ("2024-05-01 12:30:00", None),  # a timestamp
        ("2025-11-30", None),  # a recent date: an order's, not a birthday
        ("1850-01-01", None),
        ("¥12,800", None),
    ],
)
def test_values_alone(value: str, kind: Kind | None) -> None:
    assert kind_of(value) == kind


def test_digits_around_mean_part_of_something_else() -> None:
    assert kind_of("090-1234-56789") is None
    assert kind_of("1621498320257") != Kind.my_number
    card = detect("4111 1111 1111 1111", today=TODAY)
    assert [d.kind for d in card] == [Kind.card_number]  # no My Number inside it


def test_check_digits_are_reported() -> None:
    (good,) = detect("621498320257", today=TODAY)
    (bad,) = detect("621498320258", today=TODAY)
    assert (good.check_digit, bad.check_digit) == (True, False)
    assert bad.score < 0.5


def test_mentions_inside_text() -> None:
    found = detect("ご不明点は 03-1234-5678 または info@example.jp まで", today=TODAY)
    assert {d.kind for d in found} == {Kind.phone, Kind.email}
    assert not any(d.whole for d in found)
    assert kind_of("ご不明点は info@example.jp まで") is None


def test_column_names_raise_confidence() -> None:
    assert kind_of("1500001", "zip") == Kind.postal_code
    assert kind_of("1500001", "郵便番号") == Kind.postal_code
    assert kind_of("19850412", "birthday") == Kind.birth_date
    assert kind_of("19850412") is None
    assert kind_of("2025-11-30", "生年月日") == Kind.birth_date  # a baby's
    assert kind_of("621498320258", "my_number") is None  # a failed check digit stays failed


@pytest.mark.parametrize(
    ("column", "kinds"),
    [
        ("email", {Kind.email}),
        ("customerEmail", {Kind.email}),
        ("mail_address", {Kind.email}),
        ("tel", {Kind.phone}),
        ("電話番号", {Kind.phone}),
        ("zip_code", {Kind.postal_code}),
        ("shipping_address", {Kind.address}),
        ("ip_address", set()),
        ("full_name", {Kind.person_name}),
        ("氏名", {Kind.person_name}),
        ("file_name", set()),
        ("product_name", set()),
        ("date_of_birth", {Kind.birth_date}),
        ("dob", {Kind.birth_date}),
        ("生年月日", {Kind.birth_date}),
        ("created_at", set()),
    ],
)
def test_hints(column: str, kinds: set[Kind]) -> None:
    assert hinted_kinds(column) == kinds


def test_names_with_sudachi(analyser: NameAnalyser) -> None:
    assert kind_of("山田 太郎", analyser=analyser) == Kind.person_name
    assert kind_of("佐藤花子", analyser=analyser) == Kind.person_name
    assert kind_of("高橋　さくら", analyser=analyser) == Kind.person_name
    assert kind_of("株式会社ココチエ", analyser=analyser) is None
    assert kind_of("田中商店", analyser=analyser) is None
    assert kind_of("渋谷", analyser=analyser) is None


def test_names_without_nlp_only_by_the_column_name() -> None:
    assert kind_of("山田 太郎") is None
    assert kind_of("山田 太郎", "氏名") == Kind.person_name
    assert kind_of("Taro Yamada", "full_name") == Kind.person_name
    assert kind_of("12345", "full_name") is None
