"""The audit log in the database: append, read, checkpoint, prove, verify.

Appends run inside the caller's transaction, so a business change and its audit entry commit or
roll back together. Writers are serialised before the previous hash is read: on PostgreSQL by a
transaction-scoped advisory lock, on SQLite by ``BEGIN IMMEDIATE`` (see :mod:`mamori.store.db`).
The lock is held until the caller commits, so append last in a transaction and keep it short.
Nothing is cached between transactions: every append reads the head of the chain afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from contextlib import closing
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mamori.audit import merkle, queries
from mamori.audit.entry import (
    AuditEntry,
    Details,
    NewEntry,
    Prepared,
    canonical,
    decode_fields,
    format_ts,
    parse_ts,
    prepare,
)
from mamori.audit.proofs import Checkpoint, ConsistencyProof, InclusionProof
from mamori.audit.verify import CheckpointHead, Verifier, VerifyReport
from mamori.clock import SYSTEM, Clock
from mamori.errors import AuditError, NotFound
from mamori.store import db, tables

__all__ = ["NODE_LEVEL", "AuditLog"]

NODE_LEVEL: Final = 8
"""Checkpoints store the hashes of perfect subtrees of 2**8 = 256 entries and more."""

_entries = tables.audit_entries
_checkpoints = tables.audit_checkpoints
_nodes = tables.audit_nodes

_HEAD = sa.select(_entries.c.seq, _entries.c.entry_hash).order_by(_entries.c.seq.desc()).limit(1)
_LAST_SIZE = sa.select(sa.func.max(_checkpoints.c.tree_size))
_LATEST = sa.select(_checkpoints).order_by(_checkpoints.c.tree_size.desc()).limit(1)


class AuditLog:
    """The append-only, hash-chained audit log stored in ``engine``'s database."""

    def __init__(
        self, engine: Engine, *, node_level: int = NODE_LEVEL, clock: Clock = SYSTEM
    ) -> None:
        self.engine = engine
        self.node_level = node_level
        self.clock = clock

    # -- writing -------------------------------------------------------------------------------

    def append(
        self,
        conn: Connection,
        *,
        actor: str,
        action: str,
        targets: Iterable[str] = (),
        details: Details | None = None,
    ) -> AuditEntry:
        """Append one entry inside ``conn``'s transaction (see :func:`mamori.store.db.write`).

        Raises :class:`~mamori.errors.AuditEntryError`, before writing anything, if a field is
        not an identifier (see :mod:`mamori.audit.entry`).
        """
        prepared = [prepare(actor, action, targets, details or {})]
        return self._append(db.DriverTx.of(conn), prepared)[0]

    def append_many(
        self, conn: Connection | db.DriverTx, entries: Iterable[NewEntry]
    ) -> list[AuditEntry]:
        """Append several entries, in order, inside ``conn``'s transaction: one lock, one insert.

        ``conn`` may be a :class:`~mamori.store.db.DriverTx` from :func:`db.driver_write`.
        """
        prepared = [prepare(e.actor, e.action, e.targets, e.details) for e in entries]
        if not prepared:
            return []
        return self._append(
            conn if isinstance(conn, db.DriverTx) else db.DriverTx.of(conn), prepared
        )

    def append_prepared(self, tx: db.DriverTx, prepared: list[Prepared]) -> list[AuditEntry]:
        """:meth:`append_many` of entries already checked by :func:`~mamori.audit.entry.prepare`
        (the group commit checks each caller's entry before queueing it, once)."""
        return self._append(tx, prepared) if prepared else []

    def _append(self, tx: db.DriverTx, prepared: list[Prepared]) -> list[AuditEntry]:
        seq, prev = queries.lock_and_read_head(tx)
        now = self.clock.now()  # under the lock: timestamps follow the chain's order
        ts = format_ts(now)
        rows: list[tuple[Any, ...]] = []
        appended: list[AuditEntry] = []
        sha256 = hashlib.sha256
        for actor, action, targets, details, targets_json, details_json in prepared:
            seq += 1
            entry_hash = sha256(
                prev + canonical(seq, ts, actor, action, targets_json, details_json)
            ).digest()
            rows.append((seq, ts, actor, action, targets_json, details_json, prev, entry_hash))
            appended.append(AuditEntry(seq, now, actor, action, targets, details, prev, entry_hash))
            prev = entry_hash
        try:
            queries.insert_entries(tx, rows)
        except sa.exc.IntegrityError as exc:
            raise written_meanwhile(appended[0].seq) from exc
        return appended

    # -- reading -------------------------------------------------------------------------------

    def size(self) -> int:
        """The number of entries (the ``seq`` of the last one)."""
        with db.read(self.engine) as conn:
            head = conn.execute(_HEAD).first()
        return head[0] if head is not None else 0

    def get(self, seq: int) -> AuditEntry:
        """Entry ``seq``; :class:`~mamori.errors.NotFound` if there is none."""
        with db.read(self.engine) as conn:
            row = conn.execute(sa.select(_entries).where(_entries.c.seq == seq)).first()
        if row is None:
            raise NotFound(f"audit entry {seq} does not exist")
        return _entry(row)

    def tail(self, n: int = 20) -> list[AuditEntry]:
        """The last ``n`` entries, oldest first."""
        query = sa.select(_entries).order_by(_entries.c.seq.desc()).limit(max(n, 0))
        with db.read(self.engine) as conn:
            rows = conn.execute(query).all()
        return [_entry(row) for row in reversed(rows)]

    def latest_checkpoint(self) -> Checkpoint | None:
        """The checkpoint with the largest tree size, if any."""
        with db.read(self.engine) as conn:
            row = conn.execute(_LATEST).first()
        return _checkpoint(row) if row is not None else None

    def checkpoint_at(self, tree_size: int) -> Checkpoint:
        """The checkpoint over the first ``tree_size`` entries; :class:`NotFound` if none."""
        query = sa.select(_checkpoints).where(_checkpoints.c.tree_size == tree_size)
        with db.read(self.engine) as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"there is no audit checkpoint at tree size {tree_size}")
        return _checkpoint(row)

    # -- checkpoints and proofs ----------------------------------------------------------------

    def checkpoint(self) -> Checkpoint:
        """Store the Merkle tree head of every entry appended so far, and return it.

        Extends the previous checkpoint: only newer entries are read, and their chain is checked
        on the way, so a checkpoint is never taken over an edited entry (that raises
        :class:`~mamori.errors.AuditError`). Returns the latest checkpoint unchanged when no entry
        was appended since; raises :class:`~mamori.errors.NotFound` on an empty log.
        """
        nodes: list[dict[str, Any]] = []
        with db.read(self.engine, snapshot=True) as conn:
            latest = conn.execute(_LATEST).first()
            head = conn.execute(_HEAD).first()
            if head is None:
                raise NotFound("the audit log is empty: there is nothing to checkpoint")
            head_seq: int = head[0]
            start: CheckpointHead | None = None
            if latest is not None:
                if latest.tree_size == head_seq:
                    return _checkpoint(latest)
                if latest.tree_size > head_seq:
                    raise AuditError(
                        f"the audit log ends at entry {head_seq} but checkpoint "
                        f"{latest.tree_size} covers more; run the audit verification"
                    )
                start = (latest.tree_size, latest.root_hash, latest.head_hash, latest.frontier)
            verifier = Verifier(
                resume_from=start,
                node_sink=lambda level, index, h: nodes.append(
                    {"level": level, "idx": index, "hash": h}
                ),
                node_level=self.node_level,
            )
            with closing(queries.stream_entries(conn, start[0] if start else 0, head_seq)) as pages:
                for page in pages:
                    if not verifier.feed(page):
                        break
            verifier.finish().raise_for_mismatch()
            tree = verifier.tree
            if tree.size != head_seq:  # pragma: no cover - the snapshot makes this impossible
                raise AuditError(f"entries up to {head_seq} could not be read")
        made = Checkpoint(head_seq, tree.root(), head[1], self.clock.now())
        with db.write(self.engine) as conn:
            insert = queries.insert_ignoring_duplicates(conn)
            for i in range(0, len(nodes), 1000):
                conn.execute(insert(_nodes), nodes[i : i + 1000])
            conn.execute(
                insert(_checkpoints),
                {
                    "tree_size": made.tree_size,
                    "root_hash": made.root_hash,
                    "head_hash": made.head_hash,
                    "frontier": b"".join(tree.hashes),
                    "created_at": made.created_at,
                },
            )
            row = conn.execute(
                sa.select(_checkpoints).where(_checkpoints.c.tree_size == head_seq)
            ).one()
        stored = _checkpoint(row)
        if stored.root_hash != made.root_hash:  # pragma: no cover - a concurrent writer lied
            raise AuditError(f"checkpoint {head_seq} was stored with a different root")
        return stored

    def prove(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """An inclusion proof of entry ``seq`` in the tree of the first ``tree_size`` entries.

        ``tree_size`` defaults to the latest checkpoint's. Check the proof with
        :func:`mamori.audit.verify_proof` against that checkpoint.
        """
        with db.read(self.engine, snapshot=True) as conn:
            size, root = self._tree(conn, tree_size)
            if not 1 <= seq <= size:
                raise NotFound(f"audit entry {seq} is not among the first {size} entries")
            for use_cache in (True, False):
                nodes = queries.Subtrees(conn, size, self.node_level, use_cache=use_cache)
                path = merkle.inclusion_path(seq - 1, size, nodes.subtree)
                proof = InclusionProof(seq, size, nodes.leaf(seq - 1), tuple(path))
                if root is None or proof.verify(root):
                    return proof
        raise AuditError(
            f"entry {seq} does not lead to the root of checkpoint {size}: the log or the "
            "checkpoint was changed; run the audit verification"
        )

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the tree of ``old_size`` entries is a prefix of the tree of ``new_size``.

        ``new_size`` defaults to the latest checkpoint's tree size.
        """
        with db.read(self.engine, snapshot=True) as conn:
            size, root = self._tree(conn, new_size)
            if not 0 <= old_size <= size:
                raise NotFound(f"no consistency proof from {old_size} to {size} entries")
            for use_cache in (True, False):
                nodes = queries.Subtrees(conn, size, self.node_level, use_cache=use_cache)
                proof = ConsistencyProof(
                    old_size, size, tuple(merkle.consistency_path(old_size, size, nodes.subtree))
                )
                if root is None:
                    return proof
                old_root = nodes.subtree(0, old_size) if old_size else merkle.EMPTY_ROOT
                if proof.verify(old_root, root):
                    return proof
        raise AuditError(
            f"the first {old_size} entries do not lead to the root of checkpoint {size}: the "
            "log or the checkpoint was changed; run the audit verification"
        )

    def _tree(self, conn: Connection, tree_size: int | None) -> tuple[int, bytes | None]:
        if tree_size is None:
            latest = conn.execute(_LATEST).first()
            if latest is None:
                raise NotFound("the audit log has no checkpoint yet; create one first")
            return latest.tree_size, latest.root_hash
        head = conn.execute(_HEAD).first()
        if not 1 <= tree_size <= (head[0] if head is not None else 0):
            raise NotFound(f"the audit log has no tree of {tree_size} entries")
        at = conn.execute(
            sa.select(_checkpoints.c.root_hash).where(_checkpoints.c.tree_size == tree_size)
        ).first()
        return tree_size, at[0] if at is not None else None

    # -- verification --------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Check every entry and every checkpoint; the report names the first mismatch.

        Streams the entries in ``seq`` order, in pages, in one read-only snapshot; memory stays
        constant whatever the size of the log.
        """
        with db.read(self.engine, snapshot=True) as conn:
            last_checkpoint = conn.execute(_LAST_SIZE).scalar()
            with (
                closing(queries.stream_checkpoints(conn)) as checkpoints,
                closing(queries.stream_entries(conn, 0, None)) as pages,
            ):
                verifier = Verifier(checkpoints, hash_until=last_checkpoint or 0)
                for page in pages:
                    if not verifier.feed(page):
                        break
                return verifier.finish()


# -- helpers -----------------------------------------------------------------------------------


def written_meanwhile(seq: int) -> AuditError:
    """The error of an append whose ``seq`` another transaction took (a writer that did not
    take the lock); on a pipelined transaction it is raised by the commit."""
    return AuditError(
        f"audit entry {seq} was written by another transaction at the same "
        "time; append in a READ COMMITTED transaction opened with mamori.store.db.write()"
    )


def _entry(row: sa.Row[Any]) -> AuditEntry:
    targets, details = decode_fields(row.targets, row.details)
    return AuditEntry(
        seq=row.seq,
        ts=parse_ts(row.ts),
        actor=row.actor,
        action=row.action,
        targets=targets,
        details=details,
        prev_hash=bytes(row.prev_hash),
        entry_hash=bytes(row.entry_hash),
    )


def _checkpoint(row: sa.Row[Any]) -> Checkpoint:
    return Checkpoint(
        tree_size=row.tree_size,
        root_hash=bytes(row.root_hash),
        head_hash=bytes(row.head_hash),
        created_at=row.created_at,
    )
