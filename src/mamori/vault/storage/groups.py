"""The vault's queries on group tokens (``item_groups``, :mod:`mamori.vault.groups`): written
with the item, and written afterwards for an item that had none. Deleting them with the item, the
person or a purge is :mod:`.subjects`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from mamori.store import tables

__all__ = ["GroupRow", "heal_groups", "replace_groups"]

items_t = tables.subject_items
groups_t = tables.item_groups


class GroupRow(NamedTuple):
    subject_id: str
    item_id: str
    derive: str
    token: bytes
    item_updated_at: dt.datetime
    """The item's updated_at the token was computed from (it is written only if still so)."""


def _upsert_groups(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(groups_t)


def replace_groups(
    conn: Connection,
    subject_id: str,
    item_id: str,
    tokens: Sequence[tuple[str, bytes]],
    *,
    replacing: bool = True,
) -> None:
    """The item's group tokens become ``tokens`` ((derivation, token) pairs): those of other
    derivations are deleted (a process whose policy declares fewer leaves none stale), unless
    ``replacing`` is False (a new person holds none)."""
    if replacing:
        conn.execute(
            groups_t.delete().where(
                groups_t.c.subject_id == subject_id,
                groups_t.c.item_id == item_id,
                groups_t.c.derive.not_in([d for d, _ in tokens]),
            )
        )
    if not tokens:
        return
    insert = _upsert_groups(conn)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=["subject_id", "item_id", "derive"],
            set_={"token": insert.excluded.token},
        ),
        [
            {"subject_id": subject_id, "item_id": item_id, "derive": d, "token": t}
            for d, t in tokens
        ],
    )


def heal_groups(conn: Connection, rows: Sequence[GroupRow]) -> int:
    """Write the tokens of items whose token was missing, each only if its item is still as it
    was read (locked until the commit on PostgreSQL, so that a concurrent write of the item
    waits and then rewrites or deletes it) and no token has been written since; the number
    written."""
    if not rows:
        return 0
    wanted = {(r.subject_id, r.item_id): r.item_updated_at for r in rows}
    query = sa.select(items_t.c.subject_id, items_t.c.item_id, items_t.c.updated_at).where(
        # Two lists, not a list of pairs: PostgreSQL plans pairs as a scan of every item.
        items_t.c.subject_id.in_(sorted({r.subject_id for r in rows})),
        items_t.c.item_id.in_(sorted({r.item_id for r in rows})),
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    current = {
        (r.subject_id, r.item_id)
        for r in conn.execute(query)
        if wanted.get((r.subject_id, r.item_id)) == r.updated_at
    }
    fresh = [r for r in rows if (r.subject_id, r.item_id) in current]
    if not fresh:
        return 0
    conn.execute(
        _upsert_groups(conn).on_conflict_do_nothing(),
        [
            {"subject_id": r.subject_id, "item_id": r.item_id, "derive": r.derive, "token": r.token}
            for r in fresh
        ],
    )
    return len(fresh)
