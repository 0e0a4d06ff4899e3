"""Items of several kinds (text, url, document): each value checked as its kind, stored with it."""

from __future__ import annotations

import base64
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.errors import InvalidValue
from mamori.policy.model import ValueKind as K
from mamori.vault.normalize import MAX_TEXT_CHARS, MAX_URL_CHARS, kind_of, normalise, normalise_item

CONTENT = (K.text, K.url, K.document)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(16)


@pytest.mark.parametrize(
    ("given_", "stored"),
    [
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        ),
        ("HTTPS://YouTu.be/dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcQ"),
        ("  http://example.jp:8080/招待状?a=1#top ", "http://example.jp:8080/招待状?a=1#top"),
        ("https://[2001:db8::1]/v", "https://[2001:db8::1]/v"),
    ],
)
def test_url_accepted(given_: str, stored: str) -> None:
    assert normalise(K.url, given_, item_id="content") == stored
    assert normalise(K.url, stored, item_id="content") == stored  # idempotent


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("ftp://example.jp/file", "must start with http:// or https://"),
        ("www.youtube.com/watch", "must start with http:// or https://"),
        ("https://user:secret@example.jp/", "user name or password"),
        ("https://taro@example.jp/", "user name or password"),
        ("https:///path", "needs a host name"),
        ("https://exa mple.jp/", "cannot contain spaces"),
        ("https://example.jp:99999/", "not a valid URL"),
        ("https://" + "a" * MAX_URL_CHARS + ".jp", f"longer than {MAX_URL_CHARS}"),
        ("https://example.jp/\x00", "control characters"),
        ('https://example.jp/"><script>', "cannot contain <"),
        ("https://example.jp/a\\b", "cannot contain <"),
        ("", "is empty"),
        (42, "must be a string"),
    ],
)
def test_url_refused_naming_the_item_not_the_value(bad: object, problem: str) -> None:
    with pytest.raises(InvalidValue, match=problem) as caught:
        normalise(K.url, bad, item_id="content")
    message = str(caught.value)
    assert message.startswith("item 'content': ")
    assert "secret" not in message and "alert" not in message


def test_text_is_nfc_and_bounded() -> None:
    decomposed = "か\u3099いしゃ\r\n本文"  # が as か + combining mark, CRLF
    stored = normalise(K.text, decomposed, item_id="content")
    assert stored == "がいしゃ\n本文"
    assert normalise(K.text, "x" * MAX_TEXT_CHARS, item_id="content") == "x" * MAX_TEXT_CHARS
    with pytest.raises(InvalidValue, match=f"the limit is {MAX_TEXT_CHARS}"):
        normalise(K.text, "x" * (MAX_TEXT_CHARS + 1), item_id="content")


@given(st.text(min_size=1, max_size=50))
def test_text_normalising_is_idempotent(text: str) -> None:
    try:
        once = normalise(K.text, text, item_id="t")
    except InvalidValue:
        return
    assert normalise(K.text, once, item_id="t") == once
    assert unicodedata.is_normalized("NFC", str(once))


def test_an_item_of_several_kinds_stores_each_value_with_its_kind() -> None:
    text = normalise_item(CONTENT, {"kind": "text", "value": " 結婚式のご案内 "}, item_id="content")
    assert text == {"kind": "text", "value": "結婚式のご案内"}
    url = normalise_item(CONTENT, {"kind": "url", "value": "HTTPS://youtu.be/x"}, item_id="content")
    assert url == {"kind": "url", "value": "https://youtu.be/x"}
    data = base64.b64encode(PNG).decode()
    doc = normalise_item(
        CONTENT,
        {"kind": "document", "value": {"content_type": "image/png", "data": data}},
        item_id="content",
    )
    assert doc == {"kind": "document", "value": {"content_type": "image/png", "data": data}}
    for stored in (text, url, doc):
        assert normalise_item(CONTENT, stored, item_id="content") == stored
        assert kind_of(CONTENT, stored) == (K(stored["kind"]), stored)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://youtu.be/x", r'send \{"kind": \.\.\., "value": \.\.\.\}'),
        ({"value": "x"}, r'send \{"kind"'),
        ({"kind": "email", "value": "a@example.jp"}, "kind 'email' is not allowed"),
        ({"kind": 3, "value": "x"}, "kind is not allowed"),
        ({"kind": "url", "value": "javascript:x"}, "http:// or https://"),
        ({"kind": "text", "value": ""}, "is empty"),
    ],
)
def test_an_item_of_several_kinds_refuses_naming_the_kinds(value: object, problem: str) -> None:
    with pytest.raises(InvalidValue, match=problem) as caught:
        normalise_item(CONTENT, value, item_id="content")
    message = str(caught.value)
    assert message.startswith("item 'content': ")
    if "kind" in problem or "send" in problem:
        assert "text, url, document" in message


def test_a_value_stored_before_the_item_had_several_kinds_reads_with_the_kind_it_is() -> None:
    legacy = {"content_type": "image/png", "data": base64.b64encode(PNG).decode()}
    assert kind_of(CONTENT, legacy) == (K.document, {"kind": "document", "value": legacy})
    assert kind_of(CONTENT, "旧い本文") == (K.text, {"kind": "text", "value": "旧い本文"})
    assert kind_of((K.url, K.document), "https://x.jp/") == (
        K.url,
        {"kind": "url", "value": "https://x.jp/"},
    )
    assert kind_of((K.document,), legacy) == (K.document, legacy)  # one kind: as stored
