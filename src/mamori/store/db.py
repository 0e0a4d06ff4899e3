"""Engines, transactions and migrations.

Every connection the store and the audit log open goes through :func:`write` or :func:`read`,
so a database that cannot be reached surfaces as one :class:`~mamori.errors.DatabaseUnavailable`
naming the file or the host and port (never a password).

SQLite (the embedded default) runs in WAL mode, and every write transaction starts with
``BEGIN IMMEDIATE``: the write lock is taken up front, so writers in several processes queue on
``busy_timeout`` instead of failing half-way with "database is locked" when a read lock cannot be
upgraded. Read transactions start with a plain (deferred) ``BEGIN`` and never block writers.

Before ``BEGIN IMMEDIATE`` a writer also takes a lock of mamori's own (:class:`WriterQueue`): a
thread lock within the process and an ``flock`` on a file beside the database across processes.
Writers then wait in a queue that wakes the next one as soon as the lock is free, instead of
sleeping in SQLite's busy handler (1, 2, 5, 10, ... up to 100 ms, with no wake-up on release),
which left a server process idle for whole sleeps while the other held the lock.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from mamori.errors import ConfigError, DatabaseUnavailable
from mamori.store.writer_queue import BUSY_TIMEOUT_MS, WriterQueue

__all__ = [
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS",
    "Connection",
    "DriverTx",
    "Engine",
    "SQLAlchemyError",
    "WriterQueue",
    "check_connection",
    "create_engine",
    "current_revision",
    "describe",
    "driver_write",
    "head_revision",
    "lock",
    "lock_keys",
    "lock_sql",
    "migrate",
    "query",
    "read",
    "safe_url",
    "write",
]

# ``Connection`` and ``Engine`` are re-exported: domain code names them in signatures without
# importing SQLAlchemy (only the storage modules do; an import-linter contract keeps it so).
# ``SQLAlchemyError`` likewise, for code that answers any failure of the database (a health
# check) without importing SQLAlchemy.

MIGRATIONS = Path(__file__).parent / "migrations"
"""The Alembic script folder, shipped inside the package."""

_BEGIN = "mamori_sqlite_begin"  # execution option read by the "begin" event on SQLite

# Transaction-scoped PostgreSQL advisory locks, one key per serialised resource. The high 32 bits
# spell "mmri" so that mamori's keys do not collide with another application's on a shared server.
_LOCK_KEYS = {
    "migrate": 0x6D6D7269_00000001,
    "audit": 0x6D6D7269_00000002,
    "policy": 0x6D6D7269_00000003,
}


def create_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for ``url``: ``sqlite:///path/to/file.db`` or ``postgresql+psycopg://...``.

    SQLite: the parent folder of the file is created; every connection gets WAL,
    ``foreign_keys=ON``, ``busy_timeout`` and ``synchronous=NORMAL``. PostgreSQL: psycopg 3,
    a connection that sat idle in the pool is checked before use (see :func:`_ping_after_idle`).
    Both keep ``pool_size`` connections (and up to 5 more for background work, closed again
    when returned).
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(
            "MAMORI_DATABASE_URL: not a database URL (for example sqlite:///mamori-data/mamori.db "
            "or postgresql+psycopg://mamori@127.0.0.1:5432/mamori)"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, pool_size)
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername != "postgresql+psycopg":
            raise ConfigError(
                f"MAMORI_DATABASE_URL: driver {parsed.drivername!r} is not supported; "
                "use postgresql+psycopg://"
            )
        engine = sa.create_engine(parsed, pool_size=pool_size, max_overflow=_OVERFLOW)
        _ping_after_idle(engine)
        return engine
    raise ConfigError(
        f"MAMORI_DATABASE_URL: database {backend!r} is not supported; "
        "use sqlite: or postgresql+psycopg:"
    )


PING_AFTER_IDLE_SECONDS = 2.0
"""A pooled PostgreSQL connection idle longer than this is pinged before it is used again."""


def _ping_after_idle(engine: Engine) -> None:
    """Check a connection before use only when it has been idle in the pool for a while.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip per request, about a
    tenth of an authorised read. A connection in steady use has just proved alive; one that sat
    idle may have been cut (the database restarted, a firewall dropped it), so that one is
    pinged, and a dead one is replaced before the caller sees it (the pool retries the checkout
    on ``DisconnectionError``). A restart while requests are in flight can still fail those.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["mamori_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("mamori_idle_since")
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa.exc.DisconnectionError(type(exc).__name__) from exc


_OVERFLOW = 5
"""Connections opened beyond the pool for a burst, closed again when returned."""


def _sqlite_engine(url: URL, pool_size: int) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot create the folder {path.parent} for the SQLite database: "
                f"{exc.strerror or exc}"
            ) from exc
        if not path.exists():
            # Owner-only from the first byte: SQLite gives its -wal and -shm files the mode of
            # the database file, so the whole database stays unreadable to other accounts
            # wherever it lives (the default folder is owner-only too). A path that cannot be
            # created is reported when the database is opened.
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    in_memory = database in ("", ":memory:")
    engine = (
        sa.create_engine(url)
        if in_memory
        else sa.create_engine(url, pool_size=pool_size, max_overflow=_OVERFLOW)
    )
    if database and database != ":memory:" and not database.startswith("file:"):
        _WRITER_QUEUES[engine] = WriterQueue(Path(database).expanduser().with_suffix(".writelock"))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module: SQLAlchemy's "begin" event
        # below emits BEGIN itself (the documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            # Deleted content is overwritten, so withdrawn data leaves no bytes in free pages.
            cursor.execute("PRAGMA secure_delete = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN, "IMMEDIATE")
        # The driver's own execute: BEGIN through SQLAlchemy's statement machinery (events,
        # execution context, result) cost as much as a short query, twice per read.
        driver: Any = conn.connection.driver_connection
        driver.execute("BEGIN" if mode == "DEFERRED" else "BEGIN IMMEDIATE")

    return engine


def describe(url: URL | str) -> str:
    """Where ``url`` points, for messages: file, or host, port, database and user; no password."""
    url = make_url(url) if isinstance(url, str) else url
    if url.get_backend_name() == "sqlite":
        database = url.database or ":memory:"
        if database in (":memory:", ""):
            return "the in-memory SQLite database"
        return f"the SQLite database {Path(database).expanduser().resolve()}"
    host = url.host or "localhost (Unix socket)"
    port = url.port or 5432
    user = f" as user {url.username!r}" if url.username else ""
    return f"PostgreSQL at {host}:{port}, database {url.database!r}{user}"


def safe_url(url: str) -> str:
    """``url`` as given, its password (if any) shown as ``***``: for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _unavailable(engine: Engine, exc: BaseException) -> DatabaseUnavailable:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    password = engine.url.password
    if password:
        first = first.replace(str(password), "***")
    first = re.sub(r"^\(?[\w.]+\)\s*", "", first)  # drop a "(psycopg.OperationalError)" prefix
    if engine.dialect.name == "sqlite":
        return DatabaseUnavailable(
            f"{describe(engine.url)} cannot be opened: {first}; check MAMORI_DATABASE_URL "
            "and that the file is a SQLite database you may write to"
        )
    return DatabaseUnavailable(
        f"{describe(engine.url)} cannot be reached: {first}; "
        "check MAMORI_DATABASE_URL and that the database server is running"
    )


def _connect(engine: Engine) -> Connection:
    try:
        return engine.connect()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise _unavailable(engine, exc) from exc


_WRITER_QUEUES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction, committed when the block ends, rolled back on error.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``, so it holds the database's write
    lock from its first statement: keep write transactions short.
    """
    queue = _WRITER_QUEUES.get(engine)
    if queue is None:
        with _write(engine) as conn:
            yield conn
        return
    with queue.held(), _write(engine) as conn:
        yield conn


@contextmanager
def _write(engine: Engine) -> Iterator[Connection]:
    conn = _connect(engine)
    with conn:
        try:
            transaction = conn.begin()
        except sa.exc.OperationalError as exc:
            raise _busy(engine, exc) from exc
        with transaction:
            yield conn


@contextmanager
def read(engine: Engine, *, snapshot: bool = False) -> Iterator[Connection]:
    """A connection in a read-only transaction that never blocks writers.

    With ``snapshot=True`` every statement sees the same snapshot of the database (PostgreSQL:
    ``REPEATABLE READ, READ ONLY``; SQLite: a read transaction in WAL mode always does).
    """
    conn = _connect(engine)
    with conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{_BEGIN: "DEFERRED"})
        else:
            options: dict[str, Any] = {"postgresql_readonly": True}
            if snapshot:
                options["isolation_level"] = "REPEATABLE READ"
            conn.execution_options(**options)
        with conn.begin():
            yield conn


@dataclass
class DriverTx:
    """A transaction on a driver connection: the driver's connection, dialect name and module.

    From :func:`driver_write`, or :meth:`of` an SQLAlchemy connection (the same transaction).
    """

    driver: Any
    dialect: str
    dbapi: Any
    explicit: bool = False
    """PostgreSQL from :func:`driver_write`: the driver is in autocommit and the statements
    carry the transaction themselves, ``BEGIN`` sent with the first (:meth:`begin_with`) and
    ``COMMIT`` with the last (:meth:`commit_with`), in the same simple query: a block that
    reads once and then writes costs two round trips instead of four."""
    begun: bool = False
    committed: bool = False

    def begin_with(self, sql: str) -> Any:
        """Run ``sql`` (no parameters, one or more statements) as the transaction's first
        query; the driver's cursor, at the result of the first statement of ``sql``."""
        cursor = self.driver.cursor()
        if self.explicit and not self.begun:
            cursor.execute(f"BEGIN; {sql}")
            self.begun = True
            cursor.nextset()
        else:
            cursor.execute(sql)
        return cursor

    def commit_with(self, sql: str, params: Sequence[Any]) -> None:
        """Run ``sql`` (one statement, ``%s`` parameters bound by the client, PostgreSQL) and
        commit in the same round trip when :attr:`explicit`; nothing may run after it."""
        if not self.explicit:
            with self.driver.cursor() as cursor:
                cursor.execute(sql, params)
            return
        if not self.begun:
            raise RuntimeError("commit_with() before begin_with()")
        with self.dbapi.ClientCursor(self.driver) as cursor:
            cursor.execute(f"{sql}; COMMIT", params)
        self.committed = True

    @classmethod
    def of(cls, conn: Connection) -> DriverTx:
        return cls(conn.connection.driver_connection, conn.dialect.name, conn.dialect.loaded_dbapi)


@contextmanager
def driver_write(engine: Engine, *, explicit: bool = False) -> Iterator[DriverTx]:
    """:func:`write` on the driver alone, for the audit log's group commit (every read's).

    The same guarantees: SQLite writers queue (:class:`WriterQueue`) and take the write lock at
    ``BEGIN IMMEDIATE``; PostgreSQL starts a READ COMMITTED transaction at the first statement.
    Committed when the block ends, rolled back on error. Saves SQLAlchemy's connection and
    transaction objects, about 20 microseconds of a 60-microsecond commit on SQLite.

    ``explicit=True`` on PostgreSQL: the transaction is :attr:`DriverTx.explicit`: the driver is
    in autocommit, so every statement must go through :meth:`DriverTx.begin_with` (the first,
    which starts with ``BEGIN``) and :meth:`DriverTx.commit_with` (the last, which may end with
    ``COMMIT``): two round trips for the audit log's group commit (lock and head, then the
    entries) instead of four. The connection goes back to the pool out of autocommit.
    """
    queue = _WRITER_QUEUES.get(engine)
    with queue.held() if queue is not None else nullcontext():
        try:
            raw = engine.raw_connection()
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise _unavailable(engine, exc) from exc
        driver: Any = raw.driver_connection
        dbapi = engine.dialect.loaded_dbapi
        postgres = engine.dialect.name == "postgresql"
        explicit = explicit and postgres
        tx = DriverTx(driver, engine.dialect.name, dbapi, explicit=explicit)
        try:
            if explicit:
                driver.autocommit = True
            elif not postgres:
                try:
                    driver.execute("BEGIN IMMEDIATE")
                except dbapi.OperationalError as exc:
                    raise _busy(engine, sa.exc.OperationalError("BEGIN", None, exc)) from exc
            try:
                yield tx
            except BaseException:
                with contextlib.suppress(Exception):
                    if not explicit:
                        driver.rollback()
                    elif tx.begun and not tx.committed:
                        driver.execute("ROLLBACK")
                raise
            try:
                if not explicit:
                    driver.commit()
                elif tx.begun and not tx.committed:
                    driver.execute("COMMIT")
            except dbapi.OperationalError as exc:
                raw.invalidate()
                raise _unavailable(engine, exc) from exc
        finally:
            if explicit and not driver.closed:
                try:
                    driver.autocommit = False
                except dbapi.Error:  # still in a transaction: never pooled again
                    raw.invalidate()
            raw.close()


def query(engine: Engine, template: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one read statement, run on a pooled connection by the driver alone.

    ``template`` marks parameters ``{p}``. For the hottest reads only: SQLAlchemy's connection,
    transaction and result objects cost several times a short indexed query (about 35 of 40
    microseconds on SQLite). One statement needs no transaction to be consistent: SQLite runs
    it in autocommit (the connection is opened without implicit transactions), PostgreSQL with
    ``autocommit`` switched on for it, one round trip.
    """
    try:
        raw = engine.raw_connection()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise _unavailable(engine, exc) from exc
    driver: Any = raw.driver_connection
    postgres = engine.dialect.name == "postgresql"
    try:
        if postgres:
            driver.autocommit = True
        cursor = driver.execute(template.replace("{p}", "%s" if postgres else "?"), tuple(params))
        try:
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        finally:
            cursor.close()
        return rows
    except engine.dialect.loaded_dbapi.OperationalError as exc:  # the connection broke
        raw.invalidate()
        raise _unavailable(engine, exc) from exc
    finally:
        if postgres and not driver.closed:
            driver.autocommit = False
        raw.close()


def _busy(engine: Engine, exc: sa.exc.OperationalError) -> DatabaseUnavailable:
    if "locked" in str(exc.orig):
        return DatabaseUnavailable(
            f"{describe(engine.url)} stayed locked by another writer for more than "
            f"{BUSY_TIMEOUT_MS // 1000} s; try again, or look for a stuck mamori process"
        )
    return _unavailable(engine, exc)


def lock(conn: Connection, resource: Literal["migrate", "audit", "policy"]) -> None:
    """Serialise writers of ``resource`` until the current transaction ends.

    PostgreSQL: a transaction-scoped advisory lock (taken before reading the state it protects,
    so that a READ COMMITTED transaction then sees every earlier holder's commit). SQLite: nothing
    to do, ``BEGIN IMMEDIATE`` already holds the database's only write lock.
    """
    sql = lock_sql(conn, resource)
    if sql:
        conn.exec_driver_sql(sql)


def lock_keys(conn: Connection, space: str, keys: Iterable[bytes]) -> None:
    """Serialise, until the current transaction ends, the writers of each of ``keys`` (keyed
    hashes such as a login ID's) in ``space``: a limit's check and count then happen as one
    step. PostgreSQL: one transaction-scoped advisory lock per key, taken in a fixed order so
    that two transactions never wait on each other; SQLite: ``BEGIN IMMEDIATE`` already holds
    the database's only write lock.
    """
    if conn.dialect.name != "postgresql":
        return
    label = f"mamori:{space}\x00".encode()
    numbers = sorted(
        {
            int.from_bytes(hashlib.sha256(label + key).digest()[:8], "big", signed=True)
            for key in keys
        }
    )
    for number in numbers:
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": number})


def lock_sql(
    conn: Connection | DriverTx, resource: Literal["migrate", "audit", "policy"]
) -> str | None:
    """The statement :func:`lock` runs on ``conn``'s database (``None``: nothing to run)."""
    name = conn.dialect if isinstance(conn, DriverTx) else conn.dialect.name
    if name == "postgresql":
        return f"SELECT pg_advisory_xact_lock({_LOCK_KEYS[resource]})"
    return None


def check_connection(engine: Engine) -> None:
    """Raise :class:`~mamori.errors.DatabaseUnavailable` unless the database answers a query."""
    try:
        with read(engine) as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        raise _unavailable(engine, exc) from exc


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration up to the newest; a no-op on an up-to-date database.

    Runs in one transaction, serialised against other processes migrating at the same time.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with write(engine) as conn:
        lock(conn, "migrate")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


@functools.cache
def head_revision() -> str | None:
    """The newest Alembic revision this mamori ships (what :func:`migrate` brings a database to)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or ``None`` before the first migration."""
    with read(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()
