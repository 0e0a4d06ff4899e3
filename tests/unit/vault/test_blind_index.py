"""Blind indexes: sizing by the CipherSweet rule, range, distribution, separation by item."""

from __future__ import annotations

import collections
import math
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamori.vault.blind_index import MAX_BITS, MIN_BITS, blind_index, index_bits

KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("population", "bits"),
    [
        (1, MIN_BITS),
        (100, MIN_BITS),
        (1_000, 8),
        (1_024, 9),
        (1_023, 8),
        (100_000, 15),
        (1_000_000, 18),
        (100_000_000, 25),
        (10**12, MAX_BITS),
    ],
)
def test_index_bits(population: int, bits: int) -> None:
    assert index_bits(population) == bits


@given(st.integers(min_value=512, max_value=2**33))
def test_index_bits_keeps_a_few_false_candidates(population: int) -> None:
    bits = index_bits(population)
    coincidences = population / 2**bits
    assert 2 <= coincidences < 4
    assert coincidences <= math.sqrt(population)


def test_index_bits_refuses_an_empty_population() -> None:
    with pytest.raises(ValueError):
        index_bits(0)


@given(form=st.text(), bits=st.integers(1, 63), item=st.sampled_from(["email", "phone"]))
def test_a_digest_fits_its_bits_and_a_signed_bigint(form: str, bits: int, item: str) -> None:
    digest = blind_index(KEY, item, form, bits)
    assert 0 <= digest < 2**bits <= 2**63


@given(form=st.text(), bits=st.integers(1, 62))
def test_a_shorter_index_is_a_prefix_of_a_longer_one(form: str, bits: int) -> None:
    assert blind_index(KEY, "email", form, bits) == blind_index(KEY, "email", form, bits + 1) >> 1


def test_the_same_value_in_two_items_gives_unrelated_digests() -> None:
    forms = [f"user{i}@example.jp" for i in range(200)]
    same = sum(
        blind_index(KEY, "email", f, 32) == blind_index(KEY, "work_email", f, 32) for f in forms
    )
    assert same == 0


def test_another_key_gives_unrelated_digests() -> None:
    other = os.urandom(32)
    forms = [f"user{i}@example.jp" for i in range(200)]
    assert (
        sum(blind_index(KEY, "email", f, 32) == blind_index(other, "email", f, 32) for f in forms)
        == 0
    )


def test_deterministic() -> None:
    assert blind_index(KEY, "email", "taro@example.jp", 20) == blind_index(
        bytes(KEY), "email", "taro@example.jp", 20
    )


def test_digests_spread_evenly() -> None:
    bits, count = 8, 25_600
    buckets = collections.Counter(
        blind_index(KEY, "email", f"u{i}@example.jp", bits) for i in range(count)
    )
    expected = count / 2**bits  # 100 per bucket
    assert len(buckets) == 2**bits
    chi2 = sum((buckets[b] - expected) ** 2 / expected for b in range(2**bits))
    # 255 degrees of freedom: mean 255, standard deviation about 22.6; 400 is far out.
    assert chi2 < 400
    assert min(buckets.values()) > expected / 2
    assert max(buckets.values()) < expected * 1.6


@pytest.mark.parametrize("bits", [0, 64, -1])
def test_bits_out_of_range(bits: int) -> None:
    with pytest.raises(ValueError):
        blind_index(KEY, "email", "x", bits)
