"""Detectors of numbers with a check digit: My Number (個人番号), corporate numbers (法人番号)
and payment card numbers (Luhn). Pure: each takes a value already normalised.

A check digit that fails is reported (``check_digit=False``) rather than hidden: a column of
twelve-digit values whose check digits hold one time in ten is a column of order numbers, not
of My Numbers (a random number passes a mod-11 check digit about as often).
"""

from __future__ import annotations

import re

from stdnum import luhn
from stdnum.jp import cn

from mamori.datasets.discovery.kinds import Detection, Kind
from mamori.datasets.discovery.text import digits_only

__all__ = ["card_number", "corporate_number", "my_number", "my_number_check_digit"]


def my_number_check_digit(first_eleven: str) -> str:
    """The check digit of a My Number (行政手続における特定の個人を識別するための番号の利用等に
    関する法律施行令 第8条): with P(n) the n-th digit from the right of the first eleven and
    Q(n) = n + 1 for n up to 6, n - 5 above, it is 11 - (sum of P(n) x Q(n)) mod 11, or 0
    when that remainder is 0 or 1. python-stdnum's ``stdnum.jp.in_`` computes the same."""
    total = sum(
        int(digit) * (n + 1 if n <= 6 else n - 5)
        for n, digit in enumerate(reversed(first_eleven), start=1)
    )
    remainder = total % 11
    return "0" if remainder <= 1 else str(11 - remainder)


def _my_number_valid(digits: str) -> bool:
    return len(digits) == 12 and my_number_check_digit(digits[:11]) == digits[11]


# Digits in groups separated by single spaces or hyphens, with no digit either side.
_BEFORE = r"(?<![\d-])(?<!\d )"
_AFTER = r"(?![\d-])(?! \d)"
_MY_NUMBER = re.compile(rf"{_BEFORE}\d{{4}}([ -]?)\d{{4}}\1\d{{4}}{_AFTER}")
_CORPORATE = re.compile(rf"{_BEFORE}(?:\d{{13}}|\d-\d{{4}}-\d{{4}}-\d{{4}}){_AFTER}")


def _isbn13(digits: str) -> bool:
    """An EAN-13 / JAN / ISBN-13 barcode (its mod-10 check with weights 1, 3 holds)."""
    if len(digits) != 13:
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])


_EPOCH_MILLIS = (1_300_000_000_000, 2_100_000_000_000)


def my_number(text: str) -> Detection | None:
    """Twelve digits (``1234 5678 9012`` or with hyphens); ``check_digit`` says whether the
    last digit is the one the law's formula gives (:func:`my_number_check_digit`)."""
    found = _MY_NUMBER.search(text)
    if found is None:
        return None
    valid = _my_number_valid(digits_only(found.group()))
    whole = found.group() == text
    score = (0.9 if whole else 0.7) if valid else 0.2
    return Detection(Kind.my_number, score, whole=whole, check_digit=valid)


def corporate_number(text: str) -> Detection | None:
    """Thirteen digits whose first is the check digit (python-stdnum ``stdnum.jp.cn``);
    barcodes (JAN, ISBN-13: 45, 49, 978, 979) are not taken for one."""
    found = _CORPORATE.search(text)
    if found is None:
        return None
    digits = digits_only(found.group())
    if (digits[:2] in ("45", "49") or digits[:3] in ("978", "979")) and _isbn13(digits):
        return None
    valid = cn.is_valid(digits)
    whole = found.group() == text
    score = (0.85 if whole else 0.65) if valid else 0.15
    if valid and _EPOCH_MILLIS[0] <= int(digits) < _EPOCH_MILLIS[1]:
        score = 0.45  # as likely a time in milliseconds (2011 to 2036): the column decides
    return Detection(Kind.corporate_number, score, whole=whole, check_digit=valid)


# Issuer prefixes (IIN) and the lengths each network issues.
_NETWORKS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = (
    (re.compile(r"4"), frozenset({16, 19})),  # Visa (its old 13 digits are JAN-like)
    (re.compile(r"5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)"), frozenset({16})),  # Mastercard
    (re.compile(r"3[47]"), frozenset({15})),  # American Express
    (re.compile(r"35(?:2[89]|[3-8]\d)"), frozenset({16, 17, 18, 19})),  # JCB
    (re.compile(r"3(?:0[0-5]|[68])"), frozenset({14, 16})),  # Diners Club
    (re.compile(r"6(?:011|4[4-9]|5)"), frozenset({16, 19})),  # Discover
    (re.compile(r"62"), frozenset({16, 17, 18, 19})),  # UnionPay
)
_CARD = re.compile(rf"{_BEFORE}\d(?:[ -]?\d){{12,18}}{_AFTER}")


def card_number(text: str) -> Detection | None:
    """A payment card number: 13 to 19 digits, optionally in groups, with a known issuer
    prefix and length; ``check_digit`` is the Luhn check."""
    for found in _CARD.finditer(text):
        candidate = found.group()
        if re.search(r"[ -]{2}", candidate) or len(set(re.findall(r"[ -]", candidate))) > 1:
            continue
        digits = digits_only(candidate)
        if not any(p.match(digits) and len(digits) in n for p, n in _NETWORKS):
            continue
        valid = luhn.is_valid(digits)
        whole = candidate == text
        score = (0.95 if whole else 0.8) if valid else 0.2
        return Detection(Kind.card_number, score, whole=whole, check_digit=valid)
    return None
