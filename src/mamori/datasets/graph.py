"""A dataset as a graph: its tables joined by references (the database's foreign keys and the
ones the declaration adds), the tables that hold an identity as the roots, an order that puts
every table after the tables it refers to, and the checks of ``mamori datasets check``.

Pure: it works on the shapes :mod:`mamori.datasets.storage` read from the database.

A reference from a child table to a parent (``orders.account_id -> accounts.id``) is followed
from parent to child: the person's orders are the orders of the person's account. It is not
followed back (the invitation an RSVP answers is its host's, not the guest's). A table's own
reference to itself is not followed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from mamori.datasets.model import Dataset, Erase, Table
from mamori.datasets.storage import ForeignKey, TableShape

__all__ = ["CASCADING", "HASH_LENGTH", "Edge", "Graph", "Node", "build", "problems"]

HASH_LENGTH: Final = 43
"""Characters of a keyed hash written by erasure (``h1:`` and 40 hex digits)."""
CASCADING: Final = {"CASCADE", "SET NULL", "SET DEFAULT"}


@dataclass(frozen=True)
class Edge:
    parent: str
    child: str
    child_columns: tuple[str, ...]
    parent_columns: tuple[str, ...]
    on_delete: str | None
    declared: bool
    follow: bool = True


@dataclass(frozen=True)
class Node:
    name: str
    table: Table
    shape: TableShape

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(self.table.primary_key or ()) or self.shape.primary_key

    @property
    def deletes(self) -> bool:
        """An erasure deletes the person's rows of this table (a column says ``delete``)."""
        return any(c.erase is Erase.delete for c in self.table.columns.values())

    @property
    def updates(self) -> dict[str, Erase]:
        """Column -> what an erasure writes there, for a table whose rows stay."""
        if self.deletes:
            return {}
        return {
            name: c.erase
            for name, c in self.table.columns.items()
            if c.erase in (Erase.set_null, Erase.rewrite, Erase.hash)
        }


@dataclass
class Graph:
    dataset: Dataset
    nodes: dict[str, Node]
    edges: list[Edge] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def parents_of(self, name: str) -> list[Edge]:
        """The references followed into ``name``."""
        return [e for e in self.edges if e.child == name and e.follow]

    def children_of(self, name: str, *, every: bool = False) -> list[Edge]:
        """The references followed out of ``name`` (``every``: those not followed too)."""
        return [e for e in self.edges if e.parent == name and (e.follow or every)]

    @property
    def roots(self) -> list[str]:
        return sorted(n for n, node in self.nodes.items() if node.table.identities)

    def reachable(self) -> set[str]:
        seen = set(self.roots)
        todo = list(seen)
        while todo:
            for edge in self.children_of(todo.pop()):
                if edge.child not in seen:
                    seen.add(edge.child)
                    todo.append(edge.child)
        return seen

    def order(self) -> list[str]:
        """The reachable tables, each after every reachable table it refers to (a cycle of
        references is broken by name)."""
        reachable = self.reachable()
        waiting = {
            n: {e.parent for e in self.parents_of(n) if e.parent in reachable} for n in reachable
        }
        out: list[str] = []
        while waiting:
            ready = sorted(n for n, parents in waiting.items() if not parents - set(out))
            if not ready:  # a cycle: take the first by name
                ready = [min(waiting)]
            for name in ready:
                out.append(name)
                del waiting[name]
        return out


def build(dataset: Dataset, shapes: Mapping[str, TableShape | None]) -> Graph:
    """The graph of ``dataset`` over the database's ``shapes`` (tables the database lacks are
    listed in ``missing``)."""
    graph = Graph(dataset, {})
    for name, table in dataset.tables.items():
        shape = shapes.get(name)
        if shape is None:
            graph.missing.append(name)
            continue
        graph.nodes[name] = Node(name, table, shape)
    for name, node in graph.nodes.items():
        found: list[ForeignKey] = list(node.shape.foreign_keys)
        declared = [
            ForeignKey(tuple(r.columns), r.table, tuple(r.to), None) for r in node.table.references
        ]
        for fk, is_declared in [*((f, False) for f in found), *((f, True) for f in declared)]:
            if fk.table == name or fk.table not in graph.nodes:
                continue
            follow = fk.table not in node.table.not_through
            edge = Edge(fk.table, name, fk.columns, fk.to, fk.on_delete, is_declared, follow)
            if any(
                (e.parent, e.child, e.child_columns) == (edge.parent, name, edge.child_columns)
                for e in graph.edges
            ):
                continue
            graph.edges.append(edge)
    return graph


def problems(graph: Graph) -> Iterator[tuple[str, str]]:
    """(path in the declaration, message) of what would fail: tables or columns the database
    lacks, tables no identity reaches, tables without a key, and erasures that would break a
    constraint."""
    for name in graph.missing:
        yield f"tables.{name}", f"the database has no table '{name}'"
    reachable = graph.reachable()
    for name, node in sorted(graph.nodes.items()):
        at = f"tables.{name}"
        known = node.shape.columns
        named = [
            *(("columns", c) for c in node.table.columns),
            *(("identities", c) for c in node.table.identities),
            *(("primary_key", c) for c in node.table.primary_key or ()),
            *(
                (f"references.{n}", c)
                for n, r in enumerate(node.table.references)
                for c in r.columns
            ),
        ]
        for where, column in named:
            if column not in known:
                yield f"{at}.{where}", f"the table has no column '{column}'"
        if name not in reachable:
            yield (
                at,
                (
                    "unreachable: no identity column and no reference from a table that has one "
                    "(add identities, or a reference the database does not declare)"
                ),
            )
        if not node.primary_key:
            yield (
                at,
                "no primary key in the database: declare primary_key so rows can be found again",
            )
        for column in node.table.identities:
            if column not in node.table.columns:
                yield (
                    f"{at}.identities.{column}",
                    (f"identity column '{column}' is not under columns: declare its item, erasure"),
                )
        yield from _erasure_problems(graph, node)


def _erasure_problems(graph: Graph, node: Node) -> Iterator[tuple[str, str]]:
    at = f"tables.{node.name}"
    fk_columns = {c for e in graph.parents_of(node.name) for c in e.child_columns}
    fk_columns |= {c for fk in node.shape.foreign_keys for c in fk.columns}
    for column, erase in node.updates.items():
        shape = node.shape.columns.get(column)
        where = f"{at}.columns.{column}.erase"
        if shape is None:
            continue
        if column in node.primary_key:
            yield where, f"'{column}' is part of the primary key: only delete can erase it"
        elif erase is Erase.set_null and not shape.nullable:
            yield (
                where,
                f"'{column}' is NOT NULL in the database: set_null would fail (rewrite, delete)",
            )
        elif erase in (Erase.rewrite, Erase.hash) and column in fk_columns:
            yield (
                where,
                f"'{column}' refers to another table: {erase.value} would break the reference",
            )
        elif erase is Erase.hash and (
            not shape.text or (shape.length or HASH_LENGTH) < HASH_LENGTH
        ):
            yield where, f"'{column}' cannot hold a keyed hash ({HASH_LENGTH} characters of text)"
        elif erase is Erase.rewrite:
            value = graph.dataset.tables[node.name].columns[column].value or ""
            if shape.length is not None and len(value) > shape.length:
                yield where, f"the rewrite value is longer than '{column}' holds ({shape.length})"
    if not node.deletes:
        return
    for edge in graph.children_of(node.name, every=True):
        child = graph.nodes[edge.child]
        if (edge.on_delete or "").upper() in CASCADING:
            continue
        if not edge.follow:
            cols = ", ".join(edge.child_columns)
            yield (
                f"tables.{edge.child}.not_through",
                (
                    f"deleting the person's rows of '{node.name}' would break the reference "
                    f"{edge.child}({cols}), whose rows are not erased with them (not_through): "
                    "the database must cascade it (ON DELETE CASCADE or SET NULL)"
                ),
            )
            continue
        if child.deletes:
            continue
        nulled = all(child.updates.get(c) is Erase.set_null for c in edge.child_columns)
        if not nulled:
            cols = ", ".join(edge.child_columns)
            yield (
                f"tables.{edge.child}",
                (
                    f"deleting the person's rows of '{node.name}' would break the reference "
                    f"{edge.child}({cols}): delete these rows too, or set_null {cols}"
                ),
            )
