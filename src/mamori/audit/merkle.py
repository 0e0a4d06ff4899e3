"""Merkle trees exactly as RFC 6962 (Certificate Transparency) defines them. Pure, no I/O.

* leaf hash ``SHA-256(0x00 || data)``, interior node ``SHA-256(0x01 || left || right)``;
* the tree over ``n`` leaves splits at ``k``, the largest power of two smaller than ``n``;
* the root of the empty tree is ``SHA-256("")``.

Leaves are numbered from 0 here (the audit log numbers its entries from 1). Functions take leaf
*hashes*. Proof generation takes a ``subtree(start, end)`` callback returning the root of the
leaves ``[start, end)`` so that the same code serves an in-memory list and a database that keeps
the hashes of perfect subtrees (:func:`range_root`). Verification follows RFC 9162, section 2.1.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Final

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "consistency_path",
    "consistency_proof",
    "inclusion_path",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_root",
    "root",
    "root_from_inclusion",
    "split",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

Subtree = Callable[[int, int], bytes]
"""``subtree(start, end)``: the root hash of leaves ``start .. end - 1``."""
Perfect = Callable[[int, int], bytes]
"""``perfect(level, index)``: the root of the ``2**level`` leaves from ``index * 2**level``."""
NodeSink = Callable[[int, int, bytes], None]
"""``sink(level, index, hash)``: told of each perfect subtree as it is completed."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``): where RFC 6962 splits."""
    if n < 2:
        raise ValueError("a tree of fewer than 2 leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """A growing tree kept as the roots of its perfect subtrees (O(log n) hashes).

    Appending is amortised one node hash per leaf; :meth:`root` costs O(log n). This is how the
    audit log computes the tree head at every checkpoint while streaming its entries once.
    """

    __slots__ = ("_stack", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} perfect subtrees")
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError("hashes must be 32 bytes")
        self.size = size
        self._stack = list(hashes)

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The roots of the perfect subtrees, largest (leftmost) first."""
        return tuple(self._stack)

    def append(self, leaf: bytes, sink: NodeSink | None = None, min_level: int = 1) -> None:
        """Add a leaf hash; tell ``sink`` of completed perfect subtrees of ``min_level`` and up."""
        stack = self._stack
        h = leaf
        n = self.size
        level = 0
        while n & 1:
            h = hashlib.sha256(b"\x01" + stack.pop() + h).digest()
            n >>= 1
            level += 1
            if sink is not None and level >= min_level:
                sink(level, ((self.size + 1) >> level) - 1, h)
        stack.append(h)
        self.size += 1

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves appended so far."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        h = stack[-1]
        for left in reversed(stack[:-1]):
            h = hashlib.sha256(b"\x01" + left + h).digest()
        return h


def root(leaves: Sequence[bytes]) -> bytes:
    """The root of a list of leaf hashes."""
    tree = CompactRange()
    for leaf in leaves:
        tree.append(leaf)
    return tree.root()


def range_root(start: int, end: int, perfect: Perfect) -> bytes:
    """The root of leaves ``[start, end)`` assembled from perfect subtrees, in O(log n) calls.

    The range must be a subtree of an RFC 6962 tree (as every range in a proof is): each left
    part is then a perfect subtree aligned on its size.
    """
    size = end - start
    if size < 1:
        raise ValueError("an empty range has no subtree root")
    lefts: list[bytes] = []
    while size & (size - 1):  # not a power of two
        k = split(size)
        if start % k:
            raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 6962 tree")
        lefts.append(perfect(k.bit_length() - 1, start // k))
        start += k
        size -= k
    if start % size:
        raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 6962 tree")
    h = perfect(size.bit_length() - 1, start // size)
    for left in reversed(lefts):
        h = node_hash(left, h)
    return h


def inclusion_path(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 ``PATH(m, D[n])``: the audit path of leaf ``index`` in a tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()  # the sibling nearest the leaf first
    return path


def consistency_path(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 ``PROOF(m, D[n])``: proves the tree of ``old`` leaves is a prefix of ``new``."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new} leaves")
    if old in (0, new):
        return []
    path: list[bytes] = []
    start, end, m, whole = 0, new, old, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        path.append(subtree(start, end))
    path.reverse()
    return path


def _in_memory(leaves: Sequence[bytes]) -> Subtree:
    return lambda start, end: root(leaves[start:end])


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaf hashes."""
    size = len(leaves) if size is None else size
    if size > len(leaves):
        raise ValueError(f"the tree has only {len(leaves)} leaves")
    return inclusion_path(index, size, _in_memory(leaves))


def consistency_proof(leaves: Sequence[bytes], old: int, new: int | None = None) -> list[bytes]:
    """The consistency proof between the trees of the first ``old`` and ``new`` leaf hashes."""
    new = len(leaves) if new is None else new
    if new > len(leaves):
        raise ValueError(f"the tree has only {len(leaves)} leaves")
    return consistency_path(old, new, _in_memory(leaves))


def _valid(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to, or ``None`` if the proof is malformed."""
    if not 0 <= index < size or not _valid(leaf, *path):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root_hash: bytes
) -> bool:
    """Whether ``path`` proves ``leaf`` is leaf ``index`` of the tree with ``root_hash``."""
    computed = root_from_inclusion(leaf, index, size, path)
    return computed is not None and computed == root_hash


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> bool:
    """Whether ``path`` proves the tree ``old_root`` (``old`` leaves) is a prefix of ``new_root``.

    Two degenerate cases hold with an empty path: equal sizes with equal roots, and ``old == 0``
    with the empty tree's root.
    """
    if not 0 <= old <= new or not _valid(old_root, new_root, *path):
        return False
    if old == new:
        return not path and old_root == new_root
    if old == 0:
        return not path and old_root == EMPTY_ROOT
    if not path:
        return False
    proof = list(path)
    if old & (old - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        proof.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
