"""What an audit entry may hold (identifiers, never personal data) and its canonical bytes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.audit import entry
from mamori.audit.entry import check
from mamori.errors import AuditEntryError, UserInputError


def test_identifiers_pass() -> None:
    assert check(
        "key:abc123",
        "subject.field.read",
        ["subject:8f3a", "field:email", "req/2025-04-01#3"],
        {"purpose": "support", "count": 3, "ok": True, "note": None, "_x.y": "a-b_c"},
    ) == (
        "key:abc123",
        "subject.field.read",
        ("subject:8f3a", "field:email", "req/2025-04-01#3"),
        {"purpose": "support", "count": 3, "ok": True, "note": None, "_x.y": "a-b_c"},
    )


@pytest.mark.parametrize(
    ("actor", "action", "targets", "details", "message"),
    [
        ("taro@example.jp", "a.b", [], {}, "actor"),
        ("山田太郎", "a.b", [], {}, "actor"),
        ("", "a.b", [], {}, "actor"),
        ("x" * 129, "a.b", [], {}, "actor"),
        ("staff:7", "publish", [], {}, "action"),
        ("staff:7", "Policy.Publish", [], {}, "action"),
        ("staff:7", "a.b", "subject:1", {}, "list of IDs"),
        ("staff:7", "a.b", ["subject:1", "taro@example.jp"], {}, "target #2"),
        ("staff:7", "a.b", [f"t:{i}" for i in range(33)], {}, "at most 32 targets"),
        ("staff:7", "a.b", [], {"email": "taro@example.jp"}, "'email'"),
        ("staff:7", "a.b", [], {"name": "山田 太郎"}, "'name'"),
        ("staff:7", "a.b", [], {"phone": "+81 90-1234-5678"}, "'phone'"),
        ("staff:7", "a.b", [], {"note": "called the customer back"}, "'note'"),
        ("staff:7", "a.b", [], {"ratio": 0.5}, "float"),
        ("staff:7", "a.b", [], {"nested": {"a": 1}}, "dict"),
        ("staff:7", "a.b", [], {"list": ["a"]}, "list"),
        ("staff:7", "a.b", [], {"big": 2**63}, "64 bits"),
        ("staff:7", "a.b", [], {"taro@example.jp": 1}, "key #1"),
        ("staff:7", "a.b", [], {"氏名": "x"}, "key #1"),
        ("staff:7", "a.b", [], {f"k{i}": i for i in range(257)}, "at most 256 details"),
    ],
)
def test_anything_but_identifiers_is_refused(
    actor: str, action: str, targets: Any, details: Any, message: str
) -> None:
    with pytest.raises(AuditEntryError, match=message) as caught:
        check(actor, action, targets, details)
    assert isinstance(caught.value, UserInputError)
    # The message names the field, never the refused value (which may be personal data).
    for value in ("taro@example.jp", "山田", "+81", "called the customer"):
        assert value not in str(caught.value)


ident = st.from_regex(entry.ID_PATTERN, fullmatch=True)
key = st.from_regex(entry.KEY_PATTERN, fullmatch=True)
action = st.from_regex(entry.ACTION_PATTERN, fullmatch=True).filter(lambda a: len(a) <= 64)
scalar = st.one_of(ident, st.integers(-(2**63), 2**63 - 1), st.booleans(), st.none())
timestamps = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9999, 1, 1), timezones=st.just(dt.UTC)
)


@given(
    seq=st.integers(1, 2**62),
    ts=timestamps,
    actor=ident,
    action=action,
    targets=st.lists(ident, max_size=5),
    details=st.dictionaries(key, scalar, max_size=6),
)
def test_canonical_bytes_are_the_sorted_compact_json_of_the_entry(
    seq: int,
    ts: dt.datetime,
    actor: str,
    action: str,
    targets: list[str],
    details: dict[str, Any],
) -> None:
    actor, action, checked_targets, checked = check(actor, action, targets, details)
    targets_json, details_json = entry.encode_fields(checked_targets, checked)
    text = entry.format_ts(ts)
    got = entry.canonical(seq, text, actor, action, targets_json, details_json)
    obj = {
        "seq": seq,
        "ts": text,
        "actor": actor,
        "action": action,
        "targets": targets,
        "details": details,
    }
    assert got == json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    assert got == orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    assert entry.decode_fields(targets_json, details_json) == (tuple(targets), details)


@given(ts=timestamps)
def test_timestamps_round_trip_to_the_microsecond(ts: dt.datetime) -> None:
    text = entry.format_ts(ts)
    assert len(text) == 27 and text.endswith("Z")
    assert entry.parse_ts(text) == ts


def test_timestamps_are_utc() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert entry.format_ts(dt.datetime(2025, 4, 1, 9, 0, tzinfo=tokyo)) == (
        "2025-04-01T00:00:00.000000Z"
    )
    with pytest.raises(ValueError, match="timezone"):
        entry.format_ts(dt.datetime(2025, 4, 1))


loose_text = st.one_of(ident, st.text(max_size=12), st.sampled_from(["", "a\tb", 'a"b', "a\\b"]))
loose_value = st.one_of(
    loose_text,
    st.integers(-(2**64), 2**64),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.lists(ident, max_size=2),
)


@given(
    actor=loose_text,
    action=st.one_of(action, st.text(max_size=10)),
    targets=st.lists(loose_text, max_size=4),
    details=st.dictionaries(st.one_of(key, st.text(max_size=6)), loose_value, max_size=4),
)
def test_the_fast_check_agrees_with_the_field_by_field_check(
    actor: str, action: str, targets: list[str], details: dict[str, Any]
) -> None:
    try:
        expected: Any = entry._check_each(actor, action, targets, details)
    except AuditEntryError as exc:
        expected = type(exc)
    try:
        prepared: Any = entry.prepare(actor, action, targets, details)
    except AuditEntryError as exc:
        assert expected is type(exc)
    else:
        assert prepared[:4] == expected
        assert prepared[4:] == entry.encode_fields(prepared[2], prepared[3])
