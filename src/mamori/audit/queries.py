"""The audit log's SQL, run through the database driver's own cursor.

Streaming reads and the chain-head read bypass SQLAlchemy's result rows (about three times
faster for the verifier) but run on the caller's connection, inside its transaction. Queries are
written with ``?`` placeholders, translated for the driver.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator
from contextlib import closing
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from mamori.audit import merkle
from mamori.audit.entry import GENESIS, canonical
from mamori.audit.verify import CheckpointHead, EntryRow
from mamori.errors import AuditError
from mamori.store import db

__all__ = [
    "PAGE",
    "SQL",
    "ListedEntry",
    "Subtrees",
    "insert_entries",
    "insert_ignoring_duplicates",
    "leaf_hash",
    "lock_and_read_head",
    "newest_entries",
    "size",
    "stream_checkpoints",
    "stream_entries",
]

PAGE: Final = 2_000
"""Entries fetched per query when streaming."""

SQL: Final = {
    "head": "SELECT seq, entry_hash FROM audit_entries ORDER BY seq DESC LIMIT 1",
    "entries": (
        "SELECT seq, ts, actor, action, targets, details, prev_hash, entry_hash "
        "FROM audit_entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
    ),
    "checkpoints": (
        "SELECT tree_size, root_hash, head_hash, frontier FROM audit_checkpoints "
        "WHERE tree_size > ? ORDER BY tree_size LIMIT ?"
    ),
    "newest": (
        "SELECT seq, ts, actor, action, targets, details FROM audit_entries "
        "WHERE seq < ? ORDER BY seq DESC LIMIT ?"
    ),
    "node": "SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?",
    "insert": (
        "INSERT INTO audit_entries (seq, ts, actor, action, targets, details, prev_hash, "
        "entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ),
}


def insert_ignoring_duplicates(conn: Connection) -> Callable[[sa.Table], Any]:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return lambda table: dialect.insert(table).on_conflict_do_nothing()


def insert_entries(tx: db.DriverTx, rows: list[tuple[Any, ...]]) -> None:
    """Insert audit entry rows (in column order of ``SQL["insert"]``) on ``conn``'s transaction.

    Through the driver's cursor: this runs once per group commit of every read. A duplicate
    ``seq`` (another writer appended under a lock it should have shared) raises the driver's
    ``IntegrityError`` as :class:`sqlalchemy.exc.IntegrityError`. On an
    :attr:`~mamori.store.db.DriverTx.explicit` transaction the rows go in one ``INSERT`` that
    ends the transaction with ``COMMIT`` in the same round trip.
    """
    if tx.explicit:  # one statement, and COMMIT in the same round trip
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
        try:
            tx.commit_with(
                SQL["insert"].split(" VALUES ")[0] + " VALUES " + values,
                [value for row in rows for value in row],
            )
        except tx.dbapi.IntegrityError as exc:
            raise sa.exc.IntegrityError(SQL["insert"], None, exc) from exc
        return
    cursor, sql = _driver_cursor(tx.driver, tx.dialect)
    try:
        if len(rows) == 1:
            cursor.execute(sql(SQL["insert"]), rows[0])
        else:
            cursor.executemany(sql(SQL["insert"]), rows)
    except tx.dbapi.IntegrityError as exc:
        raise sa.exc.IntegrityError(SQL["insert"], None, exc) from exc
    finally:
        cursor.close()


def lock_and_read_head(tx: db.DriverTx) -> tuple[int, bytes]:
    """Take the writers' lock, then read the chain head (seq and entry_hash) afresh.

    PostgreSQL: both statements go in one round trip (with ``BEGIN`` before them on an
    :attr:`~mamori.store.db.DriverTx.explicit` transaction); each statement of a simple query
    gets its own snapshot under READ COMMITTED, so the head is read after the lock is held and
    sees every earlier holder's commit. SQLite: ``BEGIN IMMEDIATE`` already holds the write lock.
    """
    lock = db.lock_sql(tx, "audit")
    cursor = tx.begin_with(f"{lock}; {SQL['head']}" if lock else SQL["head"])
    try:
        if lock:
            cursor.nextset()
        row = cursor.fetchone()
    finally:
        cursor.close()
    return (row[0], bytes(row[1])) if row is not None else (0, GENESIS)


def _cursor(conn: Connection) -> tuple[Any, Callable[[str], str]]:
    """The driver's own cursor on ``conn``'s connection, and a placeholder translator."""
    return _driver_cursor(conn.connection.driver_connection, conn.dialect.name)


def _driver_cursor(driver: Any, dialect: str) -> tuple[Any, Callable[[str], str]]:
    if dialect == "postgresql":
        return driver.cursor(binary=True), lambda sql: sql.replace("?", "%s")
    return driver.cursor(), lambda sql: sql


def stream_entries(
    conn: Connection, after: int, until: int | None
) -> Generator[list[EntryRow], None, None]:
    """Pages of stored entries with ``after < seq <= until``, in ``seq`` order (keyset paging)."""
    cursor, sql = _cursor(conn)
    query = sql(SQL["entries"])
    upper = until if until is not None else 2**63 - 1
    try:
        if conn.dialect.name == "postgresql":
            # Walk the primary key whatever the statistics say: right after a bulk of appends,
            # before autovacuum has analysed the table, PostgreSQL may otherwise plan a full scan
            # and an on-disk sort for every page (20x slower). Lasts until the transaction ends.
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                cursor.execute(f"SET LOCAL {setting} = off")
        while True:
            cursor.execute(query, (after, upper, PAGE))
            rows: list[EntryRow] = cursor.fetchall()
            if not rows:
                return
            yield rows
            after = rows[-1][0]
    finally:
        cursor.close()


ListedEntry = tuple[int, str, str, str, str, str]
"""An entry as stored, for listing: seq, ts, actor, action, targets and details (JSON text)."""


def newest_entries(conn: Connection, limit: int, *, before: int | None = None) -> list[ListedEntry]:
    """The newest ``limit`` entries (with ``seq < before``, when given), newest first, as stored:
    a listing shows what is in the table, whether or not the chain still verifies."""
    cursor, sql = _cursor(conn)
    try:
        cursor.execute(sql(SQL["newest"]), (before if before is not None else 2**63 - 1, limit))
        rows: list[ListedEntry] = cursor.fetchall()
    finally:
        cursor.close()
    return rows


def size(conn: Connection) -> int:
    """The number of entries (the ``seq`` of the last one), read on ``conn``'s transaction."""
    cursor, _ = _cursor(conn)
    try:
        cursor.execute(SQL["head"])
        row = cursor.fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row is not None else 0


def stream_checkpoints(conn: Connection) -> Generator[CheckpointHead, None, None]:
    cursor, sql = _cursor(conn)
    query = sql(SQL["checkpoints"])
    after = 0
    try:
        while True:
            cursor.execute(query, (after, 1000))
            rows: list[CheckpointHead] = cursor.fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]
    finally:
        cursor.close()


class Subtrees:
    """Roots of subtrees of the first ``size`` entries, from the node cache or from entries.

    Subtrees smaller than ``2**node_level`` entries are computed from their entries, read a
    block of that size at a time; larger ones come from ``audit_nodes`` when ``use_cache`` and
    the node is there, else from their entries.
    """

    def __init__(self, conn: Connection, size: int, node_level: int, *, use_cache: bool) -> None:
        self._conn = conn
        self._size = size
        self._use_cache = use_cache
        self._block = 1 << node_level
        self._leaves: dict[int, list[bytes]] = {}

    def subtree(self, start: int, end: int) -> bytes:
        return merkle.range_root(start, end, self._perfect)

    def leaf(self, index: int) -> bytes:
        return self._block_leaves(index // self._block)[index % self._block]

    def _perfect(self, level: int, index: int) -> bytes:
        first, count = index << level, 1 << level
        if count < self._block:
            leaves = self._block_leaves(first // self._block)
            offset = first % self._block
            return merkle.root(leaves[offset : offset + count])
        if self._use_cache:
            cursor, sql = _cursor(self._conn)
            try:
                cursor.execute(sql(SQL["node"]), (level, index))
                row = cursor.fetchone()
            finally:
                cursor.close()
            if row is not None:
                return bytes(row[0])
        tree = merkle.CompactRange()
        with closing(stream_entries(self._conn, first, first + count)) as pages:
            for page in pages:
                for row in page:
                    tree.append(leaf_hash(row))
        if tree.size != count:
            raise AuditError(f"audit entries {first + 1}..{first + count} are not all there")
        return tree.root()

    def _block_leaves(self, block: int) -> list[bytes]:
        leaves = self._leaves.get(block)
        if leaves is None:
            first = block * self._block
            last = min(first + self._block, self._size)
            with closing(stream_entries(self._conn, first, last)) as pages:
                leaves = [leaf_hash(row) for page in pages for row in page]
            if len(leaves) != last - first:
                raise AuditError(f"audit entries {first + 1}..{last} are not all there")
            self._leaves[block] = leaves
        return leaves


def leaf_hash(row: EntryRow) -> bytes:
    seq, ts, actor, action, targets, details, _prev, _hash = row
    return hashlib.sha256(b"\x00" + canonical(seq, ts, actor, action, targets, details)).digest()
