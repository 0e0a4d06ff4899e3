"""Detectors of contact details: e-mail addresses, Japanese phone numbers, postal codes and
addresses (prefecture and municipality). Pure: each takes a value already normalised."""

from __future__ import annotations

import re

import phonenumbers

from mamori.datasets.discovery.kinds import Detection, Kind
from mamori.datasets.discovery.text import digits_only

__all__ = ["PREFECTURES", "address", "email", "phone", "postal_code"]

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w@-])"
)


def email(text: str) -> Detection | None:
    """An e-mail address: the whole value, or one inside a longer text."""
    found = _EMAIL.search(text)
    if found is None or ".." in found.group():
        return None
    whole = found.group() == text
    return Detection(Kind.email, 0.98 if whole else 0.8, whole=whole)


# A Japanese number as people write it: national (0...) or international (+81...), in groups
# separated by hyphens, spaces or brackets. Digits around it mean it is part of something else.
_PHONE = re.compile(
    r"(?<![\d+-])(?:\+81[ -]?\(?0?\)?|\(?0)\d{1,4}\)?(?:[ -]?\(?\d{1,4}\)?){1,3}(?![\d-])"
)
_PERSONAL_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    }
)


def phone(text: str) -> Detection | None:
    """A Japanese fixed-line, mobile or IP phone number (phonenumbers, region JP), with or
    without hyphens; the whole value or inside a text."""
    for found in _PHONE.finditer(text):
        candidate = found.group()
        digits = digits_only(candidate)
        national = digits[2:] if candidate.startswith("+81") else digits
        if not 9 <= len(national.lstrip("0")) <= 10:
            continue
        try:
            number = phonenumbers.parse(candidate, "JP")
        except phonenumbers.NumberParseException:
            continue
        if number.country_code != 81 or not phonenumbers.is_valid_number(number):
            continue
        if phonenumbers.number_type(number) not in _PERSONAL_TYPES:
            continue
        whole = candidate == text
        grouped = "-" in candidate or " " in candidate or candidate.startswith("+")
        return Detection(Kind.phone, (0.95 if grouped else 0.85) if whole else 0.75, whole=whole)
    return None


_POSTAL_MARKED = re.compile(r"〒 ?(\d{3})-?(\d{4})(?!\d)")
_POSTAL_WHOLE = re.compile(r"(\d{3})(-?)(\d{4})")


def postal_code(text: str) -> Detection | None:
    """A Japanese postal code: ``〒123-4567`` anywhere, or a value that is ``123-4567`` or
    ``1234567`` alone. Seven bare digits are weak evidence (product codes look alike); the
    column's name decides."""
    if _POSTAL_MARKED.search(text):
        whole = _POSTAL_MARKED.fullmatch(text) is not None
        return Detection(Kind.postal_code, 0.97 if whole else 0.8, whole=whole)
    found = _POSTAL_WHOLE.fullmatch(text)
    if found is None:
        return None
    return Detection(Kind.postal_code, 0.75 if found.group(2) else 0.4)


PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)  # fmt: skip
"""The 47 prefectures, in the order of their JIS X 0401 codes."""

_PREFECTURE = "|".join(sorted(PREFECTURES, key=len, reverse=True))
# A municipality: a city, a ward, a town or a village, or a district (郡) then a town or a
# village; one to eight characters that are not themselves digits, punctuation or a boundary.
_MUNICIPALITY = r"(?:[^\s\d,、。()]{1,6}郡)?[^\s\d,、。()市区町村]{1,8}?(?:市|区|町|村)"
_BLOCK = r"[^\s,、。]{0,12}?\d{1,4}(?:(?:-|丁目|番地?|号)\d{0,4}){0,3}"
_ADDRESS = re.compile(rf"(?:〒? ?\d{{3}}-?\d{{4}} ?)?({_PREFECTURE}) ?{_MUNICIPALITY}")
_ADDRESS_NO_PREFECTURE = re.compile(rf"^{_MUNICIPALITY}{_BLOCK}")


def address(text: str) -> Detection | None:
    """A Japanese address: a prefecture followed by a municipality (市区町村). Without a
    prefecture, a municipality followed by a block number (``渋谷区神宮前1-2-3``) is weaker
    evidence."""
    found = _ADDRESS.search(text)
    if found is not None and not text[found.end(1) :].startswith("内の"):
        rest = text[found.end() :]
        at_start = found.start() == 0
        has_block = re.search(r"\d", rest) is not None
        whole = at_start and len(rest) <= 60
        score = 0.95 if whole and has_block else 0.85 if whole else 0.7
        return Detection(Kind.address, score, whole=whole)
    if _ADDRESS_NO_PREFECTURE.match(text) and len(text) <= 60:
        return Detection(Kind.address, 0.55)
    return None
