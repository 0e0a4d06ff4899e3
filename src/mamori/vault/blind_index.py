"""Blind indexes: find a subject by a value without storing the value or a full hash of it.

A blind index is a keyed HMAC-SHA256 of the value's index form (see
:func:`mamori.vault.normalize.index_form`), truncated to a few bits. The key of each item is
derived from the ``blind-index`` system key, ``HMAC-SHA256(root, "mamori:blind-index\\0" +
item id)``, so the same e-mail address gives unrelated digests in two items, and digests from
two mamori installations cannot be joined.

Truncation is what makes the index *blind*: with ``bits`` bits and ``R`` indexed values, a
lookup matches on average ``C = R / 2**bits`` other values besides the one sought, and an
attacker holding the database learns only that the ``C + 1`` people sharing a digest *might*
share a value. CipherSweet's rule keeps ``2 <= C <= sqrt(R)``: at least two false candidates
per lookup (so that equal digests say little), at most the square root of the population (so
that a lookup stays cheap). :func:`index_bits` picks the largest ``bits`` within that range,
giving 2 to 4 false candidates per lookup; the vault decrypts each candidate and drops those
whose value differs.

The digest is the *leading* ``bits`` bits of the HMAC, so an index truncated to ``b`` bits is the
one of ``b + 1`` bits shifted right by one: a vault whose population outgrows its sizing can be
re-indexed from a wider stored index without decrypting anything.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
from typing import Final

__all__ = ["MAX_BITS", "MIN_BITS", "blind_index", "index_bits"]

MIN_BITS: Final = 8
"""Below 512 people the rule would ask for fewer than 8 bits; 8 keeps a lookup from scanning
more than 1/256 of a small vault, at the cost of fewer than 2 false candidates per lookup."""
MAX_BITS: Final = 32
"""Enough for 8.6 billion people at 2 false candidates each; the digest stays far inside the
signed 64-bit ``BIGINT`` column."""

_LABEL: Final = b"mamori:blind-index\x00"


def index_bits(population: int) -> int:
    """Bits of a blind index over about ``population`` values (CipherSweet's rule).

    The largest ``bits`` with ``population / 2**bits >= 2``, clamped to
    [:data:`MIN_BITS`, :data:`MAX_BITS`]: 1,000 people give 8 bits (3.9 false candidates per
    lookup), 1,000,000 give 18 (3.8), 100,000,000 give 25 (3.0).
    """
    if population < 1:
        raise ValueError("the population must be at least 1")
    bits = math.floor(math.log2(population / 2)) if population >= 2 else 0
    # floor(log2(...)) of a float can land one off near a power of two: settle it exactly.
    while bits > 0 and population < 2 << bits:
        bits -= 1
    while population >= 2 << (bits + 1):
        bits += 1
    return max(MIN_BITS, min(MAX_BITS, bits))


@functools.lru_cache(maxsize=256)
def _item_mac(key: bytes, item_id: str) -> hmac.HMAC:
    item_key = hmac.digest(key, _LABEL + item_id.encode(), "sha256")
    return hmac.new(item_key, digestmod=hashlib.sha256)


def blind_index(key: bytes, item_id: str, index_form: str, bits: int) -> int:
    """The leading ``bits`` bits of HMAC-SHA256 of ``index_form`` under ``item_id``'s key.

    A non-negative integer below ``2**bits``; ``bits`` from 1 to 63, so that it fits a signed
    ``BIGINT``.
    """
    if not 1 <= bits <= 63:
        raise ValueError(f"a blind index has 1 to 63 bits, not {bits}")
    mac = _item_mac(key, item_id).copy()
    mac.update(index_form.encode())
    return int.from_bytes(mac.digest()[:8], "big") >> (64 - bits)
