"""The vault's queries for aggregation: pages of the people (and of the usage events) a
statistics-only or pseudonymised purpose may use, and their ids alone.

Everyone here is active, of one of the given types and has not stopped the purpose; an item the
person stopped is not fetched. Values leave encrypted: the caller decrypts them
(:mod:`mamori.vault.aggregate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = ["event_page", "people_page", "population"]

subjects = tables.subjects
items_t = tables.subject_items
events_t = tables.usage_events
stops_t = tables.restrictions
consents_t = tables.policy_consents


def _people(
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
    # ``type || ''``: see subjects.bulk_page (keeps SQLite on the primary key).
    where = [subjects.c.status == "active", (subjects.c.type + "").in_(types), ~stopped]
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
    purpose: str,
    types: Sequence[str],
    event_item: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[sa.ColumnElement[bool]]:
    where = [
        *_people(purpose, types, None, None, ()),
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
    if event_item is None:
        where = _people(purpose, types, since, until, consent_gates)
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
        query = sa.select(subjects.c.id).where(*where)
    else:
        query = sa.select(subjects.c.id).where(
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
            *_events_where(purpose, types, event_item, None, None),
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
        .where(subjects.c.id > after, *_people(purpose, types, since, until, consent_gates))
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
        .where(events_t.c.id > after, *_events_where(purpose, types, event_item, since, until))
        .order_by(events_t.c.id)
        .limit(limit)
    ).all()
    return [tuple(row) for row in rows]
