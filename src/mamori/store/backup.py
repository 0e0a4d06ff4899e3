"""Copies of the database: SQLite through its online backup API, PostgreSQL through pg_dump.

A backup holds the database only: never the master keys (they wrap every data key, so a backup
without them decrypts nothing) and never the shred log (:mod:`mamori.vault.shred_log`), which
must outlive every backup. :func:`restore` replaces the database with a backup; what happened
after the backup is replayed by the caller (:func:`mamori.app.backups.restore_backup`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from mamori.errors import BackupError, DatabaseUnavailable

__all__ = ["BackupError", "backup", "restore"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_MAGIC = b"PGDMP"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("only a SQLite database in a file can be backed up")
    return Path(url.database).expanduser()


def _new_file(path: Path) -> None:
    if path.exists():
        raise BackupError(f"{path} exists already; give a new file name")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent}: no such folder")


def backup(database_url: str, path: Path) -> None:
    """Write a consistent copy of the database to ``path`` (a new file, mode 600) while mamori
    keeps serving."""
    url = make_url(database_url)
    _new_file(path)
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_path(url), path)
    else:
        _pg("pg_dump", url, ["--format=custom", "--no-owner", f"--file={path}"], path)
        os.chmod(path, 0o600)


def restore(database_url: str, path: Path) -> None:
    """Replace the database with the backup at ``path``. Every mamori process using the database
    must be stopped first."""
    url = make_url(database_url)
    try:
        with path.open("rb") as handle:
            magic = handle.read(16)
    except FileNotFoundError:
        raise BackupError(f"{path}: no such backup file") from None
    except OSError as exc:
        raise BackupError(f"{path}: cannot read the backup ({exc.strerror})") from None
    if url.get_backend_name() == "sqlite":
        if magic != _SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite backup made by `mamori backup`")
        _sqlite_restore(path, _sqlite_path(url))
    else:
        if not magic.startswith(_PG_MAGIC):
            raise BackupError(f"{path} is not a PostgreSQL backup made by `mamori backup`")
        _pg(
            "pg_restore",
            url,
            ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"],
            path,
            target=True,
        )


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    try:
        source.backup(target, pages=1024)
    finally:
        target.close()
        source.close()


def _sqlite_backup(database: Path, path: Path) -> None:
    if not database.is_file():
        raise DatabaseUnavailable(f"the SQLite database {database} does not exist")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)  # mode 600 from mkstemp; SQLite writes into it
    try:
        _copy(sqlite3.connect(f"file:{database}?mode=ro", uri=True), sqlite3.connect(temp))
        os.replace(temp, path)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {database}: {exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _sqlite_restore(path: Path, database: Path) -> None:
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables:
            source.close()
            raise BackupError(f"{path} is not a mamori database (no alembic_version table)")
        database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not database.exists():
            os.close(os.open(database, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        target = sqlite3.connect(database, timeout=5)
        target.execute("PRAGMA secure_delete = ON")
        _copy(source, target)
    except sqlite3.Error as exc:
        raise BackupError(
            f"cannot restore into {database}: {exc}; stop every mamori process first"
        ) from None


def _pg(tool: str, url: URL, args: list[str], path: Path, *, target: bool = False) -> None:
    program = shutil.which(tool)
    if program is None:
        raise BackupError(f"{tool} not found on PATH; install PostgreSQL's client programs")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # never on the command line, where ps shows it
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    argv = [program, f"--dbname={dsn}", *args]
    if target:
        argv.append(str(path))
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = lines[-1].strip()[:300] if lines else f"exit status {done.returncode}"
        if not target:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise BackupError(f"{tool} failed: {said}")
