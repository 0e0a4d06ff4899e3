"""A column judged from a sample of its values and its name: the kind it holds, how sure, and
the kinds its free text mentions. Pure; it keeps counts, never values."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from mamori.datasets.discovery.detect import THRESHOLD, detect
from mamori.datasets.discovery.hints import hinted_kinds
from mamori.datasets.discovery.kinds import Kind
from mamori.datasets.discovery.names import NameAnalyser

__all__ = ["MIN_SHARE", "ColumnFinding", "judge_column"]

MIN_SHARE = 0.6
"""The share of a column's sampled values that must be of one kind for the column to be."""

_MIN_SHARE_HINTED = 0.3


@dataclass(frozen=True, slots=True)
class ColumnFinding:
    """What discovery found in one column (counts only, no value)."""

    table: str
    column: str
    sampled: int
    """Values read (empty ones and NULLs included)."""
    non_empty: int
    kind: Kind | None
    confidence: float
    """The share of non-empty values of ``kind`` times their mean score, 0 to 1."""
    matched: int = 0
    hinted: bool = False
    """Whether the column's name suggests ``kind``."""
    check_digits: tuple[int, int] | None = None
    """Values of the kind whose check digit holds, and those whose check digit fails."""
    mentions: dict[Kind, int] = field(default_factory=dict)
    """For free text: the number of values that mention each kind."""

    @property
    def level(self) -> str:
        return "high" if self.confidence >= 0.8 else "medium" if self.confidence >= 0.5 else "low"


def judge_column(
    table: str,
    column: str,
    values: Iterable[object],
    *,
    today: dt.date,
    analyser: NameAnalyser | None,
) -> ColumnFinding:
    """The kind most of the sampled ``values`` are of, if enough are (60 %, or 30 % when the
    column's name suggests that kind), with the check-digit counts and free text's mentions."""
    hints = hinted_kinds(column)
    sampled = non_empty = 0
    whole: Counter[Kind] = Counter()
    scores: dict[Kind, float] = defaultdict(float)
    mentions: Counter[Kind] = Counter()
    valid: Counter[Kind] = Counter()
    invalid: Counter[Kind] = Counter()
    for raw in values:
        sampled += 1
        text = _text(raw)
        if not text.strip():
            continue
        non_empty += 1
        seen: set[Kind] = set()
        for detection in detect(text, today=today, hints=hints, analyser=analyser):
            if detection.kind in seen:
                continue
            seen.add(detection.kind)
            if detection.check_digit is not None and detection.whole:
                (valid if detection.check_digit else invalid)[detection.kind] += 1
            if detection.score < THRESHOLD:
                continue
            if detection.whole:
                whole[detection.kind] += 1
                scores[detection.kind] += detection.score
            else:
                mentions[detection.kind] += 1
    best: Kind | None = None
    confidence = 0.0
    for kind, count in whole.items():
        share = count / non_empty
        if share < (_MIN_SHARE_HINTED if kind in hints else MIN_SHARE):
            continue
        score = share * scores[kind] / count
        if score > confidence:
            best, confidence = kind, score
    checks = None
    if best is not None and (valid[best] or invalid[best]):
        checks = (valid[best], invalid[best])
    return ColumnFinding(
        table=table,
        column=column,
        sampled=sampled,
        non_empty=non_empty,
        kind=best,
        confidence=round(confidence, 2),
        matched=whole[best] if best else 0,
        hinted=best in hints,
        check_digits=checks,
        mentions={k: n for k, n in sorted(mentions.items()) if best is None or k is not best},
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return ""  # binary columns are not read as text
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)
