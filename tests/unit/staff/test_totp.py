"""TOTP codes (RFC 6238), the window of accepted steps, replays, and recovery codes."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.staff import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
T0 = dt.datetime(2026, 4, 1, 9, 0, 15, tzinfo=dt.UTC)


def test_codes_are_the_rfc_6238_ones() -> None:
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); its last 6 digits.
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert totp.code_at(rfc_secret, 59 // 30) == "287082"
    assert totp.code_at(SECRET, totp.step_at(T0)) == pyotp.TOTP(SECRET).at(T0)


def test_the_current_step_and_one_either_side_are_accepted() -> None:
    step = totp.step_at(T0)
    for offset in (-1, 0, 1):
        code = totp.code_at(SECRET, step + offset)
        assert totp.matching_step(SECRET, code, T0, None) == step + offset
    for offset in (-2, 2, 10):
        assert totp.matching_step(SECRET, totp.code_at(SECRET, step + offset), T0, None) is None


def test_a_code_already_used_or_older_than_the_last_one_is_refused() -> None:
    step = totp.step_at(T0)
    code = totp.code_at(SECRET, step)
    assert totp.matching_step(SECRET, code, T0, step) is None  # the same code again
    assert totp.matching_step(SECRET, code, T0, step + 1) is None  # a later one was used
    assert totp.matching_step(SECRET, code, T0, step - 1) == step
    later = totp.code_at(SECRET, step + 1)
    assert totp.matching_step(SECRET, later, T0, step) == step + 1


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("１２３４５６", "123456"),
        ("123-456", "123456"),
    ],
)
def test_codes_as_typed(typed: str, normal: str) -> None:
    assert totp.normal_code(typed) == normal


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12345a", "١٢٣٤٥٦x"])
def test_malformed_codes(typed: str) -> None:
    assert totp.normal_code(typed) is None


def test_recovery_codes_are_ten_distinct_and_normalise() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        assert totp.normal_recovery(code.upper().replace("-", " ")) == code.replace("-", "")
    assert totp.normal_recovery("123456") is None
    assert totp.normal_recovery("abcde-fghij") is None  # i is not in the alphabet


def test_recovery_hashes_are_keyed_and_bound_to_the_account() -> None:
    key, other = b"k" * 32, b"o" * 32
    first = totp.recovery_hash(key, "st_a", "abcdefghjk")
    assert len(first) == 32
    assert first != totp.recovery_hash(key, "st_b", "abcdefghjk")
    assert first != totp.recovery_hash(other, "st_a", "abcdefghjk")
    assert first == totp.recovery_hash(key, "st_a", "abcdefghjk")


def test_secrets_and_the_qr_code() -> None:
    secret = totp.new_secret()
    assert totp.normal_secret(secret.lower()) == secret and len(secret) == 32
    with pytest.raises(ValueError):
        totp.normal_secret("short")
    uri = totp.provisioning_uri(secret, "hanako", "mamori")
    assert uri.startswith("otpauth://totp/mamori:hanako?") and f"secret={secret}" in uri
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg


@given(st.integers(min_value=0, max_value=2**31))
def test_every_step_has_a_six_digit_code(step: int) -> None:
    code = totp.code_at(SECRET, step)
    assert totp.normal_code(code) == code
