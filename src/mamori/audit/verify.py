"""Streaming verification of the audit log. Pure, no I/O: the caller feeds stored rows in order.

:class:`Verifier` takes the stored entries in ``seq`` order, in batches, and keeps only the
previous hash and the O(log n) roots of the Merkle tree built so far, so it checks any number
of entries in constant memory. For each entry it checks, in this order:

1. ``seq`` is the next number -- else an entry is *missing* (deleted, or rows renumbered);
2. ``prev_hash`` equals the previous entry's ``entry_hash`` -- else the *link is broken*
   (rows swapped, replaced or re-inserted);
3. ``SHA-256(prev_hash || canonical)`` equals ``entry_hash`` -- else the entry was *edited*;

and, when it reaches a checkpoint's ``tree_size``, that the checkpoint's root, head hash and
frontier equal the ones recomputed from the entries. After the last entry, a checkpoint beyond it
means the tail was cut off. It stops at the first mismatch and names it.

Speed: the canonical bytes are formatted from the stored text fields without parsing them. The
few checks in :meth:`Verifier.feed` (no ``"`` in the plain string fields, exactly one ``}``
closing ``details``) make that formatting one-to-one on everything an honest writer can have
written, so no edit can keep the bytes, and hence the hash, unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from mamori.audit.entry import GENESIS
from mamori.audit.merkle import CompactRange, NodeSink
from mamori.errors import AuditError

__all__ = ["CheckpointHead", "EntryRow", "Mismatch", "MismatchKind", "Verifier", "VerifyReport"]

EntryRow = tuple[int, str, str, str, str, str, bytes, bytes]
"""A stored entry: seq, ts, actor, action, targets, details, prev_hash, entry_hash."""
CheckpointHead = tuple[int, bytes, bytes, bytes]
"""A stored checkpoint: tree_size, root_hash, head_hash, frontier."""


class MismatchKind(StrEnum):
    MISSING = "missing"
    """An entry is absent: a gap in ``seq``, or the tail cut below a checkpoint's tree size."""
    BROKEN_LINK = "broken_link"
    """``prev_hash`` is not the previous entry's hash: rows reordered, replaced or re-inserted."""
    EDITED = "edited"
    """The stored fields do not hash to ``entry_hash``."""
    CHECKPOINT = "checkpoint"
    """A checkpoint disagrees with the entries it covers."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The first place where the stored log does not match itself."""

    kind: MismatchKind
    seq: int
    """The first entry that does not match (for a checkpoint: its tree size)."""
    message: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :meth:`mamori.audit.AuditLog.verify` found."""

    entries: int
    """Entries found intact, from entry 1 on."""
    checkpoints: int
    """Checkpoints found to match the entries."""
    head_hash: bytes
    """``entry_hash`` of the last intact entry (32 zero bytes for an empty log)."""
    mismatch: Mismatch | None

    @property
    def ok(self) -> bool:
        return self.mismatch is None

    def raise_for_mismatch(self) -> None:
        """Raise :class:`~mamori.errors.AuditError` with the mismatch's message, if any."""
        if self.mismatch is not None:
            raise AuditError(f"the audit log is not intact: {self.mismatch.message}")

    @property
    def summary(self) -> str:
        """One line: the counts when intact, else the first mismatch."""
        if self.mismatch is None:
            return (
                f"{self.entries} entries, {self.checkpoints} checkpoints, "
                f"head {self.head_hash.hex()}"
            )
        return self.mismatch.message

    def __str__(self) -> str:
        state = "intact" if self.mismatch is None else "NOT intact"
        return f"audit log {state}: {self.summary}"


class Verifier:
    """Checks stored entries fed in ``seq`` order against each other and the checkpoints.

    ``checkpoints`` must come in increasing ``tree_size``; it is consumed lazily. The Merkle tree
    is only computed up to ``hash_until`` (the largest checkpoint size, if the caller knows it).
    """

    def __init__(
        self,
        checkpoints: Iterable[CheckpointHead] = (),
        *,
        hash_until: int | None = None,
        resume_from: CheckpointHead | None = None,
        node_sink: NodeSink | None = None,
        node_level: int = 1,
    ) -> None:
        self._checkpoints: Iterator[CheckpointHead] = iter(checkpoints)
        self._until = hash_until if hash_until is not None else 2**63
        self._next_seq = 1
        self._head = GENESIS
        self._stack: list[bytes] = []
        self._size = 0
        if resume_from is not None:
            size, root_hash, head_hash, frontier = resume_from
            tree = CompactRange(size, [frontier[i : i + 32] for i in range(0, len(frontier), 32)])
            if tree.root() != root_hash:
                raise AuditError(
                    f"checkpoint {size} is not intact: its frontier does not give its root"
                )
            self._next_seq, self._head, self._stack, self._size = (
                size + 1,
                head_hash,
                [*tree.hashes],
                size,
            )
        self._sink = node_sink
        self._node_level = node_level
        self._verified_checkpoints = 0
        self._checkpoint: CheckpointHead | None = next(self._checkpoints, None)
        self.mismatch: Mismatch | None = None

    @property
    def tree(self) -> CompactRange:
        """The Merkle tree of the entries checked so far (up to ``hash_until``)."""
        return CompactRange(self._size, self._stack)

    def feed(self, rows: Iterable[EntryRow]) -> bool:
        """Check the next rows; ``False`` once a mismatch was found (feed no more)."""
        if self.mismatch is not None:
            return False
        sha256 = hashlib.sha256
        expected, head, stack, size, until = (
            self._next_seq,
            self._head,
            self._stack,
            self._size,
            self._until,
        )
        sink, node_level = self._sink, self._node_level
        checkpoint_size = self._checkpoint[0] if self._checkpoint else -1
        failure: tuple[MismatchKind, int] | None = None
        for row in rows:
            try:
                seq, ts, actor, action, targets, details, prev, entry_hash = row
                if seq != expected:
                    failure = (MismatchKind.MISSING, expected)
                    break
                if prev != head:
                    failure = (MismatchKind.BROKEN_LINK, seq)
                    break
                if (
                    '"' in ts
                    or '"' in actor
                    or '"' in action
                    or len(details) < 2
                    or details.find("}") != len(details) - 1
                ):
                    failure = (MismatchKind.EDITED, seq)
                    break
                canonical = (
                    f'{{"action":"{action}","actor":"{actor}","details":{details},"seq":{seq},'
                    f'"targets":{targets},"ts":"{ts}"}}'
                ).encode()
                if sha256(prev + canonical).digest() != entry_hash:
                    failure = (MismatchKind.EDITED, seq)
                    break
            except (TypeError, ValueError, AttributeError):  # a value of the wrong type
                failure = (MismatchKind.EDITED, expected)
                break
            head = entry_hash
            expected += 1
            if seq <= until:
                h = sha256(b"\x00" + canonical).digest()
                n = size
                size += 1
                level = 0
                while n & 1:
                    h = sha256(b"\x01" + stack.pop() + h).digest()
                    n >>= 1
                    level += 1
                    if sink is not None and level >= node_level:
                        sink(level, (size >> level) - 1, h)
                stack.append(h)
                if seq == checkpoint_size:
                    self._size = size
                    if not self._checkpoint_matches(entry_hash):
                        failure = (MismatchKind.CHECKPOINT, seq)
                        break
                    checkpoint_size = self._checkpoint[0] if self._checkpoint else -1
        self._next_seq, self._head, self._size = expected, head, size
        if failure is not None:
            self.mismatch = _mismatch(*failure)
            return False
        return True

    def _checkpoint_matches(self, head: bytes) -> bool:
        assert self._checkpoint is not None
        _size, root_hash, head_hash, frontier = self._checkpoint
        stack = self._stack
        root = stack[-1]
        for left in reversed(stack[:-1]):
            root = hashlib.sha256(b"\x01" + left + root).digest()
        if root != root_hash or head != head_hash or b"".join(stack) != frontier:
            return False
        self._verified_checkpoints += 1
        self._checkpoint = next(self._checkpoints, None)
        return True

    def finish(self) -> VerifyReport:
        """The report, once every row was fed (or a mismatch was found)."""
        last = self._next_seq - 1
        if self.mismatch is None and self._checkpoint is not None:
            self.mismatch = Mismatch(
                MismatchKind.MISSING,
                last + 1,
                f"entry {last + 1} is missing: the log ends at entry {last} but checkpoint "
                f"{self._checkpoint[0]} covers {self._checkpoint[0]} entries (the tail was cut)",
            )
        return VerifyReport(
            entries=last,
            checkpoints=self._verified_checkpoints,
            head_hash=self._head,
            mismatch=self.mismatch,
        )


def _mismatch(kind: MismatchKind, seq: int) -> Mismatch:
    if kind is MismatchKind.MISSING:
        text = f"entry {seq} is missing: the next stored entry has a higher number"
    elif kind is MismatchKind.BROKEN_LINK:
        text = (
            f"entry {seq} does not link to entry {seq - 1}: its prev_hash differs "
            "(rows were reordered, replaced or re-inserted)"
            if seq > 1
            else "entry 1 does not start the chain: its prev_hash is not 32 zero bytes"
        )
    elif kind is MismatchKind.EDITED:
        text = f"entry {seq} was edited: its fields do not match its entry_hash"
    else:
        text = (
            f"checkpoint {seq} does not match entries 1..{seq}: the checkpoint was edited, or "
            "entries it covers were rewritten together with their hashes"
        )
    return Mismatch(kind, seq, text)
