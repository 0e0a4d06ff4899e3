"""Counts grouped in the database by the items' group tokens (mamori.vault.groups): the same
counts as decrypting every value, whoever stopped, withdrew or holds nothing; tokens that do not
match their item are not trusted but decrypted and rewritten; tokens follow the item through
writes, deletions, purges and withdrawal; the database holds no group in clear. On SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.policy.dimensions import group_of
from mamori.policy.loader import load_policy
from mamori.policy.rules import compile_rules
from mamori.policy.statistics import Derive
from mamori.statistics import queries
from mamori.store import db, tables
from mamori.vault import aggregate, restrictions
from mamori.vault.access import Caller
from mamori.vault.storage import groups as group_storage
from tests.helpers.edits import purpose, write_edited
from tests.helpers.runtime import open_test_runtime
from tests.helpers.statistics import statistics_policy, statistics_policy_file

HOST = Caller("key:host")
STATS = Caller("key:stats", frozenset({"statistics"}), frozenset({"read"}))
BY_PREFECTURE = [("address", Derive.prefecture)]
BOTH = [("address", Derive.prefecture), ("device_model", Derive.value)]


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(
        tmp_path, database_url, policy=statistics_policy_file(tmp_path / "policy")
    )
    yield runtime
    runtime.close()


def _person(runtime: Runtime, address: str | None, device: str | None = "Pixel 9") -> str:
    items: dict[str, object] = {"name": "山田 花子"}
    if address is not None:
        items["address"] = address
    if device is not None:
        items["device_model"] = device
    return runtime.vault.create_subject(HOST, type="customer", items=items)


def _decrypting(
    runtime: Runtime, dims: list[tuple[str, Derive]]
) -> Counter[tuple[str | None, ...]]:
    """The counts as the decrypting path gives them: every value read and grouped in Python."""
    counted: Counter[tuple[str | None, ...]] = Counter()
    today = runtime.vault.today()
    for page in aggregate.people(runtime.vault, STATS, "statistics", [i for i, _ in dims]):
        for person in page:
            key = tuple(
                group_of(d, person.values.get(i), today=today, at=None, zone="Asia/Tokyo")
                for i, d in dims
            )
            counted[key] += 1
    return counted


def _grouped(runtime: Runtime, dims: list[tuple[str, Derive]]) -> dict[tuple[str | None, ...], int]:
    return aggregate.grouped(runtime.vault, STATS, "statistics", dims)


def _token_rows(runtime: Runtime) -> list[sa.Row[Any, Any, Any, Any]]:
    groups = tables.item_groups
    with db.read(runtime.engine) as conn:
        return list(
            conn.execute(
                sa.select(groups.c.subject_id, groups.c.item_id, groups.c.derive, groups.c.token)
            ).all()
        )


def _crowd(runtime: Runtime) -> list[str]:
    made = [
        _person(runtime, f"{pref}中央区1-{n}", device)
        for n, (pref, device) in enumerate(
            [("東京都", "iPhone 15")] * 5
            + [("大阪府", "Pixel 9")] * 3
            + [("北海道", "iPhone 15")] * 2
            + [("沖縄県", None)]
        )
    ]
    made.append(_person(runtime, None))  # holds no address
    made.append(_person(runtime, "どこか遠く 1-2-3"))  # an address naming no prefecture
    return made


def test_grouped_counts_are_those_of_decrypting_every_value(runtime: Runtime) -> None:
    made = _crowd(runtime)
    restrictions.set_stops(
        runtime.vault, HOST, made[0], stopped_items=["address"], stopped_purposes=[]
    )
    restrictions.set_stops(
        runtime.vault, HOST, made[1], stopped_items=[], stopped_purposes=["statistics"]
    )
    runtime.vault.withdraw(HOST, made[5])
    expected = _decrypting(runtime, BY_PREFECTURE)
    assert expected[("東京都",)] == 3  # five, one stopped the address, one the purpose
    assert expected[(None,)] == 3  # the stopped address, no address, no prefecture named
    assert _grouped(runtime, BY_PREFECTURE) == dict(expected)
    assert _grouped(runtime, BOTH) == dict(_decrypting(runtime, BOTH))


def test_missing_tokens_are_decrypted_and_written(runtime: Runtime) -> None:
    _crowd(runtime)
    expected = dict(_decrypting(runtime, BOTH))
    groups = tables.item_groups
    with db.write(runtime.engine) as conn:  # as before a policy declared the dimensions
        conn.execute(groups.delete().where(groups.c.item_id == "address"))
    assert Counter(row.item_id for row in _token_rows(runtime)) == {"device_model": 12}
    assert _grouped(runtime, BOTH) == expected
    assert Counter(row.item_id for row in _token_rows(runtime)) == {
        "address": 12,
        "device_model": 12,
    }
    assert _grouped(runtime, BOTH) == expected  # from the tokens alone now


def test_a_process_not_counting_by_an_item_leaves_no_stale_token(
    runtime: Runtime, tmp_path: Path
) -> None:
    """A server still on a policy without the dimension (or after it was removed) writes the
    item: it deletes the token rather than leave one of the old value."""
    who = _person(runtime, "東京都千代田区1-1")
    (tmp_path / "months").mkdir()
    older = compile_rules(load_policy(write_edited(tmp_path / "months" / "p.yaml", _months_only)))
    current = runtime.vault.rules
    runtime.vault.rules = lambda: older
    try:
        runtime.vault.write_items(HOST, who, {"address": "大阪府大阪市1-1"})
    finally:
        runtime.vault.rules = current
    assert (who, "address") not in {(r.subject_id, r.item_id) for r in _token_rows(runtime)}
    assert _grouped(runtime, BY_PREFECTURE) == {("大阪府",): 1}


def test_a_token_is_written_only_for_the_item_as_it_was_read(runtime: Runtime) -> None:
    who = _person(runtime, "東京都千代田区1-1")
    groups = tables.item_groups
    with db.write(runtime.engine) as conn:
        conn.execute(groups.delete())
    tokyo = runtime.vault.group_tokens.token("address", Derive.prefecture, "東京都")
    read_at = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)  # not the item's time: it was rewritten
    with db.write(runtime.engine) as conn:
        row = group_storage.GroupRow(who, "address", "prefecture", tokyo, read_at)
        assert group_storage.heal_groups(conn, [row]) == 0
    assert _token_rows(runtime) == []


def test_tokens_follow_the_item(runtime: Runtime) -> None:
    who = _person(runtime, "東京都千代田区1-1")
    other = _person(runtime, "東京都港区2-2")
    rows = {(r.subject_id, r.item_id): r.token for r in _token_rows(runtime)}
    assert rows[(who, "address")] == rows[(other, "address")]  # one group, one token
    assert rows[(who, "address")] != rows[(who, "device_model")]

    runtime.vault.write_items(HOST, who, {"address": "京都府京都市1-1"})
    assert _grouped(runtime, BY_PREFECTURE) == {("京都府",): 1, ("東京都",): 1}
    moved = {(r.subject_id, r.item_id): r.token for r in _token_rows(runtime)}
    assert moved[(who, "address")] != rows[(who, "address")]

    runtime.vault.write_items(HOST, who, {"address": None})
    assert (who, "address") not in {(r.subject_id, r.item_id) for r in _token_rows(runtime)}
    assert _grouped(runtime, BY_PREFECTURE) == {(None,): 1, ("東京都",): 1}

    runtime.vault.withdraw(HOST, other)
    assert other not in {r.subject_id for r in _token_rows(runtime)}
    assert _grouped(runtime, BY_PREFECTURE) == {(None,): 1}


def test_the_database_holds_no_group_in_clear(runtime: Runtime) -> None:
    for n in range(3):
        _person(runtime, f"東京都千代田区1-{n}", "iPhone 15")
    tokens = b"".join(row.token for row in _token_rows(runtime))
    for clear in ("東京都", "東京", "iPhone", "千代田"):
        assert clear.encode() not in tokens
    assert len(_token_rows(runtime)) == 6


def _months_only(data: dict[str, Any]) -> None:
    statistics_policy(data)
    purpose(data, "statistics")["statistics"]["dimensions"] = [{"id": "month", "derive": "month"}]


def test_a_policy_counting_by_no_item_writes_no_token(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "months").mkdir()
    path = write_edited(tmp_path / "months" / "policy.yaml", _months_only)
    runtime = open_test_runtime(tmp_path, database_url, policy=path)
    try:
        _person(runtime, "東京都千代田区1-1")
        assert _token_rows(runtime) == []
    finally:
        runtime.close()


def test_a_query_counts_the_same_with_or_without_tokens(runtime: Runtime) -> None:
    """Through the statistics query: from one scan when every item has its token; by
    decrypting (and writing the tokens) when some have none; the people logged the same."""
    for n in range(12):
        _person(runtime, f"東京都千代田区1-{n}", "iPhone 15")
    for n in range(3):
        _person(runtime, f"大阪府大阪市1-{n}", "Pixel 9")
    query = queries.parse(runtime.vault.rules(), "statistics", by=["prefecture"])
    first = queries.run(runtime.vault, STATS, query)
    groups = tables.item_groups
    with db.write(runtime.engine) as conn:
        conn.execute(groups.delete())
    second = queries.run(runtime.vault, STATS, query)
    assert len(_token_rows(runtime)) == 15  # written again for the address and the model
    third = queries.run(runtime.vault, STATS, query)
    assert first.table == second.table == third.table
    tokyo = next(e for e in third.table.cells if e.groups == {"prefecture": "東京都"})
    assert tokyo.value == 12
    with db.read(runtime.engine) as conn:
        logged = conn.execute(
            sa.select(tables.statistics_queries.c.signature).order_by(
                tables.statistics_queries.c.created_at
            )
        ).scalars()
        assert len(set(logged)) == 1  # the same people, however they were counted
