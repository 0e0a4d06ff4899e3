"""Values checked and normalised for storage, and the forms blind indexes are computed from."""

from __future__ import annotations

import base64
import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mamori.errors import InvalidValue, ValueTooLarge
from mamori.policy.model import ValueKind as K
from mamori.vault.normalize import index_form, normalise

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
PDF = b"%PDF-1.7\n" + bytes(64)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# -- e-mail ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "stored"),
    [
        ("Taro.Yamada@Example.co.jp", "Taro.Yamada@Example.co.jp"),
        ("  taro@example.jp \n", "taro@example.jp"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
        ("taro+news@example.jp", "taro+news@example.jp"),
        ("taro..yamada.@docomo.ne.jp", "taro..yamada.@docomo.ne.jp"),  # old carrier addresses
        ("花子@例え.jp", None),  # local part must be ASCII
        ("taro@例え.jp", "taro@例え.jp"),
    ],
)
def test_email(given_: str, stored: str | None) -> None:
    if stored is None:
        with pytest.raises(InvalidValue):
            normalise(K.email, given_, item_id="email")
    else:
        assert normalise(K.email, given_, item_id="email") == stored


@pytest.mark.parametrize(
    "bad",
    [
        "taro",
        "taro@",
        "@example.jp",
        "taro@example",
        "taro@@example.jp",
        "ta ro@example.jp",
        "taro@-example.jp",
        "taro@example.123",
        "taro@exa_mple.jp",
        "..@example.jp",
        "a" * 65 + "@example.jp",
        "taro@" + "a" * 250 + ".jp",
        "",
        "   ",
    ],
)
def test_invalid_email_names_the_item_but_never_the_value(bad: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise(K.email, bad, item_id="email")
    message = str(caught.value)
    assert message.startswith("item 'email': ")
    if bad.strip():
        assert bad.strip() not in message


def test_email_index_form_ignores_case_and_width() -> None:
    forms = {
        index_form(K.email, normalise(K.email, v))
        for v in ("Taro@Example.JP", "taro@example.jp", "ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＪＰ")
    }
    assert forms == {"taro@example.jp"}


local = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-"),
    min_size=1,
    max_size=20,
)
label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True)


@given(local=local, host=label, tld=st.from_regex(r"[a-zA-Z]{2,6}", fullmatch=True))
def test_emails_differing_in_case_have_one_index_form(local: str, host: str, tld: str) -> None:
    assume(local.strip("."))
    address = f"{local}@{host}.{tld}"
    stored = normalise(K.email, address)
    assert stored == address
    assert normalise(K.email, stored) == stored
    assert index_form(K.email, normalise(K.email, address.upper())) == index_form(
        K.email, normalise(K.email, address.lower())
    )


# -- telephone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "e164"),
    [
        ("03-1234-5678", "+81312345678"),
        ("(03) 1234-5678", "+81312345678"),
        ("０３－１２３４－５６７８", "+81312345678"),
        ("090-1234-5678", "+819012345678"),
        ("０９０－１２３４－５６７８", "+819012345678"),
        ("090ー1234ー5678", "+819012345678"),
        ("+81 90 1234 5678", "+819012345678"),
        ("＋８１　９０　１２３４　５６７８", "+819012345678"),
        ("+819012345678", "+819012345678"),
        ("0120-123-456", "+81120123456"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_phone_numbers_become_e164(given_: str, e164: str) -> None:
    stored = normalise(K.phone, given_, item_id="phone")
    assert stored == e164
    assert index_form(K.phone, stored) == e164
    assert normalise(K.phone, stored) == stored


@pytest.mark.parametrize(
    "bad",
    ["12345", "03-1234-567", "090-1234-56789", "Tel: 03-1234-5678", "03-1234-ABCD", "", "+81"],
)
def test_invalid_phone_numbers(bad: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise(K.phone, bad, item_id="phone")
    assert str(caught.value).startswith("item 'phone': ")
    if bad:
        assert bad not in str(caught.value)


def test_phone_region_reads_national_numbers() -> None:
    assert normalise(K.phone, "(650) 253-0000", region="US") == "+16502530000"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(
    subscriber=st.from_regex(r"[1-9][0-9]{3}", fullmatch=True),
    line=st.from_regex(r"[0-9]{4}", fullmatch=True),
    prefix=st.sampled_from(["90", "80", "70"]),
    style=st.sampled_from(["national", "dashes", "fullwidth", "international", "spaced"]),
)
def test_every_writing_of_a_mobile_number_gives_one_e164(
    subscriber: str, line: str, prefix: str, style: str
) -> None:
    national = f"0{prefix}-{subscriber}-{line}"
    text = {
        "national": national.replace("-", ""),
        "dashes": national,
        "fullwidth": _fullwidth(national),
        "international": f"+81{prefix}{subscriber}{line}",
        "spaced": f"+81 {prefix} {subscriber} {line}",
    }[style]
    assert normalise(K.phone, text) == f"+81{prefix}{subscriber}{line}"


# -- text, names, addresses, postal codes --------------------------------------------------------


def test_text_and_names_are_kept_as_given_and_indexed_loosely() -> None:
    assert normalise(K.name, "  山田　太郎 ") == "山田　太郎"
    assert index_form(K.name, "山田　太郎") == index_form(K.name, "山田 太郎") == "山田 太郎"
    assert index_form(K.name, "ﾔﾏﾀﾞ ﾀﾛｳ") == "ヤマダ タロウ"
    assert index_form(K.name, "Taro YAMADA") == index_form(K.name, "taro  yamada")
    assert normalise(K.text, "line 1\r\nline 2") == "line 1\nline 2"


@pytest.mark.parametrize(
    ("kind", "bad"),
    [
        (K.name, "Taro\nYamada"),
        (K.name, "a\x00b"),
        (K.text, "a\x07b"),
        (K.text, ""),
        (K.text, 42),
        (K.name, None),
        (K.text, "\ud800"),
    ],
)
def test_bad_text(kind: K, bad: Any) -> None:
    with pytest.raises(InvalidValue, match=r"^item 'x': "):
        normalise(kind, bad, item_id="x")


@pytest.mark.parametrize(
    "given_", ["150-0001", "1500001", "〒150-0001", "〒 150-0001", "１５０－０００１", "150ー0001"]
)
def test_postal_codes(given_: str) -> None:
    assert normalise(K.postal_code, given_) == "150-0001"
    assert index_form(K.postal_code, "150-0001") == "150-0001"


@pytest.mark.parametrize("bad", ["150-001", "15000011", "ABC-DEFG", "150 0001 1", "١٥٠-٠٠٠١"])
def test_bad_postal_codes(bad: str) -> None:
    with pytest.raises(InvalidValue, match="postal code"):
        normalise(K.postal_code, bad, item_id="postal_code")


def test_structured_address() -> None:
    given_ = {
        "postal_code": "〒１５０－０００１",
        "prefecture": "東京都",
        "city": " 渋谷区 ",
        "line1": "神宮前1-2-3",
        "line2": "",
    }
    stored = normalise(K.address, given_, item_id="address")
    assert stored == {
        "postal_code": "150-0001",
        "prefecture": "東京都",
        "city": "渋谷区",
        "line1": "神宮前1-2-3",
    }
    assert normalise(K.address, stored) == stored
    assert index_form(K.address, stored) == "150-0001 東京都 渋谷区 神宮前1-2-3"
    assert normalise(K.address, "東京都渋谷区神宮前1-2-3") == "東京都渋谷区神宮前1-2-3"


def test_unknown_fields_are_named_only_when_they_look_like_field_names() -> None:
    with pytest.raises(InvalidValue, match="unknown field 'street'"):
        normalise(K.address, {"street": "x"}, item_id="address")
    with pytest.raises(InvalidValue) as caught:
        normalise(K.address, {"taro@example.jp": "x"}, item_id="address")
    assert "taro" not in str(caught.value) and "an unknown field" in str(caught.value)


@pytest.mark.parametrize(
    "bad",
    [
        {"postal_code": "1234"},
        {"street": "x"},
        {},
        {"line2": "  "},
        {"city": 3},
        ["東京都"],
    ],
)
def test_bad_addresses(bad: Any) -> None:
    with pytest.raises(InvalidValue, match=r"^item 'address': "):
        normalise(K.address, bad, item_id="address")


# -- dates, documents, external IDs, devices, IP addresses, JSON ----------------------------


def test_dates() -> None:
    assert normalise(K.date, "1990-04-01") == "1990-04-01"
    assert normalise(K.date, "１９９０－０４－０１") == "1990-04-01"
    assert normalise(K.date, dt.date(1990, 4, 1)) == "1990-04-01"
    assert index_form(K.date, "1990-04-01") == "1990-04-01"
    for bad in ("1990-02-30", "19900401", "1990-4-1", "1990-W01-1", "tomorrow", 19900401):
        with pytest.raises(InvalidValue, match="date"):
            normalise(K.date, bad, item_id="birth_date")
    with pytest.raises(InvalidValue):
        normalise(K.date, dt.datetime(1990, 4, 1, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [("image/png", PNG), ("image/jpeg", JPEG), ("image/jpg", JPEG), ("application/pdf", PDF)],
)
def test_documents(content_type: str, raw: bytes) -> None:
    encoded = b64(raw)
    wrapped = encoded[:20] + "\n" + encoded[20:]
    stored = normalise(K.document, {"content_type": content_type.upper(), "data": wrapped})
    assert stored == {"content_type": content_type.replace("jpg", "jpeg"), "data": encoded}
    assert normalise(K.document, stored) == stored
    assert index_form(K.document, stored) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"content_type": "image/gif", "data": b64(PNG)}, "content_type must be one of"),
        ({"content_type": "image/png", "data": "not base64!"}, "not valid base64"),
        ({"content_type": "image/png", "data": b64(PDF)}, "not a PNG image"),
        ({"content_type": "application/pdf", "data": b64(PNG)}, "not a PDF document"),
        ({"content_type": "image/png"}, "data must be a string"),
        ({"content_type": "image/png", "data": b64(PNG), "name": "x"}, "unknown field 'name'"),
        ("data:image/png;base64,AAAA", "must be an object"),
    ],
)
def test_bad_documents(value: Any, problem: str) -> None:
    with pytest.raises(InvalidValue, match=problem):
        normalise(K.document, value, item_id="id_document")


def test_document_size_limit() -> None:
    value = {"content_type": "application/pdf", "data": b64(PDF + bytes(2000))}
    assert normalise(K.document, value, max_document_bytes=4096)
    with pytest.raises(ValueTooLarge, match=r"item 'id_document'.*limit is 1024 bytes"):
        normalise(K.document, value, item_id="id_document", max_document_bytes=1024)
    huge = {"content_type": "application/pdf", "data": "A" * 8_000_000}
    with pytest.raises(ValueTooLarge):
        normalise(K.document, huge, max_document_bytes=1024)


def test_external_ids() -> None:
    stored = normalise(
        K.external_id,
        {"service": "LINE", "id": " U1234 ", "scopes": ["profile", "openid", "profile"]},
    )
    assert stored == {"service": "line", "id": "U1234", "scopes": ["openid", "profile"]}
    assert normalise(K.external_id, stored) == stored
    assert index_form(K.external_id, stored) == "line:U1234"
    assert normalise(K.external_id, {"service": "x", "id": 42})["id"] == "42"  # type: ignore[index]
    for bad in (
        {"service": "a b", "id": "1"},
        {"service": "line"},
        {"service": "line", "id": "1", "scopes": "openid"},
        {"service": "line", "id": "1", "scopes": [""]},
        {"service": "line", "id": "1", "extra": 1},
        {"service": "line", "id": True},
    ):
        with pytest.raises(InvalidValue, match=r"^item 'line_id': "):
            normalise(K.external_id, bad, item_id="line_id")


def test_device_ids() -> None:
    idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
    assert normalise(K.device_id, idfa) == idfa.lower()
    assert normalise(K.device_id, "6d92078a82464ba4ae5b76104861e7dc") == idfa.lower()
    assert normalise(K.device_id, "android-abc123") == "android-abc123"
    assert index_form(K.device_id, idfa.lower()) == idfa.lower()
    for bad in ("a b", "", "x" * 257):
        with pytest.raises(InvalidValue):
            normalise(K.device_id, bad)


def test_ip_addresses() -> None:
    assert normalise(K.ip_address, "192.0.2.1") == "192.0.2.1"
    assert normalise(K.ip_address, "2001:DB8:0:0:0:0:0:1") == "2001:db8::1"
    assert normalise(K.ip_address, "１９２．０．２．１") == "192.0.2.1"
    for bad in ("192.0.2.256", "example.jp", "", "192.0.2.1/24"):
        with pytest.raises(InvalidValue, match="IP address"):
            normalise(K.ip_address, bad, item_id="ip")


def test_json_values() -> None:
    value = {"a": [1, 2.5, None, True, "x"], "b": {"c": (1, 2)}}
    assert normalise(K.json, value) == {"a": [1, 2.5, None, True, "x"], "b": {"c": [1, 2]}}
    assert index_form(K.json, value) is None
    nested: Any = 0
    for _ in range(70):
        nested = [nested]
    for bad in (math.nan, math.inf, {1: "x"}, 2**64, b"bytes", {1, 2}, nested):
        with pytest.raises(InvalidValue, match=r"^item 'prefs': "):
            normalise(K.json, bad, item_id="prefs")


def test_events_are_not_a_stored_value() -> None:
    with pytest.raises(InvalidValue, match="item 'usage_history': usage events"):
        normalise(K.events, [], item_id="usage_history")
    assert index_form(K.events, []) is None


# -- every kind: idempotent ------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)

samples = st.one_of(
    st.tuples(st.just(K.text), st.text(min_size=1)),
    st.tuples(st.just(K.name), st.text(min_size=1)),
    st.tuples(st.just(K.address), st.text(min_size=1)),
    st.tuples(
        st.just(K.address),
        st.fixed_dictionaries(
            {}, optional={f: st.text(max_size=8) for f in ("prefecture", "city", "line1", "line2")}
        ),
    ),
    st.tuples(st.just(K.email), st.emails()),
    st.tuples(st.just(K.phone), st.from_regex(r"0[1-9]0?-?[0-9]{3,4}-?[0-9]{4}", fullmatch=True)),
    st.tuples(st.just(K.postal_code), st.from_regex(r"〒?[0-9]{3}-?[0-9]{4}", fullmatch=True)),
    st.tuples(st.just(K.date), st.dates().map(dt.date.isoformat)),
    st.tuples(st.just(K.ip_address), st.ip_addresses().map(str)),
    st.tuples(st.just(K.device_id), st.uuids().map(lambda u: str(u).upper())),
    st.tuples(st.just(K.device_id), st.text(min_size=1, max_size=30)),
    st.tuples(
        st.just(K.external_id),
        st.fixed_dictionaries(
            {
                "service": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True),
                "id": st.text(min_size=1, max_size=20),
            },
            optional={"scopes": st.lists(st.text(min_size=1, max_size=8), max_size=4)},
        ),
    ),
    st.tuples(st.just(K.json), json_values),
    st.tuples(
        st.just(K.document),
        st.fixed_dictionaries(
            {
                "content_type": st.sampled_from(["image/png", "image/jpeg", "application/pdf"]),
                "data": st.binary(max_size=64),
            }
        ),
    ),
)


@given(sample=samples)
def test_normalise_is_idempotent(sample: tuple[K, Any]) -> None:
    kind, value = sample
    if kind is K.document:  # give the data the right leading bytes
        magic = {"image/png": PNG[:8], "image/jpeg": JPEG[:3], "application/pdf": PDF[:5]}
        value = {
            "content_type": value["content_type"],
            "data": b64(magic[value["content_type"]] + value["data"]),
        }
    try:
        once = normalise(kind, value, item_id="x")
    except InvalidValue as exc:
        assert str(exc).startswith("item 'x': ")
        return
    assert normalise(kind, once, item_id="x") == once
    form = index_form(kind, once)
    assert form is None or isinstance(form, str)
