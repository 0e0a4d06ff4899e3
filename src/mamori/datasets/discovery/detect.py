"""One value in, the kinds it holds out: every detector after NFKC, with the column's name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from mamori.datasets.discovery import contact, dates, names, numbers
from mamori.datasets.discovery.kinds import Detection, Kind
from mamori.datasets.discovery.text import normalize

__all__ = ["THRESHOLD", "best_kind", "detect"]

THRESHOLD = 0.5
"""A value is taken to be of a kind when its detection scores at least this."""

_HINT_BOOST = 0.3
_MAX_CHARS = 2000

_PLAIN: tuple[Callable[[str], Detection | None], ...] = (
    contact.email,
    contact.phone,
    contact.postal_code,
    contact.address,
    numbers.my_number,
    numbers.corporate_number,
    numbers.card_number,
)


def detect(
    value: str,
    *,
    today: dt.date,
    hints: frozenset[Kind] = frozenset(),
    analyser: names.NameAnalyser | None = None,
) -> list[Detection]:
    """Every kind recognised in ``value``, best first. A kind the column's name suggests
    (``hints``) scores higher; without an ``analyser`` a person's name is recognised only by a
    hinted column's name and the value's shape."""
    text = normalize(value[:_MAX_CHARS])
    if not text:
        return []
    found = [d for detector in _PLAIN if (d := detector(text)) is not None]
    if (birth := dates.birth_date(text, today)) is not None:
        found.append(birth)
    if analyser is not None and (name := names.person_name(text, analyser)) is not None:
        found.append(name)
    if Kind.person_name in hints and not found and names.looks_like_a_name(text):
        found.append(Detection(Kind.person_name, 0.6 if analyser is None else 0.5))
    boosted = [_boost(d) if d.kind in hints else d for d in found]
    return sorted(boosted, key=lambda d: (d.whole, d.score), reverse=True)


def _boost(detection: Detection) -> Detection:
    if detection.check_digit is False:
        return detection  # a failed check digit stays a failed check digit
    return Detection(
        detection.kind,
        min(0.99, detection.score + _HINT_BOOST),
        whole=detection.whole,
        check_digit=detection.check_digit,
    )


def best_kind(detections: list[Detection]) -> Kind | None:
    """The kind a whole value is taken to be, or ``None``."""
    for detection in detections:
        if detection.whole and detection.score >= THRESHOLD:
            return detection.kind
    return None
