"""Staff passwords: the policy they must meet, and argon2id hashes of them.

**Hashing.** argon2id (RFC 9106) through argon2-cffi, with the RFC's second recommended
("low-memory") profile: 64 MiB of memory, 3 passes, 4 lanes, a 16-byte random salt and a
32-byte tag. One hash takes about 50-100 ms on a 2-core server, which is what makes a stolen
table of hashes slow to guess from. The parameters are stored inside each hash (PHC string
form, ``$argon2id$v=19$m=65536,t=3,p=4$...``), so when :data:`PARAMETERS` change, old hashes
keep verifying and :func:`needs_rehash` tells the sign-in to store a new hash with the new
parameters (the password is at hand only then).

**Policy.** At least :data:`MIN_LENGTH` characters (Unicode code points, after NFC), at most
:data:`MAX_LENGTH`; nothing else is imposed (NIST SP 800-63B: length over composition rules).
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Final

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mamori.errors import WeakPassword

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "PARAMETERS",
    "check_policy",
    "dummy_verify",
    "hash_password",
    "hasher",
    "needs_rehash",
    "verify",
]

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024

PARAMETERS: Final = profiles.RFC_9106_LOW_MEMORY
"""argon2id, m=65536 KiB, t=3, p=4, salt 16 bytes, tag 32 bytes."""


@functools.cache
def hasher() -> PasswordHasher:
    """The hasher with :data:`PARAMETERS` (kept: its construction checks the parameters)."""
    return PasswordHasher.from_parameters(PARAMETERS)


def _normal(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def check_policy(password: str) -> str:
    """``password`` in normal form (NFC), or :class:`WeakPassword` saying what is wrong."""
    normal = _normal(password)
    if len(normal) < MIN_LENGTH:
        raise WeakPassword(
            f"the password is too short: use at least {MIN_LENGTH} characters "
            "(a few words make a good one)"
        )
    if len(normal) > MAX_LENGTH:
        raise WeakPassword(f"the password is too long: use at most {MAX_LENGTH} characters")
    return normal


def hash_password(password: str, *, using: PasswordHasher | None = None) -> str:
    """The argon2id hash of a password that meets the policy (checked here)."""
    return (using or hasher()).hash(check_policy(password))


def verify(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from (constant time)."""
    try:
        return hasher().verify(password_hash, _normal(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than :data:`PARAMETERS`."""
    return hasher().check_needs_rehash(password_hash)


@functools.cache
def _dummy_hash() -> str:
    return hasher().hash("mamori: no such staff account")


def dummy_verify(password: str) -> None:
    """Spend the time of one verification, for a login that names no account.

    A sign-in with an unknown login ID then takes as long as one with a wrong password, so the
    time of the answer does not tell whether an account exists.
    """
    verify(_dummy_hash(), password)
