"""Dataset files: precise problems (file:line: path: message, the nearest valid id), and the
graph's order and checks over shapes as a database reports them."""

from __future__ import annotations

import pytest

from mamori.datasets import graph as graphs
from mamori.datasets.loader import parse_dataset
from mamori.datasets.storage import ColumnShape, ForeignKey, TableShape
from mamori.errors import DatasetError

ITEMS = ["email", "phone", "name", "address", "linked_service_id"]

GOOD = """\
id: shop
connection: SHOP_DATABASE_URL
tables:
  customers:
    identities: {email: email}
    columns:
      email: {item: email, erase: delete}
  orders:
    columns:
      customer_id: {item: linked_service_id, erase: set_null}
      address: {item: address, erase: rewrite, value: "-"}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        parse_dataset(text, "datasets/shop.yaml", ITEMS)
    return [str(p) for p in caught.value.problems]


def test_a_good_file() -> None:
    dataset = parse_dataset(GOOD, "datasets/shop.yaml", ITEMS)
    assert dataset.tables["customers"].identities["email"].vault_item == "email"
    assert dataset.tables["orders"].columns["address"].value == "-"


def test_problems_name_file_line_path_and_the_nearest_id() -> None:
    text = GOOD.replace("item: address", "item: adress").replace("erase: set_null", "erase: nul")
    assert _problems(text) == [
        "datasets/shop.yaml:10: tables.orders.columns.customer_id.erase: must be one of "
        "'delete', 'set_null', 'rewrite', 'hash' or 'keep' (got 'nul')",
        "datasets/shop.yaml:11: tables.orders.columns.address.item: unknown data item "
        "'adress' (did you mean 'address'?)",
    ]


def test_a_url_or_password_is_refused() -> None:
    text = GOOD.replace("SHOP_DATABASE_URL", "postgresql://shop:secret@db/shop")
    found = _problems(text)
    assert len(found) == 1 and "datasets/shop.yaml:2: connection: name the setting" in found[0]
    assert "secret" not in found[0]


def test_erasure_needs_what_it_writes_and_keep_needs_a_reason() -> None:
    text = GOOD.replace(', value: "-"', "").replace(
        "{item: email, erase: delete}", "{item: email, erase: keep}"
    )
    found = _problems(text)
    assert any("columns.email.reason: erase: keep needs the legal reason" in p for p in found)
    assert any("columns.address.value: erase: rewrite needs the value" in p for p in found)


def test_unknown_keys_tables_and_duplicates() -> None:
    text = GOOD + "    refrences: []\n" + "  orders:\n    columns: {}\n"
    found = _problems(text)
    assert any("duplicate key 'orders'" in p for p in found)
    text = GOOD + "    references:\n      - {columns: [customer_id], table: customer, to: [id]}\n"
    assert any(
        "tables.orders.references[0].table: unknown table 'customer' (did you mean 'customers'?)"
        in p
        for p in _problems(text)
    )


def _shape(name: str, *columns: ColumnShape, fks: tuple[ForeignKey, ...] = ()) -> TableShape:
    cols = {c.name: c for c in (ColumnShape("id", False, None, False), *columns)}
    return TableShape(name, cols, ("id",), fks)


SHAPES = {
    "customers": _shape("customers", ColumnShape("email", False, 254, True)),
    "orders": _shape(
        "orders",
        ColumnShape("customer_id", True, None, False),
        ColumnShape("address", True, 200, True),
        fks=(ForeignKey(("customer_id",), "customers", ("id",), None),),
    ),
}


def test_the_graph_orders_parents_first_and_checks_pass() -> None:
    graph = graphs.build(parse_dataset(GOOD, "x.yaml", ITEMS), SHAPES)
    assert graph.order() == ["customers", "orders"]
    assert list(graphs.problems(graph)) == []


def test_erasures_that_would_break_a_constraint() -> None:
    text = GOOD.replace("erase: set_null", "erase: hash")
    shapes = {
        **SHAPES,
        "orders": _shape(
            "orders",
            ColumnShape("customer_id", False, None, False),
            ColumnShape("address", True, 200, True),
            fks=SHAPES["orders"].foreign_keys,
        ),
    }
    found = dict(graphs.problems(graphs.build(parse_dataset(text, "x.yaml", ITEMS), shapes)))
    assert "refers to another table" in found["tables.orders.columns.customer_id.erase"]
    assert "would break the reference orders(customer_id)" in found["tables.orders"]
    nulled = GOOD.replace(
        "customer_id: {item: linked_service_id, erase: set_null}", "x: {item: name}"
    )
    found = dict(graphs.problems(graphs.build(parse_dataset(nulled, "x.yaml", ITEMS), shapes)))
    assert found["tables.orders.columns"] == "the table has no column 'x'"


def test_unreachable_and_missing_tables() -> None:
    text = GOOD + "  logs:\n    columns:\n      ip: {item: name}\n"
    shapes = {**SHAPES, "logs": _shape("logs", ColumnShape("ip", True, 45, True))}
    found = dict(graphs.problems(graphs.build(parse_dataset(text, "x.yaml", ITEMS), shapes)))
    assert found["tables.logs"].startswith("unreachable")
    found = dict(graphs.problems(graphs.build(parse_dataset(text, "x.yaml", ITEMS), SHAPES)))
    assert found["tables.logs"] == "the database has no table 'logs'"
