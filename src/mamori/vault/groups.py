"""Group tokens: the statistics group of an item (its prefecture, its value), kept beside the item
as a deterministic ciphertext, so that a count grouped by it is a GROUP BY in the database.

An item is encrypted under its person's own data key, so counting by it would mean unwrapping
every person's key and decrypting every value. For the derivations a statistics-only purpose
groups by that do not change with the day (:data:`mamori.policy.statistics.TOKENISED`), the vault
also writes, in the same transaction as the item, the *group* the value falls in (``東京都``, not
the address), encrypted with AES-SIV under one installation key (the system key
``statistics-groups``, expanded by HKDF to AES-256-SIV's 64 bytes) and bound to the item and the
derivation as associated data. AES-SIV is deterministic: one group has one token, so the
database counts tokens and mamori decrypts each distinct token once (47 prefectures, not a
million addresses).

What this gives away, and to whom: someone who can read the database (not the master key) sees
which people share a group, for example that two people live in the same prefecture, and by the
sizes of the groups can guess the largest (Tokyo). They learn no group's name, and nothing finer
than the group: the address stays under the person's key. The token is written only for items a
statistics-only purpose declares a dimension of, is replaced with the item, deleted with it, and
deleted with the person when they withdraw; destroying the system key makes every token noise.
Each token row carries its item's ``updated_at``: a row that does not match its item (written
before a policy declared the dimension, or by a process that did not know it yet) is not used,
and the value is decrypted and its token rewritten instead (:func:`mamori.vault.aggregate.grouped`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mamori.policy.dimensions import group_of
from mamori.policy.statistics import TOKENISED, Derive

__all__ = ["KEY_NAME", "GroupTokens"]

KEY_NAME: Final = "statistics-groups"
_KNOWN: Final = b"g"
_UNKNOWN: Final = b"-"
_INFO: Final = b"mamori:statistics-groups:aes-siv"
_NO_DAY: Final = dt.date(1970, 1, 1)
"""A tokenised derivation reads no day; group_of asks for one all the same."""
_MISSING: Final = object()


class GroupTokens:
    """Tokens of groups under one installation key (``key``: the system key's 32 bytes)."""

    def __init__(self, key: bytes) -> None:
        expanded = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_INFO).derive(key)
        self._siv = AESSIV(expanded)
        self._labels: dict[bytes, str | None] = {}

    @staticmethod
    def _bound(item_id: str, derive: Derive) -> list[bytes]:
        return [item_id.encode(), derive.value.encode()]

    def token(self, item_id: str, derive: Derive, group: str | None) -> bytes:
        """The token of ``group`` (None: the value names no group) of ``item_id``."""
        plain = _UNKNOWN if group is None else _KNOWN + group.encode()
        return self._siv.encrypt(plain, self._bound(item_id, derive))

    def of_value(self, item_id: str, derive: Derive, value: Any) -> bytes:
        """The token of the group ``value`` falls in."""
        if derive not in TOKENISED:  # pragma: no cover - callers pass declared derivations
            raise ValueError(f"derivation '{derive}' depends on the day and is not tokenised")
        group = group_of(derive, value, today=_NO_DAY, at=None, zone="UTC")
        return self.token(item_id, derive, group)

    def tokens(
        self, item_id: str, derives: Sequence[Derive], value: Any
    ) -> list[tuple[Derive, bytes]]:
        return [(d, self.of_value(item_id, d, value)) for d in derives]

    def group(self, item_id: str, derive: Derive, token: bytes) -> str | None:
        """The group a token stands for (decrypted once per distinct token and kept)."""
        cached = self._labels.get(token, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        plain = self._siv.decrypt(token, self._bound(item_id, derive))
        label = None if plain == _UNKNOWN else plain[len(_KNOWN) :].decode()
        if len(self._labels) < 100_000:
            self._labels[token] = label
        return label

    def groups(
        self, item_id: str, derive: Derive, tokens: Mapping[bytes, int]
    ) -> dict[str | None, int]:
        """Counts per token folded into counts per group."""
        out: dict[str | None, int] = {}
        for token, count in tokens.items():
            label = self.group(item_id, derive, token)
            out[label] = out.get(label, 0) + count
        return out
