"""Envelope encryption: round trips, formats, and ciphertexts bound to where they belong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.errors import DecryptionFailed, KeyFileError
from mamori.keyring import MasterKeys
from mamori.vault import crypto

V1 = MasterKeys({1: bytes(range(32))}, "test")
V12 = MasterKeys({1: bytes(range(32)), 2: bytes(range(32, 64))}, "test")

ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


@given(
    plaintext=st.binary(max_size=2000),
    subject_id=ids,
    item_id=ids,
    version=st.integers(0, 2**32 - 1),
)
def test_encrypt_decrypt_round_trip(
    plaintext: bytes, subject_id: str, item_id: str, version: int
) -> None:
    key = crypto.new_data_key()
    ct = crypto.encrypt(key, plaintext, subject_id=subject_id, item_id=item_id, key_version=version)
    assert len(ct) == len(plaintext) + crypto.VALUE_OVERHEAD
    assert ct[0] == 1
    assert crypto.ciphertext_key_version(ct) == version
    assert crypto.decrypt(key, ct, subject_id=subject_id, item_id=item_id) == plaintext
    cipher = crypto.data_cipher(key)
    assert crypto.decrypt(cipher, ct, subject_id=subject_id, item_id=item_id) == plaintext


@given(data_key=st.binary(min_size=32, max_size=32), context=ids)
def test_wrap_unwrap_round_trip(data_key: bytes, context: str) -> None:
    wrapped = crypto.wrap_key(V12, data_key, context=context)
    assert len(wrapped) == crypto.WRAPPED_KEY_BYTES == 65
    assert wrapped[0] == 1
    assert crypto.wrapped_version(wrapped) == 2
    assert crypto.unwrap_key(V12, wrapped, context=context) == data_key


def test_new_data_keys_are_random_32_bytes() -> None:
    keys = {crypto.new_data_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(k) == 32 for k in keys)


def test_same_plaintext_twice_gives_different_ciphertexts() -> None:
    key = crypto.new_data_key()
    a = crypto.encrypt(key, b"same", subject_id="s1", item_id="email")
    b = crypto.encrypt(key, b"same", subject_id="s1", item_id="email")
    assert a != b
    assert a[5:17] != b[5:17]  # fresh nonces


@pytest.mark.parametrize(
    ("subject_id", "item_id"), [("s2", "email"), ("s1", "phone"), ("s", "1email")]
)
def test_a_ciphertext_moved_to_another_row_or_item_fails(subject_id: str, item_id: str) -> None:
    key = crypto.new_data_key()
    ct = crypto.encrypt(key, b"taro@example.jp", subject_id="s1", item_id="email")
    with pytest.raises(DecryptionFailed) as caught:
        crypto.decrypt(key, ct, subject_id=subject_id, item_id=item_id)
    message = str(caught.value)
    assert subject_id in message and item_id in message
    assert "taro" not in message


def test_a_ciphertext_under_another_subjects_key_fails() -> None:
    ct = crypto.encrypt(crypto.new_data_key(), b"x", subject_id="s1", item_id="email")
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(crypto.new_data_key(), ct, subject_id="s1", item_id="email")


@pytest.mark.parametrize("position", [0, 1, 4, 5, 16, 17, -1])
def test_any_changed_byte_fails(position: int) -> None:
    key = crypto.new_data_key()
    ct = bytearray(crypto.encrypt(key, b"value", subject_id="s1", item_id="email"))
    ct[position] ^= 0x01
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(key, bytes(ct), subject_id="s1", item_id="email")


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02" + bytes(40), bytes(32)])
def test_malformed_ciphertexts_fail_cleanly(blob: bytes) -> None:
    with pytest.raises(DecryptionFailed, match="s1 item email"):
        crypto.decrypt(crypto.new_data_key(), blob, subject_id="s1", item_id="email")


def test_a_wrapped_key_is_bound_to_its_context() -> None:
    wrapped = crypto.wrap_key(V1, crypto.new_data_key(), context="subject:a")
    with pytest.raises(DecryptionFailed, match="subject:b"):
        crypto.unwrap_key(V1, wrapped, context="subject:b")
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_key(V1, wrapped, context="system:a")


def test_the_wrap_header_is_authenticated() -> None:
    wrapped = bytearray(crypto.wrap_key(V12, crypto.new_data_key(), context="subject:a"))
    wrapped[4] = 1  # claim version 1: the key is there, but the associated data differs
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_key(V12, bytes(wrapped), context="subject:a")


def test_unwrap_needs_the_version_that_wrapped() -> None:
    wrapped = crypto.wrap_key(V12, crypto.new_data_key(), context="subject:a")
    with pytest.raises(KeyFileError, match="version 2 is missing"):
        crypto.unwrap_key(V1, wrapped, context="subject:a")


def test_unwrap_with_the_wrong_master_key_fails() -> None:
    other = MasterKeys({2: bytes(32)}, "other")
    wrapped = crypto.wrap_key(V12, crypto.new_data_key(), context="subject:a")
    with pytest.raises(DecryptionFailed, match="does not unwrap"):
        crypto.unwrap_key(other, wrapped, context="subject:a")


@pytest.mark.parametrize("blob", [b"", bytes(65), b"\x02" + bytes(64), b"\x01" + bytes(10)])
def test_malformed_wrapped_keys_fail_cleanly(blob: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_key(V1, blob, context="subject:a")
    with pytest.raises(DecryptionFailed):
        crypto.wrapped_version(blob)


def test_rewrap_moves_to_the_current_version_and_keeps_the_key() -> None:
    data_key = crypto.new_data_key()
    old = crypto.wrap_key(V1, data_key, context="subject:a")
    assert crypto.rewrap_key(V1, old, context="subject:a") is old
    new = crypto.rewrap_key(V12, old, context="subject:a")
    assert crypto.wrapped_version(new) == 2
    assert crypto.unwrap_key(V12, new, context="subject:a") == data_key
    assert crypto.rewrap_key(V12, new, context="subject:a") is new


def test_unwrap_cipher_decrypts() -> None:
    data_key = crypto.new_data_key()
    wrapped = crypto.wrap_key(V1, data_key, context="subject:a")
    ct = crypto.encrypt(data_key, b"v", subject_id="a", item_id="email")
    cipher = crypto.unwrap_cipher(V1, wrapped, context="subject:a")
    assert crypto.decrypt(cipher, ct, subject_id="a", item_id="email") == b"v"


def test_bad_key_lengths_and_versions_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        crypto.wrap_key(V1, bytes(16), context="subject:a")
    with pytest.raises(ValueError):
        crypto.data_cipher(bytes(31))
    with pytest.raises(ValueError):
        crypto.encrypt(crypto.new_data_key(), b"", subject_id="a", item_id="b", key_version=2**32)
