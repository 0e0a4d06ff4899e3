"""Time-based one-time passwords (RFC 6238) and recovery codes: pure, no storage.

A code is 6 digits of HMAC-SHA1 over the 30-second step since the Unix epoch (what every
authenticator app computes). A code is accepted for its own step and the one before and after
(clock drift of up to 30 seconds either way), and only for a step later than the last one
accepted for the member: a code seen once, by a shoulder or a proxy, cannot be used again.
:func:`matching_step` returns the step, which the caller records
(:func:`mamori.staff.storage.take_step`).

Recovery codes are 10 random characters of the Crockford-like alphabet below (50 bits), shown
grouped ``xxxxx-xxxxx``; they are compared after :func:`normal_recovery` (case, spaces and
hyphens ignored) by a keyed hash of the account id and the code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from typing import Final

import pyotp
import segno

__all__ = [
    "DIGITS",
    "RECOVERY_CODES",
    "STEP_SECONDS",
    "code_at",
    "matching_step",
    "new_recovery_codes",
    "new_secret",
    "normal_code",
    "normal_recovery",
    "normal_secret",
    "provisioning_uri",
    "qr_svg",
    "recovery_hash",
    "step_at",
]

STEP_SECONDS: Final = 30
DIGITS: Final = 6
WINDOW: Final = 1
"""Steps accepted either side of the current one."""
RECOVERY_CODES: Final = 10
_RECOVERY_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH: Final = 10
_CODE = re.compile(r"[0-9]{6}")
_RECOVERY = re.compile(f"[{_RECOVERY_ALPHABET}]{{{_RECOVERY_LENGTH}}}")
_SECRET = re.compile(r"[A-Z2-7]{32}")
_SEPARATORS = re.compile(r"[\s\-]+")
_RECOVERY_LABEL: Final = b"mamori:staff-recovery\x00"


def new_secret() -> str:
    """A new random secret: 32 base32 characters (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def normal_secret(text: str) -> str:
    """A secret as given (spaces and case ignored); :class:`ValueError` unless 32 base32
    characters."""
    secret = _SEPARATORS.sub("", text).upper()
    if not _SECRET.fullmatch(secret):
        raise ValueError("a TOTP secret is 32 characters of A-Z and 2-7")
    return secret


def step_at(now: dt.datetime) -> int:
    """The 30-second step ``now`` falls in."""
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The 6-digit code of ``step``."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def normal_code(text: str) -> str | None:
    """The 6 digits of a code as typed (full-width digits and spaces allowed), or ``None``."""
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    return code if _CODE.fullmatch(code) else None


def matching_step(secret: str, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The step within the window whose code ``code`` is and which is later than
    ``last_step``; ``None`` when there is none (wrong, too old, or already used)."""
    current = step_at(now)
    found: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        # Compare every step (constant work), keep the first later than the last one used.
        same = hmac.compare_digest(code_at(secret, step), code)
        if same and found is None and (last_step is None or step > last_step):
            found = step
    return found


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline ``<svg>`` element (drawn here: nothing to download)."""
    svg: str = segno.make(uri, error="m", micro=False).svg_inline(
        scale=4, dark="#000", light="#fff", omitsize=False
    )
    return svg


def new_recovery_codes() -> list[str]:
    """:data:`RECOVERY_CODES` new random recovery codes, as shown (``xxxxx-xxxxx``)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normal_recovery(text: str) -> str | None:
    """A recovery code as typed (case, spaces and hyphens ignored), or ``None`` if it cannot
    be one."""
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).lower()
    return code if _RECOVERY.fullmatch(code) else None


def recovery_hash(key: bytes, staff_id: str, code: str) -> bytes:
    """The keyed hash stored for a recovery code (``code`` already normalised)."""
    message = _RECOVERY_LABEL + staff_id.encode("ascii") + b"\x00" + code.encode("ascii")
    return hmac.new(key, message, hashlib.sha256).digest()
