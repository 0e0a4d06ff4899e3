"""Each vault call is one transaction: a failure midway leaves nothing written, not even audit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.vault import core, crypto
from mamori.vault.access import Caller
from tests.helpers.runtime import open_test_runtime

HOST = Caller(actor_id="key:test")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def _counts(runtime: Runtime) -> tuple[int, ...]:
    with runtime.engine.connect() as conn:
        return tuple(
            conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("subjects", "subject_items", "blind_indexes", "audit_entries")
        )


class Boom(Exception):
    pass


def _fail_on_second_call(monkeypatch: pytest.MonkeyPatch) -> None:
    real = crypto.encrypt
    calls = {"n": 0}

    def encrypt(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Boom("injected failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(crypto, "encrypt", encrypt)


def test_create_rolls_back_when_the_second_item_fails(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _counts(runtime)
    _fail_on_second_call(monkeypatch)
    with pytest.raises(Boom):
        runtime.vault.create_subject(
            HOST, type="customer", items={"email": "a@example.jp", "phone": "0312345678"}
        )
    assert _counts(runtime) == before
    assert runtime.audit.verify().ok


def test_write_rolls_back_when_the_second_item_fails(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = runtime.vault.create_subject(HOST, type="customer", items={"email": "a@example.jp"})
    before = _counts(runtime)
    _fail_on_second_call(monkeypatch)
    with pytest.raises(Boom):
        runtime.vault.write_items(HOST, subject, {"email": "b@example.jp", "name": "B"})
    monkeypatch.undo()
    assert _counts(runtime) == before
    read = runtime.vault.read(HOST, subject, "service_operation", ["email", "name"])
    assert read.items == {"email": "a@example.jp"}
    assert runtime.vault.lookup(HOST, "email", "a@example.jp") == [subject]
    assert runtime.vault.lookup(HOST, "email", "b@example.jp") == []


def test_invalid_second_item_writes_nothing(runtime: Runtime) -> None:
    from mamori.errors import InvalidValue

    before = _counts(runtime)
    with pytest.raises(InvalidValue):
        runtime.vault.create_subject(
            HOST, type="customer", items={"email": "a@example.jp", "phone": "not a phone"}
        )
    assert _counts(runtime) == before


def test_false_candidates_of_the_blind_index_are_dropped(runtime: Runtime) -> None:
    vault = runtime.vault
    object.__setattr__(vault, "limits", core.Limits(blind_index_bits=1))  # two buckets only
    people = {
        vault.create_subject(HOST, type="customer", items={"email": f"person{n}@example.jp"}): n
        for n in range(12)
    }
    for subject, n in people.items():
        assert vault.lookup(HOST, "email", f"PERSON{n}@example.jp") == [subject]
    lookups = [e for e in runtime.audit.tail(40) if e.action == "subject.lookup"][-12:]
    candidates = [e.details["candidates"] for e in lookups]
    # 12 people in 2 buckets: some lookups met others in their bucket (pigeonhole), and the
    # index alone could not tell them apart; every lookup still found exactly one.
    assert max(c for c in candidates if isinstance(c, int)) > 1
    assert all(e.details["matches"] == 1 for e in lookups)
