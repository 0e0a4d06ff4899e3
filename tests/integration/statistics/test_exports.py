"""Pseudonymised exports (仮名加工情報, APPI 41): no direct identifier or identifier code in the
file (searched for every person's values), pseudonyms that change when the key is replaced,
every export recorded and audited, people who stopped the purpose or withdrew left out, the
vault's reads and the provision gate refusing the purpose. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mamori.app import Runtime
from mamori.errors import PermissionDenied, UserInputError
from mamori.policy.rules import Refusal
from mamori.provisions import gate
from mamori.provisions.stream import provide_everyone
from mamori.statistics import exports, pseudonyms, storage
from mamori.store import db
from mamori.vault import restrictions
from mamori.vault.access import Caller
from mamori.vault.storage import keys
from tests.helpers.cli import mamori
from tests.helpers.runtime import open_test_runtime
from tests.helpers.statistics import statistics_policy_file

HOST = Caller("key:host")
ANALYST = Caller("key:analyst", frozenset({"research"}), frozenset({"read"}))
DOCUMENT = base64.b64encode(b"%PDF-1.4 licence 123456789012").decode()


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    return statistics_policy_file(tmp_path / "policy")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, policy: Path) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, policy=policy)
    yield runtime
    runtime.close()


def _items(i: int) -> dict[str, Any]:
    return {
        "name": f"佐藤 太郎{i}",
        "email": f"taro{i}@example.jp",
        "phone": f"090-1234-{i:04d}",
        "address": f"東京都港区芝公園{i}-1",
        "identity_document": {"content_type": "application/pdf", "data": DOCUMENT},
        "device_model": "iPhone 15",
        "os_version": "iOS 18",
        "device_id": f"dev-{i:04d}-abcdef",
    }


def _people(runtime: Runtime, n: int) -> list[str]:
    return [runtime.vault.create_subject(HOST, type="customer", items=_items(i)) for i in range(n)]


def _export(runtime: Runtime, caller: Caller = ANALYST) -> tuple[str, storage.ExportRow]:
    sink = io.BytesIO()
    record = exports.export(runtime.vault, caller, "research", sink)
    return sink.getvalue().decode("utf-8"), record


def test_the_export_holds_no_direct_identifier_or_identifier_code(runtime: Runtime) -> None:
    made = _people(runtime, 6)
    text, record = _export(runtime)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["pseudonym", "device_model", "os_version", "email", "device_id"]
    assert len(rows) == 6 == record.rows
    for i, subject in enumerate(made):
        values = _items(i)
        for item_id in ("name", "email", "phone", "address", "device_id"):
            assert values[item_id] not in text, item_id
        for part in (
            "佐藤",
            "taro",
            "090-1234",
            "芝公園",
            "application/pdf",
            DOCUMENT[:12],
            subject,
        ):
            assert part not in text, part
    assert {r["device_model"] for r in rows} == {"iPhone 15"}
    assert len({r["pseudonym"] for r in rows}) == 6 and len({r["email"] for r in rows}) == 6
    assert record.sha256 == hashlib.sha256(text.encode()).hexdigest()
    columns = exports.plan(runtime.vault.rules(), "research").columns()
    assert columns["dropped"] == {
        "name": "direct_identifier",
        "phone": "direct_identifier",
        "address": "direct_identifier",
        "identity_document": "identifier_code",
    }


def test_pseudonyms_change_when_the_key_is_replaced(runtime: Runtime) -> None:
    _people(runtime, 3)
    first, one = _export(runtime)
    with db.read(runtime.engine) as conn:  # a system key: master-key rotation rewraps it
        assert keys.system_key(conn, pseudonyms.key_name("research", 1)) is not None
    again, _ = _export(runtime)
    assert first == again  # one key: the same pseudonyms
    generation = pseudonyms.replace(runtime.vault, "research", "staff:1")
    replaced, two = _export(runtime)
    assert (one.key_generation, two.key_generation, generation) == (1, 2, 2)
    before = {r["pseudonym"] for r in csv.DictReader(io.StringIO(first))}
    after = {r["pseudonym"] for r in csv.DictReader(io.StringIO(replaced))}
    assert len(before) == len(after) == 3 and not before & after
    emails = {r["email"] for r in csv.DictReader(io.StringIO(first))}
    assert not emails & {r["email"] for r in csv.DictReader(io.StringIO(replaced))}
    # Destroyed: the old generations hold no key any more.
    pseudonyms.destroy(runtime.vault, "research", "staff:1")
    with db.read(runtime.engine) as conn:
        assert storage.current_generation(conn, "research") is None
        for generation in (1, 2):
            assert keys.system_key(conn, pseudonyms.key_name("research", generation)) is None
    actions = [e.action for e in runtime.audit.tail(50)]
    assert actions.count("statistics.export") == 3
    assert "statistics.pseudonym_key_replace" in actions
    assert "statistics.pseudonym_key_destroy" in actions


def test_people_who_stopped_the_purpose_or_withdrew_are_left_out(runtime: Runtime) -> None:
    made = _people(runtime, 4)
    restrictions.set_stops(
        runtime.vault, HOST, made[0], stopped_items=[], stopped_purposes=["research"]
    )
    runtime.vault.withdraw(HOST, made[1])
    _text, record = _export(runtime)
    assert record.rows == 2
    with db.read(runtime.engine) as conn:
        [listed] = storage.export_rows(conn)
    assert listed.id == record.id and listed.purpose_id == "research"


def test_the_purpose_is_refused_to_reads_to_third_parties_and_to_other_keys(
    runtime: Runtime,
) -> None:
    [subject] = _people(runtime, 1)
    result = runtime.vault.read(ANALYST, subject, "research", ["device_model"])
    assert result.refused == {"device_model": Refusal.pseudonymised_only}
    with pytest.raises(UserInputError, match="pseudonymised information"):
        list(runtime.vault.bulk_read(ANALYST, "research", "device_model"))
    provided = gate.provide(
        runtime.vault,
        Caller("key:p", frozenset({"research"}), frozenset({"provide", "read"})),
        recipient="a8net",
        subjects_=[subject],
        items=["device_model"],
        purpose="research",
    )
    assert provided.people[0].refused == {"device_model": "pseudonymised"}
    assert provided.people[0].items == {}
    with pytest.raises(PermissionDenied, match=r"never provided to a third party \(APPI 41"):
        provide_everyone(
            runtime.vault,
            Caller("key:p", frozenset({"research"}), frozenset({"provide", "read"})),
            recipient="a8net",
            item="device_model",
            purpose="research",
        )
    with pytest.raises(PermissionDenied, match="not granted purpose 'research'"):
        _export(runtime, Caller("key:x", frozenset({"statistics"}), frozenset({"read"})))
    with pytest.raises(UserInputError, match="declares no pseudonymised export"):
        exports.export(runtime.vault, HOST, "statistics", io.BytesIO())


def test_the_cli_exports_lists_and_replaces(
    runtime: Runtime, env: dict[str, str], policy: Path, tmp_path: Path
) -> None:
    _people(runtime, 2)
    env = {**env, "MAMORI_POLICY": str(policy)}
    target = tmp_path / "research.csv"
    ran = mamori("statistics", "export", "research", "-o", str(target), env=env)
    assert "exported 2 rows" in ran.stdout
    assert "taro0@example.jp" not in target.read_text(encoding="utf-8")
    listed = mamori("statistics", "exports", env=env)
    assert '"purpose_id":"research"' in listed.stdout
    replaced = mamori("statistics", "key", "replace", "research", env=env)
    assert "generation 2" in replaced.stdout
    bad = mamori("statistics", "export", "statistics", env=env, check=2)
    assert "declares no pseudonymised export" in bad.stderr
