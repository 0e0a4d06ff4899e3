"""Request numbers (受付番号) that a person can read out on the phone: ``1234-5678-9012``.

Twelve digits: eleven drawn at random and a Damm check digit (python-stdnum), which catches
every single wrong digit and every swap of two neighbouring digits, so a number misheard or
mistyped is refused as a typo rather than matched to someone else's request. Digits only,
because they are read the same way in Japanese and English. People type them as they like
(full-width digits, spaces, hyphens, no hyphens); :func:`parse` takes any of those.

The number is for people; the request's id (32 hex characters) stays its key everywhere else.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Final

from stdnum import damm

from mamori.errors import UserInputError

__all__ = ["LENGTH", "format_number", "looks_like_number", "new_number", "parse"]

LENGTH: Final = 12
_BODY: Final = LENGTH - 1
_FORM: Final = re.compile(r"[0-9]{12}")
_SEPARATORS: Final = re.compile(r"[\s\-‐-―−ー]+")


def new_number() -> str:
    """A fresh random number, stored as its twelve digits (no hyphens)."""
    body = "".join(secrets.choice("0123456789") for _ in range(_BODY))
    return body + str(damm.calc_check_digit(body))


def format_number(number: str) -> str:
    """``123456789012`` as people read it: ``1234-5678-9012``."""
    return f"{number[:4]}-{number[4:8]}-{number[8:]}"


def _digits(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).strip())


def looks_like_number(text: str) -> bool:
    """Whether ``text`` is meant as a request number (twelve digits, however separated), as
    opposed to an e-mail address or an id typed into the same search box."""
    return _FORM.fullmatch(_digits(text)) is not None


def parse(text: str) -> str:
    """The stored form of a number typed by a person; a clear error when it cannot be one."""
    digits = _digits(text)
    if _FORM.fullmatch(digits) is None:
        raise UserInputError("request number: twelve digits, as in 1234-5678-9012")
    if not damm.is_valid(digits):
        raise UserInputError(
            "request number: the check digit does not match; look for a mistyped digit"
        )
    return digits
