"""System keys: made once, stored wrapped, one winner when two processes race, rewrapped."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mamori.errors import InvalidValue
from mamori.keyring import MasterKeys
from mamori.store import db, tables
from mamori.vault import crypto
from mamori.vault.system_keys import SystemKeys

system_t = tables.system_keys
V1 = MasterKeys({1: bytes(range(32))}, "test")
V12 = MasterKeys({1: bytes(range(32)), 2: bytes(range(32, 64))}, "test")


def rows(engine: Engine) -> dict[str, tuple[bytes, int]]:
    with db.read(engine) as conn:
        result = conn.execute(
            sa.select(system_t.c.name, system_t.c.wrapped, system_t.c.master_version)
        )
        return {name: (wrapped, version) for name, wrapped, version in result}


def test_a_key_is_made_on_first_use_and_stored_wrapped(engine: Engine) -> None:
    keys = SystemKeys(engine, V1)
    key = keys.get("blind-index")
    assert len(key) == 32
    assert keys.get("blind-index") is key  # cached
    stored = rows(engine)
    wrapped, version = stored["blind-index"]
    assert version == 1 and key not in wrapped
    assert crypto.unwrap_key(V1, wrapped, context="system:blind-index") == key
    assert SystemKeys(engine, V1).get("blind-index") == key  # another process reads it
    assert keys.get("external-ref") != key
    assert set(rows(engine)) == {"blind-index", "external-ref"}


def test_names_are_checked(engine: Engine) -> None:
    for bad in ("", "Blind", "blind index", "x" * 64, "-a"):
        with pytest.raises(ValueError):
            SystemKeys(engine, V1).get(bad)


def test_the_loser_of_a_creation_race_uses_the_winners_key(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = SystemKeys(engine, V1)
    loser = SystemKeys(engine, V1)
    real_wrap = crypto.wrap_key

    def wrap_after_the_winner(*args: object, **kwargs: object) -> bytes:
        # The loser has found no row; the winner now creates and commits the key.
        monkeypatch.setattr(crypto, "wrap_key", real_wrap)
        winner.get("center-link")
        return real_wrap(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto, "wrap_key", wrap_after_the_winner)
    assert loser.get("center-link") == winner.get("center-link")
    assert len(rows(engine)) == 1


def test_concurrent_first_use_ends_with_one_key(database_url: str) -> None:
    engines = [db.create_engine(database_url) for _ in range(4)]
    db.migrate(engines[0])
    try:
        barrier = threading.Barrier(len(engines))
        results: list[bytes] = []
        errors: list[BaseException] = []

        def first_use(engine: Engine) -> None:
            try:
                barrier.wait()
                results.append(SystemKeys(engine, V1).get("blind-index"))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=first_use, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(set(results)) == 1
        assert len(rows(engines[0])) == 1
    finally:
        for e in engines:
            e.dispose()


def test_external_ref(engine: Engine) -> None:
    keys = SystemKeys(engine, V1)
    ref = keys.external_ref("customer", "U-12345")
    assert len(ref) == 32
    assert keys.external_ref("customer", "U-12345") == ref
    assert keys.external_ref("customer", " Ｕ－１２３４５ ") == ref  # NFKC, trimmed
    assert SystemKeys(engine, V1).external_ref("customer", "U-12345") == ref
    assert keys.external_ref("partner_contact", "U-12345") != ref
    assert keys.external_ref("customer", "U-123456") != ref
    assert keys.external_ref("custome", "rU-12345") != ref  # the type is length-prefixed
    with pytest.raises(InvalidValue):
        keys.external_ref("customer", "  ")


def test_rewrap_all(engine: Engine) -> None:
    old = SystemKeys(engine, V1)
    blind, link = old.get("blind-index"), old.get("center-link")
    new = SystemKeys(engine, V12)
    with db.write(engine) as conn:
        assert new.rewrap_all(conn) == ["blind-index", "center-link"]
    assert {name: v for name, (_, v) in rows(engine).items()} == {
        "blind-index": 2,
        "center-link": 2,
    }
    fresh = SystemKeys(engine, V12)
    assert fresh.get("blind-index") == blind and fresh.get("center-link") == link
    with db.write(engine) as conn:
        assert new.rewrap_all(conn) == []  # idempotent
