"""Normalisation every detector starts from: NFKC, one hyphen, digits found by look-arounds."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["digits_only", "normalize"]

# Dash-like characters people type between digits: NFKC leaves these as they are.
_DASHES = re.compile(r"(?<=\d)[\u2010-\u2015\u2212\u30fc\uff70\u2043\ufe63](?=\d)")
_SPACE = re.compile(r"\s+")


def normalize(value: str) -> str:
    """NFKC (full-width digits, letters and ＠ become ASCII), then dashes between digits become
    ``-`` and runs of white space one space, trimmed."""
    text = unicodedata.normalize("NFKC", value)
    text = _DASHES.sub("-", text)
    return _SPACE.sub(" ", text).strip()


def digits_only(value: str) -> str:
    """The digits of ``value``, in order (separators dropped)."""
    return "".join(ch for ch in value if ch.isdigit())
