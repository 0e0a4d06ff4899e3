"""The detector of dates of birth: a date alone (no time of day) in the range people's
birthdays fall in. Pure: it takes a value already normalised and the day to count ages from."""

from __future__ import annotations

import datetime as dt
import re

from mamori.datasets.discovery.kinds import Detection, Kind

__all__ = ["birth_date", "parse_date"]

_ERAS = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
_ISO = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?: 00:00(?::00(?:\.0+)?)?)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_KANJI = re.compile(r"(\d{4})年 ?(\d{1,2})月 ?(\d{1,2})日")
_ERA = re.compile(r"(明治|大正|昭和|平成|令和) ?(\d{1,2}|元)年 ?(\d{1,2})月 ?(\d{1,2})日")


def parse_date(text: str) -> tuple[dt.date, bool] | None:
    """The date a whole value writes, and whether its form is a date's beyond doubt (eight
    bare digits are also order numbers and codes)."""
    try:
        if found := _ISO.fullmatch(text):
            return dt.date(int(found[1]), int(found[3]), int(found[4])), True
        if found := _KANJI.fullmatch(text):
            return dt.date(int(found[1]), int(found[2]), int(found[3])), True
        if found := _ERA.fullmatch(text):
            year = 1 if found[2] == "元" else int(found[2])
            return dt.date(_ERAS[found[1]] + year - 1, int(found[3]), int(found[4])), True
        if found := _COMPACT.fullmatch(text):
            return dt.date(int(found[1]), int(found[2]), int(found[3])), False
    except ValueError:  # 2023-02-30 and the like
        return None
    return None


def birth_date(text: str, today: dt.date) -> Detection | None:
    """A date alone, between 1900 and ``today``. Ages 10 to 110 score higher than younger:
    dates of the last few years are mostly orders and events, not birthdays (the column's
    name decides those)."""
    parsed = parse_date(text)
    if parsed is None:
        return None
    day, certain = parsed
    if not dt.date(1900, 1, 1) <= day <= today:
        return None
    age = (today - day).days / 365.25
    score = 0.6 if 10 <= age <= 110 else 0.25
    if not certain:
        score -= 0.2
    return Detection(Kind.birth_date, round(score, 2))
