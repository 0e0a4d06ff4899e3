"""RFC 6962 Merkle trees: published test vectors, a naive reference, and properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.audit import merkle

# The Certificate Transparency test vectors (RFC 6962 trees; also used by Go's
# transparency-dev/merkle and Trillian): eight leaves, the root of each prefix, some proofs.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CONSISTENCY = [
    (
        2,
        8,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


# -- a naive reference, written straight from the recursive definitions in RFC 6962 §2.1 -------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH over leaf *hashes* (the leaf hashing is done once by the caller)."""
    if not d:
        return _h(b"")
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], whole: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if whole else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], whole), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return [] if m in (0, len(d)) else ref_subproof(m, d, True)


SYNTHETIC = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(70)]


# -- published vectors -----------------------------------------------------------------------


def test_roots_match_the_published_vectors() -> None:
    assert merkle.EMPTY_ROOT.hex() == ROOTS[0]
    for n in range(len(LEAVES) + 1):
        assert merkle.root(HASHES[:n]).hex() == ROOTS[n]
        assert ref_mth(HASHES[:n]).hex() == ROOTS[n]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(
    index: int, size: int, path: list[str]
) -> None:
    proof = merkle.inclusion_proof(HASHES, index, size)
    assert [h.hex() for h in proof] == path
    assert merkle.verify_inclusion(HASHES[index], index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(
    old: int, new: int, path: list[str]
) -> None:
    proof = merkle.consistency_proof(HASHES, old, new)
    assert [h.hex() for h in proof] == path
    old_root, new_root = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)


def test_split_is_the_largest_power_of_two_below_n() -> None:
    expected = {2: 1, 3: 2, 4: 2, 5: 4, 8: 4, 9: 8, 1000: 512, 2**40 + 1: 2**40}
    assert {n: merkle.split(n) for n in expected} == expected


# -- against the naive reference, exhaustively for small trees --------------------------------


def test_every_root_and_path_agrees_with_the_reference() -> None:
    for n in range(1, len(SYNTHETIC) + 1):
        leaves = SYNTHETIC[:n]
        root = ref_mth(leaves)
        assert merkle.root(leaves) == root
        for m in range(n):
            path = merkle.inclusion_proof(leaves, m)
            assert path == ref_path(m, leaves)
            assert merkle.verify_inclusion(leaves[m], m, n, path, root)


def test_every_consistency_proof_agrees_with_the_reference() -> None:
    for n in range(41):
        leaves = SYNTHETIC[:n]
        for m in range(n + 1):
            proof = merkle.consistency_proof(leaves, m)
            assert proof == ref_proof(m, leaves)
            assert merkle.verify_consistency(m, n, ref_mth(leaves[:m]), ref_mth(leaves), proof)


def test_compact_range_reports_every_perfect_subtree() -> None:
    seen: dict[tuple[int, int], bytes] = {}
    tree = merkle.CompactRange()
    for leaf in SYNTHETIC:
        tree.append(leaf, lambda level, index, h: seen.__setitem__((level, index), h))
    for (level, index), h in seen.items():
        assert h == ref_mth(SYNTHETIC[index << level : (index + 1) << level])
    expected = {(lv, i) for lv in range(1, 7) for i in range(len(SYNTHETIC) >> lv)}
    assert set(seen) == expected
    resumed = merkle.CompactRange(tree.size, tree.hashes)
    assert resumed.root() == ref_mth(SYNTHETIC)


def test_range_root_assembles_subtrees() -> None:
    def perfect(level: int, index: int) -> bytes:
        return ref_mth(SYNTHETIC[index << level : (index + 1) << level])

    for start, end in [(0, 70), (64, 70), (32, 64), (68, 70), (69, 70), (0, 1)]:
        assert merkle.range_root(start, end, perfect) == ref_mth(SYNTHETIC[start:end])
    with pytest.raises(ValueError, match="not a subtree"):
        merkle.range_root(3, 7, perfect)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_proof(HASHES, 8, 8)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(HASHES, 0, 9)
    with pytest.raises(ValueError):
        merkle.consistency_proof(HASHES, 5, 3)
    with pytest.raises(ValueError):
        merkle.CompactRange(3, [HASHES[0]])
    root8 = bytes.fromhex(ROOTS[8])
    proof = merkle.inclusion_proof(HASHES, 5)
    assert not merkle.verify_inclusion(HASHES[5], 8, 8, proof, root8)
    assert not merkle.verify_inclusion(HASHES[5], -1, 8, proof, root8)
    assert not merkle.verify_inclusion(HASHES[5][:31], 5, 8, proof, root8)
    assert not merkle.verify_consistency(6, 8, root8, root8, [])
    assert merkle.verify_consistency(4, 4, root8, root8, [])
    assert not merkle.verify_consistency(4, 4, root8, bytes.fromhex(ROOTS[4]), [])
    assert merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, root8, [])
    assert not merkle.verify_consistency(0, 8, root8, root8, [])


# -- properties --------------------------------------------------------------------------------

trees = st.lists(st.binary(max_size=8), min_size=1, max_size=80).map(
    lambda data: [merkle.leaf_hash(d) for d in data]
)


@settings(max_examples=150, deadline=None)
@given(leaves=trees, data=st.data())
def test_every_inclusion_proof_verifies_and_any_change_breaks_it(
    leaves: list[bytes], data: st.DataObject
) -> None:
    n = len(leaves)
    m = data.draw(st.integers(0, n - 1))
    root = merkle.root(leaves)
    path = merkle.inclusion_proof(leaves, m)
    assert merkle.verify_inclusion(leaves[m], m, n, path, root)
    other = merkle.leaf_hash(b"changed")
    if other != leaves[m]:
        assert not merkle.verify_inclusion(other, m, n, path, root)
        changed = [*leaves[:m], other, *leaves[m + 1 :]]
        assert not merkle.verify_inclusion(leaves[m], m, n, path, merkle.root(changed))
    if path:
        i = data.draw(st.integers(0, len(path) - 1))
        flipped = bytes([path[i][0] ^ 1]) + path[i][1:]
        assert not merkle.verify_inclusion(
            leaves[m], m, n, [*path[:i], flipped, *path[i + 1 :]], root
        )
        assert not merkle.verify_inclusion(leaves[m], m, n, path[:-1], root)
    assert not merkle.verify_inclusion(leaves[m], m, n, [*path, root], root)
    if n > 1 and leaves[(m + 1) % n] != leaves[m]:
        assert not merkle.verify_inclusion(leaves[m], (m + 1) % n, n, path, root)


@settings(max_examples=150, deadline=None)
@given(leaves=trees, data=st.data())
def test_every_consistency_proof_verifies_and_a_change_breaks_it(
    leaves: list[bytes], data: st.DataObject
) -> None:
    n = len(leaves)
    m = data.draw(st.integers(1, n))
    old_root, new_root = merkle.root(leaves[:m]), merkle.root(leaves)
    proof = merkle.consistency_proof(leaves, m)
    assert merkle.verify_consistency(m, n, old_root, new_root, proof)
    if m < n:
        i = data.draw(st.integers(0, m - 1))
        other = merkle.leaf_hash(b"rewritten history")
        if other != leaves[i]:  # history before the old head rewritten: the proof fails
            rewritten = [*leaves[:i], other, *leaves[i + 1 :]]
            assert not merkle.verify_consistency(
                m, n, old_root, merkle.root(rewritten), merkle.consistency_proof(rewritten, m)
            )
        j = data.draw(st.integers(0, len(proof) - 1))
        flipped = bytes([proof[j][0] ^ 1]) + proof[j][1:]
        assert not merkle.verify_consistency(
            m, n, old_root, new_root, [*proof[:j], flipped, *proof[j + 1 :]]
        )
