"""Envelope encryption: values under a per-subject data key, data keys under the master key.

Both layers are AES-256-GCM with random 96-bit nonces (``os.urandom``), and both bind what they
protect to where it belongs with associated data, so a ciphertext copied into another row, item
or subject fails to decrypt instead of decrypting to someone else's value.

Wrapped key (a data key or a system key under a master key), 65 bytes::

    0x01 | master version (4 bytes, big-endian) | nonce (12) | AES-GCM(key) + tag (32 + 16)
    associated data: b"mamori:wrap\\0" | first 5 bytes | context (UTF-8)

Encrypted value, 33 bytes plus the plaintext::

    0x01 | data-key version (4 bytes, big-endian) | nonce (12) | AES-GCM(plaintext) + tag (16)
    associated data: b"mamori:value\\0" | first 5 bytes | len(subject id) (2 bytes) | subject id
                     | item id

The context of a wrapped key names its owner (``subject:<id>``, ``system:<name>``); the item of
a usage event is ``event``. Every failure raises :class:`~mamori.errors.DecryptionFailed` naming
only these IDs.

Speed: building an :class:`AESGCM` costs about as much as one decryption, so master-key ciphers
are cached here, and :func:`encrypt` and :func:`decrypt` accept either key bytes or a cipher made
once by :func:`data_cipher` (the vault keeps an LRU of those, keyed by subject and wrapped key).
"""

from __future__ import annotations

import functools
import os
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamori.errors import DecryptionFailed

__all__ = [
    "DATA_KEY_BYTES",
    "VALUE_OVERHEAD",
    "WRAPPED_KEY_BYTES",
    "DataKey",
    "MasterKeySource",
    "ciphertext_key_version",
    "data_cipher",
    "decrypt",
    "encrypt",
    "new_data_key",
    "rewrap_key",
    "unwrap_cipher",
    "unwrap_key",
    "wrap_key",
    "wrapped_version",
]

DATA_KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
HEADER_BYTES: Final = 5  # format byte + 4-byte version
WRAP_FORMAT: Final = 1
VALUE_FORMAT: Final = 1
WRAPPED_KEY_BYTES: Final = HEADER_BYTES + NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES
VALUE_OVERHEAD: Final = HEADER_BYTES + NONCE_BYTES + TAG_BYTES
"""Bytes an encrypted value adds to its plaintext."""

_MAX_VERSION: Final = 2**32 - 1
_WRAP_LABEL: Final = b"mamori:wrap\x00"
_VALUE_LABEL: Final = b"mamori:value\x00"
_NONCE_END: Final = HEADER_BYTES + NONCE_BYTES

DataKey = bytes | AESGCM
"""A data key as raw bytes, or as the cipher :func:`data_cipher` made from them."""


class MasterKeySource(Protocol):
    """What the envelope needs of the master keys (:class:`mamori.keyring.MasterKeys` is one)."""

    @property
    def current_version(self) -> int: ...

    def get(self, version: int) -> bytes: ...


def new_data_key() -> bytes:
    """32 random bytes from the operating system's CSPRNG."""
    return os.urandom(DATA_KEY_BYTES)


@functools.lru_cache(maxsize=32)
def _master_cipher(key: bytes) -> AESGCM:
    # Master keys are few (one per version); caching their ciphers saves a key schedule per call.
    return AESGCM(key)


def data_cipher(data_key: bytes) -> AESGCM:
    """The cipher of a data key, to reuse across many :func:`encrypt` and :func:`decrypt` calls."""
    if len(data_key) != DATA_KEY_BYTES:
        raise ValueError(f"a data key has {DATA_KEY_BYTES} bytes, not {len(data_key)}")
    return AESGCM(data_key)


def _cipher(data_key: DataKey) -> AESGCM:
    return data_key if isinstance(data_key, AESGCM) else data_cipher(data_key)


def _header(fmt: int, version: int) -> bytes:
    if not 0 <= version <= _MAX_VERSION:
        raise ValueError(f"key version {version} does not fit in 4 bytes")
    return bytes((fmt,)) + version.to_bytes(4, "big")


# -- wrapping keys under the master key --------------------------------------------------------


def wrap_key(keys: MasterKeySource, data_key: bytes, *, context: str) -> bytes:
    """``data_key`` encrypted by the current master key, bound to ``context``."""
    if len(data_key) != DATA_KEY_BYTES:
        raise ValueError(f"a data key has {DATA_KEY_BYTES} bytes, not {len(data_key)}")
    version = keys.current_version
    header = _header(WRAP_FORMAT, version)
    nonce = os.urandom(NONCE_BYTES)
    # get(version), not .current: keys that reload between two reads must not mix versions.
    sealed = _master_cipher(keys.get(version)).encrypt(
        nonce, data_key, _WRAP_LABEL + header + context.encode()
    )
    return header + nonce + sealed


def wrapped_version(wrapped: bytes) -> int:
    """The master-key version that wrapped ``wrapped`` (read from its header)."""
    if len(wrapped) != WRAPPED_KEY_BYTES or wrapped[0] != WRAP_FORMAT:
        raise DecryptionFailed("not a wrapped key of a known format")
    return int.from_bytes(wrapped[1:HEADER_BYTES], "big")


def unwrap_key(keys: MasterKeySource, wrapped: bytes, *, context: str) -> bytes:
    """The data key in ``wrapped``; :class:`DecryptionFailed` if it is not ``context``'s.

    A master-key version missing from ``keys`` raises :class:`~mamori.errors.KeyFileError`.
    """
    if len(wrapped) != WRAPPED_KEY_BYTES or wrapped[0] != WRAP_FORMAT:
        raise DecryptionFailed(f"{context}: the stored key is not a wrapped key of a known format")
    header = wrapped[:HEADER_BYTES]
    cipher = _master_cipher(keys.get(int.from_bytes(wrapped[1:HEADER_BYTES], "big")))
    try:
        return cipher.decrypt(
            wrapped[HEADER_BYTES:_NONCE_END],
            wrapped[_NONCE_END:],
            _WRAP_LABEL + header + context.encode(),
        )
    except InvalidTag:
        raise DecryptionFailed(
            f"{context}: the stored key does not unwrap (a wrong master key, "
            "or a wrapped key moved from another row)"
        ) from None


def unwrap_cipher(keys: MasterKeySource, wrapped: bytes, *, context: str) -> AESGCM:
    """:func:`unwrap_key`, returned as a reusable cipher (see :func:`data_cipher`)."""
    return AESGCM(unwrap_key(keys, wrapped, context=context))


def rewrap_key(keys: MasterKeySource, wrapped: bytes, *, context: str) -> bytes:
    """``wrapped`` under the current master version; unchanged if it already is."""
    if wrapped_version(wrapped) == keys.current_version:
        return wrapped
    return wrap_key(keys, unwrap_key(keys, wrapped, context=context), context=context)


# -- values under a data key -------------------------------------------------------------------


def _value_ad(header: bytes, subject_id: str, item_id: str) -> bytes:
    subject = subject_id.encode()
    return b"".join(
        (_VALUE_LABEL, header, len(subject).to_bytes(2, "big"), subject, item_id.encode())
    )


def encrypt(
    data_key: DataKey, plaintext: bytes, *, subject_id: str, item_id: str, key_version: int = 1
) -> bytes:
    """``plaintext`` encrypted for ``subject_id``'s ``item_id`` under data key ``key_version``."""
    header = _header(VALUE_FORMAT, key_version)
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(data_key).encrypt(nonce, plaintext, _value_ad(header, subject_id, item_id))
    return header + nonce + sealed


def ciphertext_key_version(ciphertext: bytes) -> int:
    """The data-key version a value was encrypted under (read from its header)."""
    if len(ciphertext) < VALUE_OVERHEAD or ciphertext[0] != VALUE_FORMAT:
        raise DecryptionFailed("not an encrypted value of a known format")
    return int.from_bytes(ciphertext[1:HEADER_BYTES], "big")


def decrypt(data_key: DataKey, ciphertext: bytes, *, subject_id: str, item_id: str) -> bytes:
    """The plaintext of ``ciphertext``; :class:`DecryptionFailed` unless it is this item's."""
    if len(ciphertext) < VALUE_OVERHEAD or ciphertext[0] != VALUE_FORMAT:
        raise DecryptionFailed(
            f"subject {subject_id} item {item_id}: not an encrypted value of a known format"
        )
    header = ciphertext[:HEADER_BYTES]
    try:
        return _cipher(data_key).decrypt(
            ciphertext[HEADER_BYTES:_NONCE_END],
            ciphertext[_NONCE_END:],
            _value_ad(header, subject_id, item_id),
        )
    except InvalidTag:
        raise DecryptionFailed(
            f"subject {subject_id} item {item_id}: the value does not decrypt (a wrong data "
            "key, or a ciphertext moved from another subject or item)"
        ) from None
