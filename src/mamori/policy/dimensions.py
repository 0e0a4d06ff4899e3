"""The group a value falls in, for each way a dimension derives it (pure, no I/O).

``prefecture``: the prefecture of an address, from its ``prefecture`` field or from the start of
an address written as one line (``東京都千代田区...``); ``age_band``: the ten-year band of a date
of birth on a given day (``30-39``; 90 and over is ``90+``); ``month``: the month of a time in
the operator's time zone (``2026-05``); ``value``: the value itself, trimmed to 64 characters.
A value that yields no group (no address held, a line that names no prefecture) is ``None``:
its people are counted in the cell of the unknown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo

from mamori.policy.statistics import Derive

__all__ = ["PREFECTURES", "age_band", "age_of", "group_of", "month", "prefecture"]

PREFECTURES: Final = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)  # fmt: skip
"""The 47 prefectures in the order of their JIS X 0401 codes."""

_BY_PREFIX: Final = {p[:2]: p for p in PREFECTURES}  # the first two characters tell them apart


def prefecture(value: Any) -> str | None:
    """The prefecture of an address (a mapping with ``prefecture``, or one line of text)."""
    if isinstance(value, Mapping):
        value = value.get("prefecture") or value.get("line1") or ""
    if not isinstance(value, str):
        return None
    text = value.strip().lstrip("〒0123456789-− 　")
    found = _BY_PREFIX.get(text[:2])
    if found is None or not text.startswith(found[:-1]):
        return None
    return found


def age_of(value: Any, today: dt.date) -> int | None:
    """The age on ``today`` of a date of birth (YYYY-MM-DD), or None for a value that is not
    one."""
    try:
        born = dt.date.fromisoformat(str(value))
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def age_band(value: Any, today: dt.date) -> str | None:
    """The ten-year age band of a date of birth (YYYY-MM-DD) on ``today``."""
    age = age_of(value, today)
    if age is None or age < 0:
        return None
    if age >= 90:
        return "90+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def month(at: dt.datetime, zone: str) -> str:
    """The month of ``at`` (timezone-aware) in the time zone ``zone``: ``2026-05``."""
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m")


def group_of(
    derive: Derive, value: Any, *, today: dt.date, at: dt.datetime | None, zone: str
) -> str | None:
    """The group of ``value`` (``at``: the time a ``month`` dimension reads)."""
    if derive is Derive.prefecture:
        return prefecture(value)
    if derive is Derive.age_band:
        return age_band(value, today)
    if derive is Derive.month:
        return month(at, zone) if at is not None else None
    if value is None:
        return None
    return str(value).strip()[:64] or None
