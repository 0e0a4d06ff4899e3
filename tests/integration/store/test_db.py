"""Engines: SQLite settings, write serialisation, clear errors when the database is unreachable."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mamori.errors import ConfigError, DatabaseUnavailable
from mamori.store import db


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def test_sqlite_file_gets_its_folder_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "mamori.db"
    engine = db.create_engine(f"sqlite:///{path}")
    try:
        with db.read(engine) as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        engine.dispose()
    assert path.parent.is_dir()
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": db.BUSY_TIMEOUT_MS,
        "synchronous": 1,  # NORMAL
    }


def test_sqlite_write_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "mamori.db"
    engine = db.create_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with db.write(engine) as conn:
            conn.exec_driver_sql("SELECT 1")  # no write yet: the lock is held all the same
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            with db.read(engine) as reader:  # readers are never blocked
                assert reader.exec_driver_sql("SELECT 1").scalar() == 1
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


def test_write_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), db.write(engine) as conn:
        conn.exec_driver_sql(
            "INSERT INTO audit_nodes (level, idx, hash) VALUES (1, 1, "
            + ("X'00'" if _is_sqlite(engine) else "'\\x00'::bytea")
            + ")"
        )
        raise RuntimeError
    with db.read(engine) as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM audit_nodes").scalar() == 0


def test_postgresql_lock_serialises_writers(engine: Engine) -> None:
    if _is_sqlite(engine):
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE")
    with db.write(engine) as holder:
        db.lock(holder, "audit")
        with db.write(engine) as other:
            key = db._LOCK_KEYS["audit"]
            assert (
                other.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({key})").scalar() is False
            )
    with db.write(engine) as conn:
        key = db._LOCK_KEYS["audit"]
        assert conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({key})").scalar() is True


def test_unreachable_postgresql_is_named_without_its_password() -> None:
    engine = db.create_engine("postgresql+psycopg://mamori:s3cret-pw@127.0.0.1:1/mamori")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            db.check_connection(engine)
        with pytest.raises(DatabaseUnavailable):
            db.migrate(engine)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert "127.0.0.1:1" in message and "'mamori'" in message
    assert "s3cret-pw" not in message
    assert "MAMORI_DATABASE_URL" in message
    assert caught.value.exit_code == 3


def test_unopenable_sqlite_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    engine = db.create_engine(f"sqlite:///{folder}")
    try:
        with pytest.raises(DatabaseUnavailable, match=r"a-folder\.db"):
            db.check_connection(engine)
    finally:
        engine.dispose()


def test_sqlite_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseUnavailable, match="cannot create the folder"):
        db.create_engine(f"sqlite:///{blocker / 'sub' / 'mamori.db'}")


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/x", "not a url", "postgresql+asyncpg://h/x"]
)
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="MAMORI_DATABASE_URL"):
        db.create_engine(url)


def test_plain_postgresql_url_uses_psycopg() -> None:
    engine = db.create_engine("postgresql://u@127.0.0.1:5432/x")
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


def test_describe_never_shows_a_password() -> None:
    text = db.describe(sa.make_url("postgresql+psycopg://u:pw@db.example:6543/prod"))
    assert text == "PostgreSQL at db.example:6543, database 'prod' as user 'u'"


def _kill_other_backends(engine: Engine) -> int:
    """Terminate every other session on the test database (as a server restart would)."""
    admin = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            killed = conn.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar()
    finally:
        admin.dispose()
    return int(killed or 0)


@pytest.mark.postgres
def test_postgresql_replaces_connections_cut_while_idle(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):  # the pool now holds a connection
        with db.read(engine) as conn:
            conn.exec_driver_sql("SELECT 1")
    assert _kill_other_backends(engine) >= 1
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle "long enough"
    with db.write(engine) as conn:  # no error: the dead connection is pinged and replaced
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    assert _kill_other_backends(engine) >= 1
    assert db.query(engine, "SELECT {p}", (2,)) == [(2,)]  # the fast path pings alike


@pytest.mark.postgres
def test_postgresql_connections_in_steady_use_are_not_pinged(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    real = engine.dialect.do_ping

    def counting(connection: Any) -> bool:
        pings.append(connection)
        return bool(real(connection))

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    for _ in range(20):
        with db.read(engine) as conn:
            conn.exec_driver_sql("SELECT 1")
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    with db.read(engine) as conn:
        conn.exec_driver_sql("SELECT 1")
    assert len(pings) == 1


def test_sqlite_writers_queue_across_connections(tmp_path: Path) -> None:
    import threading
    import time

    url = f"sqlite:///{tmp_path / 'q.db'}"
    first, second = db.create_engine(url), db.create_engine(url)  # as two processes would
    try:
        with db.write(first) as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        order: list[str] = []
        entered = threading.Event()

        def hold() -> None:
            with db.write(first) as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
                order.append("first in")
                entered.set()
                time.sleep(0.3)
                order.append("first out")

        thread = threading.Thread(target=hold)
        thread.start()
        entered.wait(5)
        started = time.monotonic()
        with db.write(second) as conn:
            order.append("second in")
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        waited = time.monotonic() - started
        thread.join()
        assert order == ["first in", "first out", "second in"]
        assert 0.2 < waited < 0.6  # woken soon after the release, not after a 30 s timeout
        assert (tmp_path / "q.writelock").exists()
        with db.read(first) as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
    finally:
        first.dispose()
        second.dispose()


def test_driver_write_commits_or_rolls_back_and_queues_like_write(engine: Engine) -> None:
    with db.write(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    mark = "%s" if engine.dialect.name == "postgresql" else "?"
    with db.driver_write(engine) as tx:
        tx.driver.execute(f"INSERT INTO t VALUES ({mark})", (1,))
    with pytest.raises(RuntimeError), db.driver_write(engine) as tx:
        tx.driver.execute(f"INSERT INTO t VALUES ({mark})", (2,))
        raise RuntimeError("the batch failed")
    assert db.query(engine, "SELECT n FROM t ORDER BY n", ()) == [(1,)]
    with db.driver_write(engine) as tx:  # the connection went back to the pool clean
        tx.driver.execute(f"INSERT INTO t VALUES ({mark})", (3,))
    assert db.query(engine, "SELECT n FROM t ORDER BY n", ()) == [(1,), (3,)]


def test_a_new_sqlite_database_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    """Outside the owner-only default folder too (issue 10: they were created 0644)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir(mode=0o755)
    old = os.umask(0o022)
    try:
        engine = db.create_engine(f"sqlite:///{folder / 'mamori.db'}")
        try:
            db.migrate(engine)
            with db.write(engine) as conn:  # the WAL and its index exist while connected
                conn.exec_driver_sql("CREATE TABLE t (x)")
                files = sorted(folder.glob("mamori.db*"))
                assert {f.name for f in files} >= {"mamori.db", "mamori.db-wal", "mamori.db-shm"}
                modes = {f.name: f.stat().st_mode & 0o777 for f in files}
        finally:
            engine.dispose()
    finally:
        os.umask(old)
    assert modes == dict.fromkeys(modes, 0o600)


@pytest.mark.postgres
def test_an_explicit_driver_write_is_two_round_trips_and_rolls_back_cleanly(
    engine: Engine,
) -> None:
    with db.write(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY, b BYTEA)")
    with db.driver_write(engine, explicit=True) as tx:
        with tx.begin_with("SELECT count(*) FROM t") as cursor:
            assert cursor.fetchone() == (0,)
        tx.commit_with("INSERT INTO t VALUES (%s, %s), (%s, %s)", (1, b"\x00'\\", 2, b"z"))
        assert tx.committed
    assert db.query(engine, "SELECT n, b FROM t ORDER BY n", ()) == [(1, b"\x00'\\"), (2, b"z")]
    with pytest.raises(RuntimeError), db.driver_write(engine, explicit=True) as tx:
        tx.begin_with("INSERT INTO t VALUES (3, NULL)").close()
        raise RuntimeError("the batch failed")
    duplicate = engine.dialect.loaded_dbapi.IntegrityError
    with pytest.raises(duplicate), db.driver_write(engine, explicit=True) as tx:
        tx.begin_with("INSERT INTO t VALUES (4, NULL)").close()
        tx.commit_with("INSERT INTO t VALUES (%s, NULL)", (1,))  # a duplicate: no COMMIT
    assert db.query(engine, "SELECT n FROM t ORDER BY n", ()) == [(1,), (2,)]
    for _ in range(6):  # every pooled connection went back out of autocommit, no transaction
        with pytest.raises(RuntimeError), db.write(engine) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (9, NULL)")
            raise RuntimeError("rolled back, unless the connection were left in autocommit")
    assert db.query(engine, "SELECT n FROM t ORDER BY n", ()) == [(1,), (2,)]
