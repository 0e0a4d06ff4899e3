"""Discovery's SQL: open an operator's database read-only, list its tables and columns, and
read a sample of each column. Values go to the caller only, never to a message or a log."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url

from mamori.errors import DatabaseUnavailable, UserInputError

__all__ = ["ColumnSample", "open_database", "samples"]

_DIALECTS = {"postgresql", "mysql", "mariadb", "sqlite"}
_SKIPPED = (sa.LargeBinary, sa.Boolean, sa.Float)


@dataclass(frozen=True, slots=True)
class ColumnSample:
    table: str
    column: str
    values: list[object]


def _url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError):
        raise UserInputError(
            "URL: not a database URL; use postgresql+psycopg://user@host/db,"
            " mysql+pymysql://user@host/db or sqlite:///path/to/file.db"
        ) from None
    if parsed.get_backend_name() not in _DIALECTS:
        raise UserInputError(
            f"URL: {parsed.get_backend_name()} is not supported; use PostgreSQL, MariaDB/MySQL"
            " or SQLite"
        )
    return parsed


def open_database(url: str) -> Engine:
    """An engine on ``url`` that only reads (SQLite opened read-only; a read-only session on
    the servers), checked by connecting once. A bad URL, a missing driver or file and an
    unreachable server each raise an error of one line."""
    parsed = _url(url)
    shown = parsed.render_as_string(hide_password=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite(parsed)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=False, poolclass=sa.pool.NullPool)
    except (ImportError, sa_exc.NoSuchModuleError):
        hint = (
            " (pip install 'mamori[mysql]')"
            if parsed.get_backend_name() in {"mysql", "mariadb"}
            else ""
        )
        raise UserInputError(
            f"URL: no driver {parsed.drivername!r} is installed{hint}; for MariaDB use"
            " mysql+pymysql://, for PostgreSQL postgresql+psycopg://"
        ) from None
    try:
        with engine.connect() as connection:
            # SQLite reads a file's header only when a query needs it: ask for its tables.
            sqlite = parsed.get_backend_name() == "sqlite"
            connection.execute(
                sa.text("SELECT count(*) FROM sqlite_master" if sqlite else "SELECT 1")
            )
    except sa_exc.DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnavailable(f"{shown} cannot be reached: {_reason(exc, parsed)}") from None
    return engine


def _sqlite(parsed: URL) -> Engine:
    database = parsed.database or ""
    if not database or database == ":memory:":
        raise UserInputError("URL: name a SQLite file (sqlite:///path/to/file.db)")
    path = Path(database)
    if not path.is_file():
        raise UserInputError(f"URL: no SQLite file at {path}")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return sa.create_engine(
        parsed, creator=lambda: sqlite3.connect(uri, uri=True), poolclass=sa.pool.NullPool
    )


def _reason(exc: sa_exc.DBAPIError, parsed: URL) -> str:
    lines = str(exc.orig or exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    if parsed.password:
        first = first.replace(str(parsed.password), "***")
    return re.sub(r"^\(?[\w.]+\)\s*", "", first)[:300]


def _read_only(connection: sa.Connection) -> None:
    name = connection.dialect.name
    if name == "postgresql":
        connection.execute(sa.text("SET TRANSACTION READ ONLY"))
    elif name in ("mysql", "mariadb"):
        connection.execute(sa.text("START TRANSACTION READ ONLY"))


def samples(engine: Engine, *, rows: int, schema: str | None = None) -> Iterator[ColumnSample]:
    """The values of every column (binary, boolean and floating-point columns skipped) in the
    first ``rows`` rows of every table, table by table in name order, in a read-only
    transaction: one ``SELECT ... LIMIT rows`` a table, so a scan costs the same on a table
    of a thousand rows as on one of a billion."""
    try:
        with engine.connect() as connection:
            _read_only(connection)
            inspector = sa.inspect(connection)
            for table in sorted(inspector.get_table_names(schema=schema)):
                names = [
                    column["name"]
                    for column in inspector.get_columns(table, schema=schema)
                    if not isinstance(column["type"], _SKIPPED)
                ]
                if not names:
                    continue
                source = sa.table(table, *(sa.column(name) for name in names), schema=schema)
                query = source.select().limit(rows)
                found = connection.execute(query).all()
                for i, name in enumerate(names):
                    yield ColumnSample(table, name, [row[i] for row in found])
            connection.rollback()
    except sa_exc.DBAPIError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"{shown}: reading failed: {_reason(exc, engine.url)}") from None
