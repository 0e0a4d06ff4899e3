"""Proofs about the audit log that anyone can check with SHA-256 alone. Pure, no I/O.

An :class:`InclusionProof` shows that one entry is entry ``seq`` of the log whose first
``tree_size`` entries have a given Merkle root (a checkpoint's ``root_hash``); a
:class:`ConsistencyProof` shows that the log at one checkpoint is a prefix of the log at a later
one, i.e. that nothing before the first checkpoint was changed since. Both are O(log n) hashes,
in the RFC 6962 format, so that a verifier written in another language can check them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson

from mamori.audit import merkle
from mamori.audit.entry import AuditEntry, format_ts

__all__ = ["Checkpoint", "ConsistencyProof", "InclusionProof", "verify_proof"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A Merkle tree head over the first ``tree_size`` entries; publish ``root_hash`` elsewhere."""

    tree_size: int
    root_hash: bytes
    head_hash: bytes
    """``entry_hash`` of entry ``tree_size``."""
    created_at: dt.datetime

    @property
    def root_hash_hex(self) -> str:
        return self.root_hash.hex()

    def to_dict(self) -> dict[str, object]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "head_hash": self.head_hash.hex(),
            "created_at": format_ts(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """The audit path of entry ``seq`` (leaf ``seq - 1``) in the tree of ``tree_size`` entries."""

    seq: int
    tree_size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]

    def root(self) -> bytes | None:
        """The tree root this proof leads to, or ``None`` if it is malformed."""
        return merkle.root_from_inclusion(self.leaf_hash, self.seq - 1, self.tree_size, self.path)

    def verify(self, root_hash: bytes) -> bool:
        """Whether the proof leads to ``root_hash`` (a checkpoint's root)."""
        return merkle.verify_inclusion(
            self.leaf_hash, self.seq - 1, self.tree_size, self.path, root_hash
        )

    def to_json(self) -> str:
        """The proof as JSON, hashes in hex."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2).decode()

    def to_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "path": [h.hex() for h in self.path],
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Proof that the tree of ``old_size`` entries is a prefix of the tree of ``new_size``."""

    old_size: int
    new_size: int
    path: tuple[bytes, ...]

    def verify(self, old_root: bytes, new_root: bytes) -> bool:
        return merkle.verify_consistency(
            self.old_size, self.new_size, old_root, new_root, self.path
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "path": [h.hex() for h in self.path],
        }


def verify_proof(
    proof: InclusionProof, checkpoint: Checkpoint | bytes, entry: AuditEntry | None = None
) -> bool:
    """Whether ``proof`` shows an entry is in the log at ``checkpoint``.

    Given a :class:`Checkpoint`, the proof must also be for its tree size; given only a root
    hash, the caller vouches for the tree size. Pass the ``entry`` you hold to check that the
    proof is about *that* entry: its leaf hash is recomputed from its fields, not taken from the
    proof.
    """
    if isinstance(checkpoint, Checkpoint):
        if proof.tree_size != checkpoint.tree_size:
            return False
        root_hash = checkpoint.root_hash
    else:
        root_hash = checkpoint
    if entry is not None and (entry.seq != proof.seq or entry.leaf_hash != proof.leaf_hash):
        return False
    return proof.verify(root_hash)
