"""The SQL of :mod:`mamori.datasets`, in two parts: the operator's connected databases (their
constraints read by SQLAlchemy's inspector; the person's rows paged by key; deletes and updates
by primary key) and mamori's own tables of erasure plans and their checkpoints.

A connected database is PostgreSQL (psycopg 3) or MySQL/MariaDB (PyMySQL, the ``mysql`` extra),
or SQLite. Names of tables and columns come from a validated declaration and are quoted by
SQLAlchemy; values are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mamori.errors import DatasetUnavailable
from mamori.store.db import Connection, Engine
from mamori.store.tables import dataset_erasure_steps as steps_t
from mamori.store.tables import dataset_erasures as erasures_t

__all__ = [
    "ColumnShape",
    "ErasureRecord",
    "ForeignKey",
    "Match",
    "StepRecord",
    "TableShape",
    "count_by_keys",
    "count_left",
    "delete_by_keys",
    "erasure_of",
    "hash_by_keys",
    "inspect_tables",
    "mark_step",
    "open_database",
    "record_erasure",
    "rows_page",
    "set_state",
    "steps_of",
    "update_by_keys",
]

KeyRow = tuple[Any, ...]
MAX_IN: Final = 5000
"""Values in one IN list (a longer list is split into several ORed lists of one statement)."""


@dataclass(frozen=True)
class ColumnShape:
    name: str
    nullable: bool
    length: int | None  # of a string type; None otherwise or unbounded
    text: bool  # a string type


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    to: tuple[str, ...]
    on_delete: str | None  # CASCADE, SET NULL, ... as the database says; None: no action


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: Mapping[str, ColumnShape]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]


@dataclass(frozen=True)
class Match:
    """Rows whose ``columns`` hold one of ``values`` (tuples, one value per column)."""

    columns: tuple[str, ...]
    values: Sequence[KeyRow]


# -- the operator's databases ------------------------------------------------------------------


def open_database(url: str, name: str) -> Engine:
    """An engine for a connected database (``name``: the setting it came from, for messages).
    ``mysql://`` and ``mariadb://`` use PyMySQL; ``postgresql://`` psycopg 3."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise DatasetUnavailable(f"{name}: not a database URL") from None
    backend = parsed.get_backend_name()
    if backend in ("mysql", "mariadb") and "+" not in parsed.drivername:
        parsed = parsed.set(drivername=f"{backend}+pymysql")
    if backend == "postgresql" and "+" not in parsed.drivername:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("postgresql", "mysql", "mariadb", "sqlite"):
        raise DatasetUnavailable(f"{name}: database {backend!r} is not supported")
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=2, max_overflow=2)
    except ModuleNotFoundError as exc:
        raise DatasetUnavailable(
            f"{name}: the driver {exc.name} is not installed (pip install 'mamori[mysql]')"
        ) from None
    except (TypeError, sa.exc.ArgumentError):  # sqlite has no pool size
        return sa.create_engine(parsed)


def inspect_tables(
    engine: Engine, namespace: str | None, names: Sequence[str]
) -> dict[str, TableShape | None]:
    """The shape of each of ``names`` as the database declares it (None: no such table)."""
    inspector = sa.inspect(engine)
    present = set(inspector.get_table_names(schema=namespace))
    out: dict[str, TableShape | None] = {}
    for name in names:
        if name not in present:
            out[name] = None
            continue
        columns: dict[str, ColumnShape] = {}
        for col in inspector.get_columns(name, schema=namespace):
            kind = col["type"]
            text = isinstance(kind, sa.String)
            length = getattr(kind, "length", None) if text else None
            columns[col["name"]] = ColumnShape(col["name"], bool(col["nullable"]), length, text)
        pk = tuple(inspector.get_pk_constraint(name, schema=namespace)["constrained_columns"])
        fks = tuple(
            ForeignKey(
                tuple(fk["constrained_columns"]),
                fk["referred_table"],
                tuple(fk["referred_columns"]),
                (fk.get("options") or {}).get("ondelete"),
            )
            for fk in inspector.get_foreign_keys(name, schema=namespace)
            if fk.get("referred_schema") in (None, namespace)
        )
        out[name] = TableShape(name, columns, pk, fks)
    return out


def _table(namespace: str | None, name: str, columns: Sequence[str]) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in dict.fromkeys(columns)), schema=namespace)


def _cols(table: sa.TableClause, names: Sequence[str]) -> list[sa.ColumnClause[Any]]:
    return [table.c[n] for n in names]


def _in(table: sa.TableClause, columns: Sequence[str], values: Sequence[KeyRow]) -> Any:
    cols = _cols(table, columns)
    parts = []
    for start in range(0, len(values), MAX_IN):
        chunk = values[start : start + MAX_IN]
        if len(cols) == 1:
            parts.append(cols[0].in_([v[0] for v in chunk]))
        else:
            parts.append(sa.tuple_(*cols).in_([tuple(v) for v in chunk]))
    return sa.or_(*parts) if len(parts) > 1 else parts[0]


def _matching(table: sa.TableClause, matches: Sequence[Match]) -> Any:
    return sa.or_(*(_in(table, m.columns, m.values) for m in matches if m.values))


def _after(table: sa.TableClause, pk: Sequence[str], after: KeyRow) -> Any:
    cols = _cols(table, pk)
    if len(cols) == 1:
        return cols[0] > after[0]
    return sa.tuple_(*cols) > sa.tuple_(*(sa.literal(v) for v in after))


def rows_page(
    conn: Connection,
    namespace: str | None,
    name: str,
    pk: Sequence[str],
    columns: Sequence[str],
    matches: Sequence[Match],
    *,
    after: KeyRow | None,
    limit: int,
) -> list[KeyRow]:
    """A page of the rows that ``matches`` find, in primary-key order after ``after``: each
    row is the key's values then ``columns``' values."""
    table = _table(namespace, name, [*pk, *columns, *(c for m in matches for c in m.columns)])
    query = sa.select(*_cols(table, pk), *_cols(table, columns)).where(_matching(table, matches))
    if after is not None:
        query = query.where(_after(table, pk, after))
    query = query.order_by(*_cols(table, pk)).limit(limit)
    return [tuple(row) for row in conn.execute(query)]


def count_left(conn: Connection, namespace: str | None, name: str, matches: Sequence[Match]) -> int:
    """How many rows ``matches`` still find."""
    if not any(m.values for m in matches):
        return 0
    table = _table(namespace, name, [c for m in matches for c in m.columns])
    query = sa.select(sa.func.count()).select_from(table).where(_matching(table, matches))
    return int(conn.execute(query).scalar_one())


def count_by_keys(
    conn: Connection,
    namespace: str | None,
    name: str,
    pk: Sequence[str],
    keys: Sequence[KeyRow],
    still: Mapping[str, tuple[str, str | None]] | None = None,
) -> int:
    """How many of the rows ``keys`` exist (``still``: only those where a column still holds
    a value its erasure should have replaced: column -> (action, rewrite value))."""
    columns = list(still or {})
    table = _table(namespace, name, [*pk, *columns])
    query = sa.select(sa.func.count()).select_from(table).where(_in(table, pk, keys))
    if still:
        held: list[sa.ColumnElement[bool]] = []
        for column, (action, value) in still.items():
            col = table.c[column]
            if action == "set_null":
                held.append(col.is_not(None))
            elif action == "rewrite":
                held.append(sa.or_(col.is_(None), col != value))
            else:  # hash
                held.append(sa.and_(col.is_not(None), sa.not_(col.like(f"{HASH_PREFIX}%"))))
        query = query.where(sa.or_(*held))
    return int(conn.execute(query).scalar_one())


HASH_PREFIX: Final = "h1:"


def delete_by_keys(
    conn: Connection, namespace: str | None, name: str, pk: Sequence[str], keys: Sequence[KeyRow]
) -> int:
    table = _table(namespace, name, pk)
    return int(conn.execute(sa.delete(table).where(_in(table, pk, keys))).rowcount)


def update_by_keys(
    conn: Connection,
    namespace: str | None,
    name: str,
    pk: Sequence[str],
    keys: Sequence[KeyRow],
    values: Mapping[str, object],
) -> int:
    """Set ``values`` (column -> a value or None) on the rows ``keys``: one statement."""
    table = _table(namespace, name, [*pk, *values])
    statement = sa.update(table).where(_in(table, pk, keys)).values(dict(values))
    return int(conn.execute(statement).rowcount)


def hash_by_keys(
    conn: Connection,
    namespace: str | None,
    name: str,
    pk: Sequence[str],
    keys: Sequence[KeyRow],
    columns: Sequence[str],
    digest: Callable[[str], str],
) -> int:
    """Replace ``columns`` of the rows ``keys`` by ``digest`` of their value (each begins with
    :data:`HASH_PREFIX`; a value that already does is left as it is, so a step run again after
    a crash changes nothing twice). Returns the rows changed."""
    table = _table(namespace, name, [*pk, *columns])
    rows = conn.execute(
        sa.select(*_cols(table, pk), *_cols(table, columns)).where(_in(table, pk, keys))
    ).all()
    changed = 0
    for row in rows:
        key, held = tuple(row[: len(pk)]), row[len(pk) :]
        values = {
            c: digest(str(v))
            for c, v in zip(columns, held, strict=True)
            if v is not None and not str(v).startswith(HASH_PREFIX)
        }
        if values:
            changed += update_by_keys(conn, namespace, name, pk, [key], values)
    return changed


# -- mamori's plans and checkpoints ------------------------------------------------------------


@dataclass(frozen=True)
class ErasureRecord:
    request_id: str
    subject_id: str
    state: str
    steps: int
    row_count: int
    reason: str | None
    planned_by: str
    planned_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True)
class StepRecord:
    seq: int
    dataset: str
    table: str
    action: str
    columns: dict[str, Any]
    keys: list[KeyRow]
    row_count: int
    done_at: dt.datetime | None
    affected: int | None


def erasure_of(conn: Connection, request_id: str) -> ErasureRecord | None:
    row = conn.execute(sa.select(erasures_t).where(erasures_t.c.request_id == request_id)).first()
    return ErasureRecord(**row._mapping) if row is not None else None


def record_erasure(conn: Connection, record: ErasureRecord, steps: Sequence[StepRecord]) -> None:
    """The plan and its steps, in the caller's transaction."""
    conn.execute(sa.insert(erasures_t).values(**record.__dict__))
    for start in range(0, len(steps), 500):
        conn.execute(
            sa.insert(steps_t),
            [
                {
                    "request_id": record.request_id,
                    "seq": s.seq,
                    "dataset": s.dataset,
                    "table_name": s.table,
                    "action": s.action,
                    "columns": orjson.dumps(s.columns).decode(),
                    "keys": orjson.dumps(s.keys).decode(),
                    "row_count": s.row_count,
                    "done_at": None,
                    "affected": None,
                }
                for s in steps[start : start + 500]
            ],
        )


def steps_of(conn: Connection, request_id: str, *, pending: bool = False) -> Iterator[StepRecord]:
    """The plan's steps in order (``pending``: only those not done)."""
    query = sa.select(steps_t).where(steps_t.c.request_id == request_id)
    if pending:
        query = query.where(steps_t.c.done_at.is_(None))
    for row in conn.execute(query.order_by(steps_t.c.seq)):
        yield StepRecord(
            row.seq,
            row.dataset,
            row.table_name,
            row.action,
            orjson.loads(row.columns),
            [tuple(k) for k in orjson.loads(row.keys)],
            row.row_count,
            row.done_at,
            row.affected,
        )


def mark_step(
    conn: Connection, request_id: str, seq: int, *, done_at: dt.datetime, affected: int
) -> None:
    conn.execute(
        sa.update(steps_t)
        .where(steps_t.c.request_id == request_id, steps_t.c.seq == seq)
        .values(done_at=done_at, affected=affected)
    )


def set_state(
    conn: Connection,
    request_id: str,
    state: str,
    *,
    reason: str | None = None,
    finished_at: dt.datetime | None = None,
) -> None:
    conn.execute(
        sa.update(erasures_t)
        .where(erasures_t.c.request_id == request_id)
        .values(state=state, reason=reason, finished_at=finished_at)
    )
