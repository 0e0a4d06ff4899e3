"""Password policy and argon2id hashing (no database)."""

from __future__ import annotations

import unicodedata

import pytest
from argon2 import PasswordHasher, Type

from mamori.errors import WeakPassword
from mamori.staff import passwords


def test_short_passwords_are_refused_with_one_clear_line() -> None:
    with pytest.raises(WeakPassword) as caught:
        passwords.check_policy("elevenchars")
    assert str(caught.value) == (
        "the password is too short: use at least 12 characters (a few words make a good one)"
    )
    assert "elevenchars" not in str(caught.value)
    assert passwords.check_policy("twelve chars") == "twelve chars"
    assert passwords.check_policy("パスワードは十二文字以上です") == "パスワードは十二文字以上です"
    with pytest.raises(WeakPassword):
        passwords.check_policy("x" * (passwords.MAX_LENGTH + 1))


def test_hashes_are_argon2id_with_the_documented_parameters() -> None:
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.hash_password("correct horse battery") != hashed  # a fresh salt each time
    assert passwords.verify(hashed, "correct horse battery")
    assert not passwords.verify(hashed, "correct horse batterY")
    assert not passwords.verify("not a hash", "correct horse battery")
    assert not passwords.needs_rehash(hashed)


def test_equivalent_unicode_forms_verify_alike() -> None:
    composed = unicodedata.normalize("NFC", "がぎぐげごパスワードです")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert passwords.verify(passwords.hash_password(composed), decomposed)


def test_hashes_made_with_other_parameters_need_rehashing() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    old = passwords.hash_password("correct horse battery", using=weak)
    assert passwords.verify(old, "correct horse battery")  # still verifies
    assert passwords.needs_rehash(old)
