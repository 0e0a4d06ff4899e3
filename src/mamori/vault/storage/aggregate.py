"""The vault's queries for aggregation: pages of the people (and of the usage events) a
statistics-only or pseudonymised purpose may use, and their ids alone.

Everyone here is active, of one of the given types and has not stopped the purpose; an item the
person stopped is not fetched. Values leave encrypted: the caller decrypts them
(:mod:`mamori.vault.aggregate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = [
    "HELD",
    "NOT_HELD",
    "STALE",
    "event_page",
    "grouped_counts",
    "people_page",
    "population",
    "population_prefixes",
    "stale_people",
    "without_jit",
]

subjects = tables.subjects
items_t = tables.subject_items
events_t = tables.usage_events
stops_t = tables.restrictions
consents_t = tables.policy_consents
groups_t = tables.item_groups

StaleRow = tuple[str, bytes | None, list[tuple[bytes | None, dt.datetime | None]]]

NOT_HELD = 0
"""A person who does not hold the item, or stopped it: counted in the cell of the unknown."""
STALE = 1
"""A person whose item has no token (written before a policy declared the dimension, or by a
process that did not know it yet): the value is decrypted instead."""
HELD = 2
"""A person whose item has its token."""


def _people(
    conn: Connection,
    purpose: str,
    types: Sequence[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    consent_gates: Iterable[tuple[int, dt.datetime]],
) -> list[sa.ColumnElement[bool]]:
    stopped = sa.exists().where(
        stops_t.c.subject_id == subjects.c.id,
        stops_t.c.scope == "purpose",
        stops_t.c.target == purpose,
    )
    # ``type || ''`` keeps SQLite on the primary key; PostgreSQL's planner needs the plain
    # column's statistics (see subjects.bulk_page).
    of_type = subjects.c.type if conn.dialect.name == "postgresql" else subjects.c.type + ""
    where = [subjects.c.status == "active", of_type.in_(types), ~stopped]
    if since is not None:
        where.append(subjects.c.created_at >= since)
    if until is not None:
        where.append(subjects.c.created_at < until)
    for version, published_at in consent_gates:
        consented = sa.exists().where(
            consents_t.c.subject_id == subjects.c.id, consents_t.c.version == version
        )
        where.append(sa.or_(subjects.c.created_at >= published_at, consented))
    return where


def _events_where(
    conn: Connection,
    purpose: str,
    types: Sequence[str],
    event_item: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[sa.ColumnElement[bool]]:
    where = [
        *_people(conn, purpose, types, None, None, ()),
        ~sa.exists().where(
            stops_t.c.subject_id == subjects.c.id,
            stops_t.c.scope == "item",
            stops_t.c.target == event_item,
        ),
    ]
    if since is not None:
        where.append(events_t.c.occurred_at >= since)
    if until is not None:
        where.append(events_t.c.occurred_at < until)
    return where


def _population_query(
    conn: Connection,
    purpose: str,
    types: Sequence[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    event_item: str | None,
    consent_gates: Iterable[tuple[int, dt.datetime]],
    holding: str | None,
) -> sa.Select[str]:
    if event_item is None:
        where = _people(conn, purpose, types, since, until, consent_gates)
        if holding is not None:
            where.append(
                sa.exists().where(
                    items_t.c.subject_id == subjects.c.id, items_t.c.item_id == holding
                )
            )
            where.append(
                ~sa.exists().where(
                    stops_t.c.subject_id == subjects.c.id,
                    stops_t.c.scope == "item",
                    stops_t.c.target == holding,
                )
            )
        return sa.select(subjects.c.id).where(*where)
    return sa.select(subjects.c.id).where(
        sa.exists().where(
            events_t.c.subject_id == subjects.c.id,
            *(
                w
                for w in (
                    events_t.c.occurred_at >= since if since is not None else None,
                    events_t.c.occurred_at < until if until is not None else None,
                )
                if w is not None
            ),
        ),
        *_events_where(conn, purpose, types, event_item, None, None),
    )


def population_prefixes(
    conn: Connection,
    *,
    purpose: str,
    types: Sequence[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    event_item: str | None = None,
    consent_gates: Iterable[tuple[int, dt.datetime]] = (),
    holding: str | None = None,
) -> str:
    """The first 16 characters of the ids of everyone :func:`population` gives (padded with
    ``0``), run together in one string: one row to fetch, not one per person."""
    ids = _population_query(
        conn, purpose, types, since, until, event_item, consent_gates, holding
    ).subquery("people")
    joined = _prefixes(conn, ids.c.id)
    return conn.execute(sa.select(joined)).scalar_one()


def _prefixes(conn: Connection, ids: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The first 16 characters of each id (padded with ``0``) run together, '' for none."""
    prefix = sa.func.substr(ids + "0000000000000000", 1, 16)
    if conn.dialect.name == "postgresql":
        joined = sa.func.string_agg(prefix, sa.literal_column("''"))
    else:
        joined = sa.func.group_concat(prefix, "")
    return sa.func.coalesce(joined, "")


def population(
    conn: Connection,
    *,
    purpose: str,
    types: Sequence[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
    event_item: str | None = None,
    consent_gates: Iterable[tuple[int, dt.datetime]] = (),
    holding: str | None = None,
) -> list[str]:
    """The ids of everyone a query counts, sorted: people arrived in [since, until) (with
    ``holding``: who hold that item and have not stopped it), or, with ``event_item``, people
    with a usage event in that window."""
    query = _population_query(
        conn, purpose, types, since, until, event_item, consent_gates, holding
    )
    return list(conn.execute(query.order_by(subjects.c.id)).scalars())


def people_page(
    conn: Connection,
    *,
    purpose: str,
    types: Sequence[str],
    item_ids: Sequence[str],
    after: str,
    limit: int,
    since: dt.datetime | None,
    until: dt.datetime | None,
    consent_gates: Iterable[tuple[int, dt.datetime]] = (),
    arrived: bool = True,
) -> list[tuple[str, bytes | None, dt.datetime | None, str | None, bytes | None]]:
    """(subject id, wrapped key, arrived at, item id, ciphertext) of the next ``limit`` people
    after ``after``: a row per item of ``item_ids`` held and not stopped, one with no item
    for a person who holds none, in subject order. Without ``arrived`` the time is None (its
    conversion costs as much as the rest of the row)."""
    when = subjects.c.created_at if arrived else sa.null().label("created_at")
    page = (
        sa.select(subjects.c.id, subjects.c.wrapped_key, when)
        .where(subjects.c.id > after, *_people(conn, purpose, types, since, until, consent_gates))
        .order_by(subjects.c.id)
        .limit(limit)
        .subquery("page")
    )
    # Joins, not a correlated EXISTS per row: an item the person stopped comes back with its
    # stop, and is dropped here.
    item_stop = stops_t.alias("item_stop")
    joined = page.outerjoin(
        items_t,
        sa.and_(
            items_t.c.subject_id == page.c.id,
            items_t.c.item_id.in_(list(item_ids) or [""]),
        ),
    ).outerjoin(
        item_stop,
        sa.and_(
            item_stop.c.subject_id == page.c.id,
            item_stop.c.scope == "item",
            item_stop.c.target == items_t.c.item_id,
        ),
    )
    rows = conn.execute(
        sa.select(
            page.c.id,
            page.c.wrapped_key,
            page.c.created_at,
            items_t.c.item_id,
            items_t.c.ciphertext,
            item_stop.c.target,
        )
        .select_from(joined)
        .order_by(page.c.id)
    ).all()
    return [
        (row[0], row[1], row[2], None, None) if row[5] is not None else (*row[:5],) for row in rows
    ]


def event_page(
    conn: Connection,
    *,
    purpose: str,
    types: Sequence[str],
    event_item: str,
    after: int,
    limit: int,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[tuple[int, str, bytes | None, dt.datetime, bytes]]:
    """(event id, subject id, wrapped key, occurred at, ciphertext) of the next ``limit`` usage
    events after id ``after`` in [since, until), of people who have not stopped the purpose or
    the event stream."""
    rows = conn.execute(
        sa.select(
            events_t.c.id,
            events_t.c.subject_id,
            subjects.c.wrapped_key,
            events_t.c.occurred_at,
            events_t.c.ciphertext,
        )
        .select_from(events_t.join(subjects, subjects.c.id == events_t.c.subject_id))
        .where(
            events_t.c.id > after, *_events_where(conn, purpose, types, event_item, since, until)
        )
        .order_by(events_t.c.id)
        .limit(limit)
    ).all()
    return [tuple(row) for row in rows]


@dataclass(frozen=True)
class _Joined:
    """One dimension's joins: its state and its token."""

    state: sa.ColumnElement[int]
    token: sa.ColumnElement[bytes]
    stopped: sa.ColumnElement[bool]
    stale: sa.ColumnElement[bool]
    item_id: str


def _grouped_joins(dims: Sequence[tuple[str, str]]) -> tuple[sa.FromClause, list[_Joined]]:
    """subjects joined, per dimension (item, derivation), to the item's token, with each
    dimension's state: :data:`NOT_HELD` (stopped, or no item), :data:`HELD` (a token), or
    :data:`STALE` (an item without a token). The item itself is looked up only for people
    without a token: the tokens say who holds the item."""
    joined: sa.FromClause = subjects
    found: list[_Joined] = []
    for n, (item_id, derive) in enumerate(dims):
        group = groups_t.alias(f"g{n}")
        joined = joined.outerjoin(
            group,
            sa.and_(
                group.c.subject_id == subjects.c.id,
                group.c.item_id == item_id,
                group.c.derive == derive,
            ),
        )
        stopped = subjects.c.id.in_(
            sa.select(stops_t.c.subject_id).where(
                stops_t.c.scope == "item", stops_t.c.target == item_id
            )
        )
        held = sa.exists().where(
            items_t.c.subject_id == subjects.c.id, items_t.c.item_id == item_id
        )
        found.append(
            _Joined(
                state=sa.case(
                    (stopped, NOT_HELD),
                    (group.c.token.is_not(None), HELD),
                    (held, STALE),
                    else_=NOT_HELD,
                ),
                token=group.c.token,
                stopped=stopped,
                stale=sa.and_(group.c.token.is_(None), ~stopped, held),
                item_id=item_id,
            )
        )
    return joined, found


def without_jit(conn: Connection) -> None:
    """No JIT compilation for the rest of ``conn``'s transaction (PostgreSQL): the planner's
    cost of a grouped count is inflated by its per-row subqueries past ``jit_above_cost``, and
    compiling took 170 ms of a 310 ms count of 100,000 people."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")


def grouped_counts(
    conn: Connection,
    *,
    purpose: str,
    types: Sequence[str],
    dims: Sequence[tuple[str, str]],
    since: dt.datetime | None,
    until: dt.datetime | None,
    consent_gates: Iterable[tuple[int, dt.datetime]] = (),
    with_people: bool = False,
) -> tuple[list[tuple[tuple[int, ...], tuple[bytes | None, ...], int]], str | None]:
    """(states, tokens, people) of the people a query for ``purpose`` counts (arrived in
    [since, until)), grouped in the database by each dimension's token; and, ``with_people``,
    what :func:`population_prefixes` gives of the same people (in no order), from the same
    scan. Nothing is decrypted; people with a dimension :data:`STALE` are read by
    :func:`stale_people` instead.

    Grouped by the tokens alone (a few dozen groups the planner can hash), with the people who
    stopped an item, or have one without a token, summed beside them."""
    joined, found = _grouped_joins(dims)
    tokens = [d.token.label(f"t{n}") for n, d in enumerate(found)]
    any_stale = sa.or_(sa.false(), *(d.stale for d in found))
    masks = range(1, 2 ** len(found))

    def stopped_as(mask: int) -> sa.ColumnElement[bool]:
        return sa.and_(
            ~any_stale,
            *(d.stopped if mask >> n & 1 else ~d.stopped for n, d in enumerate(found)),
        )

    def people(where: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((where, 1), else_=0)), 0)

    query = (
        sa.select(
            *tokens,
            sa.func.count(),
            people(any_stale),
            *(people(stopped_as(m)) for m in masks),
            _prefixes(conn, subjects.c.id) if with_people else sa.null(),
        )
        .select_from(joined)
        .where(*_people(conn, purpose, types, since, until, consent_gates))
        .group_by(*tokens)
    )
    width = len(dims)
    out: list[tuple[tuple[int, ...], tuple[bytes | None, ...], int]] = []
    prefixes: list[str] = []
    for row in conn.execute(query):
        values: tuple[Any, ...] = tuple(row)
        found_tokens: tuple[bytes | None, ...] = values[:width]
        total: int = values[width]
        stale: int = values[width + 1]
        stopped: list[int] = list(values[width + 2 : -1])
        prefixes.append(values[-1] or "")
        held = tuple(NOT_HELD if t is None else HELD for t in found_tokens)
        if stale:
            out.append(((STALE,) * width, found_tokens, stale))
        for mask, n in zip(masks, stopped, strict=True):
            if n:
                states = tuple(NOT_HELD if mask >> i & 1 else h for i, h in enumerate(held))
                out.append((states, found_tokens, n))
        rest = total - stale - sum(stopped)
        if rest:
            out.append((held, found_tokens, rest))
    return out, "".join(prefixes) if with_people else None


def stale_people(
    conn: Connection,
    *,
    purpose: str,
    types: Sequence[str],
    dims: Sequence[tuple[str, str]],
    batch: int,
    since: dt.datetime | None,
    until: dt.datetime | None,
    consent_gates: Iterable[tuple[int, dt.datetime]] = (),
) -> Iterator[list[StaleRow]]:
    """Batches of (subject id, wrapped key, per dimension the (ciphertext, updated at) of the
    item held and not stopped, else (None, None)) of the people a query counts that have a
    dimension :data:`STALE`: one query, streamed (a server-side cursor on PostgreSQL)."""
    joined, found = _grouped_joins(dims)
    columns: list[sa.ColumnElement[Any]] = []
    for n, dim in enumerate(found):
        item = items_t.alias(f"i{n}")
        joined = joined.outerjoin(
            item, sa.and_(item.c.subject_id == subjects.c.id, item.c.item_id == dim.item_id)
        )
        usable = dim.state != NOT_HELD
        columns += [
            sa.case((usable, item.c.ciphertext), else_=sa.null()),
            sa.case((usable, item.c.updated_at), else_=sa.null()),
        ]
    query = (
        sa.select(subjects.c.id, subjects.c.wrapped_key, *columns)
        .select_from(joined)
        .where(
            *_people(conn, purpose, types, since, until, consent_gates),
            sa.or_(*(d.state == STALE for d in found)),
        )
    )
    width = len(dims)
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
    for rows in result.partitions():
        yield [
            (row[0], row[1], [(row[2 + 2 * n], row[3 + 2 * n]) for n in range(width)])
            for row in rows
        ]
