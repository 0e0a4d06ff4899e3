"""The person's rows in a connected database: from the vault's values of their identities
(e-mail, phone, an external id, a custom item), through the dataset's graph in dependency
order, page by page.

Memory stays bounded by a page (:data:`PAGE` rows) plus the keys of the person's rows in the
tables that other tables refer to (an account's id, an order's id), which the next tables are
matched against. Each page is a range of the primary key (``WHERE <match> AND key > last
ORDER BY key LIMIT n``), so the database walks its index and never sorts the person's rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import orjson
import phonenumbers

from mamori.datasets import storage
from mamori.datasets.graph import Node
from mamori.datasets.loader import Loaded
from mamori.datasets.model import IdentityKind
from mamori.datasets.sources import Connected
from mamori.errors import DatasetUnavailable
from mamori.store.db import Connection
from mamori.vault import crypto
from mamori.vault.storage import subjects

if TYPE_CHECKING:
    from mamori.vault.core import Vault

__all__ = ["PAGE", "Page", "identities", "seed_items", "walk"]

PAGE: Final = 1000

KeyRow = tuple[Any, ...]


@dataclass(frozen=True)
class Page:
    """Rows of one table: each the primary key's values, then ``columns``' values."""

    node: Node
    columns: tuple[str, ...]
    rows: list[KeyRow]

    def key(self, row: KeyRow) -> KeyRow:
        return row[: len(self.node.primary_key)]

    def values(self, row: KeyRow) -> dict[str, Any]:
        return dict(zip(self.columns, row[len(self.node.primary_key) :], strict=True))


def seed_items(loaded: Sequence[Loaded]) -> list[str]:
    """The vault's items the datasets' identities are matched against."""
    found = {
        ident.vault_item
        for item in loaded
        for table in item.dataset.tables.values()
        for ident in table.identities.values()
        if ident.vault_item
    }
    return sorted(found)


def identities(
    vault: Vault, conn: Connection, subject_id: str, item_ids: Sequence[str]
) -> dict[str, list[Any]]:
    """item id -> the person's values of it in the vault (a list item gives each element)."""
    wrapped = subjects.wrapped_key(conn, subject_id)
    if wrapped is None or not item_ids:
        return {}
    cipher = vault.cipher(subject_id, wrapped)
    out: dict[str, list[Any]] = {}
    for row in subjects.items_of(conn, subject_id, list(item_ids)):
        value = orjson.loads(
            crypto.decrypt(cipher, row.ciphertext, subject_id=subject_id, item_id=row.item_id)
        )
        values = value if isinstance(value, list) else [value]
        out[row.item_id] = [v for v in values if isinstance(v, (str, int)) and v != ""]
    return out


def _forms(kind: IdentityKind, values: Sequence[Any]) -> list[Any]:
    """The ways a database may hold the vault's values: an e-mail address as given and in
    lower case; a telephone number (E.164 in the vault) also written nationally, with and
    without hyphens (``090-1234-5678``, ``09012345678``)."""
    out: dict[Any, None] = {}
    for value in values:
        out[value] = None
        if kind is IdentityKind.email and isinstance(value, str):
            out[value.lower()] = None
        if kind is IdentityKind.phone and isinstance(value, str):
            try:
                number = phonenumbers.parse(value, "JP")
            except phonenumbers.NumberParseException:
                continue
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            out[national] = None
            out["".join(ch for ch in national if ch.isdigit())] = None
    return list(out)


def walk(
    connected: Connected, seeds: Mapping[str, Sequence[Any]], *, page: int = PAGE
) -> Iterator[Page]:
    """Every page of the person's rows, table by table, each table after those it refers to."""
    graph = connected.graph
    namespace = connected.dataset.namespace
    kept: dict[tuple[str, tuple[str, ...]], set[KeyRow]] = {}
    with connected.engine.connect() as conn:
        for name in graph.order():
            node = graph.nodes[name]
            matches: list[storage.Match] = []
            for column, ident in node.table.identities.items():
                values = _forms(ident.kind, seeds.get(ident.vault_item or "") or ())
                if values:
                    matches.append(storage.Match((column,), [(v,) for v in values]))
            for edge in graph.parents_of(name):
                keys = kept.get((edge.parent, edge.parent_columns))
                if keys:
                    matches.append(storage.Match(edge.child_columns, sorted(keys, key=repr)))
            if not matches:
                continue
            pk = node.primary_key
            if not pk:
                raise DatasetUnavailable(
                    f"dataset {connected.dataset.id}: table {name} has no primary key "
                    "(run `mamori datasets check`)"
                )
            wanted = [e.parent_columns for e in graph.children_of(name)]
            columns = tuple(
                dict.fromkeys(
                    [
                        *(c for c in node.table.columns if c not in pk),
                        *(c for cols in wanted for c in cols if c not in pk),
                    ]
                )
            )
            where = [*pk, *columns]
            positions = {cols: [where.index(c) for c in cols] for cols in wanted}
            after: KeyRow | None = None
            while True:
                rows = storage.rows_page(
                    conn, namespace, name, pk, columns, matches, after=after, limit=page
                )
                for cols, idx in positions.items():
                    found = kept.setdefault((name, cols), set())
                    for row in rows:
                        key = tuple(row[i] for i in idx)
                        if None not in key:
                            found.add(key)
                if rows:
                    yield Page(node, columns, rows)
                if len(rows) < page:
                    break
                after = rows[-1][: len(pk)]
