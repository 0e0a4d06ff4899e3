"""Backups that keep promises: a restore never revives a person who withdrew after the backup."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from mamori.app import open_runtime
from mamori.config import Settings
from mamori.errors import SubjectWithdrawn
from mamori.keyring import parse_keys
from mamori.policy.rules import Refusal
from mamori.store import db
from mamori.vault.access import Caller
from mamori.vault.shred_log import ShredLog, ShredLogError, read, reseal
from mamori.vault.storage import subjects as storage
from tests.helpers.cli import mamori
from tests.helpers.runtime import open_test_runtime

HOST = Caller(actor_id="key:test")
EMAIL = "zz-backup-person@example.jp"


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


def test_a_restore_keeps_a_later_withdrawal(
    tmp_path: Path, database_url: str, env: dict[str, str]
) -> None:
    runtime = open_test_runtime(tmp_path, database_url)
    try:
        stays = runtime.vault.create_subject(
            HOST, type="customer", external_id="stays", items={"email": "stays@example.jp"}
        )
        leaves = runtime.vault.create_subject(
            HOST, type="customer", external_id="leaves", items={"email": EMAIL, "name": "退会 太郎"}
        )
    finally:
        runtime.close()
    backup_file = tmp_path / "mamori.backup"
    ran = mamori("backup", str(backup_file), env=env)
    assert "backed up" in ran.stdout
    assert backup_file.stat().st_mode & 0o077 == 0

    runtime = open_test_runtime(tmp_path, database_url)
    try:
        runtime.vault.withdraw(HOST, leaves)
    finally:
        runtime.close()
    log = Path(env["MAMORI_DATA_DIR"]) / "shred.log"
    lines = log.read_text(encoding="ascii").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["subject"] == leaves
    assert EMAIL not in lines[0]

    refused = mamori("restore", str(backup_file), env=env, check=None)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    ran = mamori("restore", str(backup_file), "--yes", env=env)
    assert "1 withdrawals, 1 withdrawn again" in ran.stdout

    runtime = open_runtime(_settings(tmp_path, database_url), initialise=False)
    try:
        actions = [e.action for e in runtime.audit.tail(3)]
        assert actions == ["backup.create", "subject.withdraw.replay", "backup.restore"]
        assert runtime.vault.get_subject(leaves).withdrawn
        gone = runtime.vault.read(HOST, leaves, "service_operation", ["email"])
        assert gone.items == {} and gone.refused == {"email": Refusal.withdrawn}
        with pytest.raises(SubjectWithdrawn):
            runtime.vault.write_items(HOST, leaves, {"email": EMAIL})
        with db.read(runtime.engine) as conn:
            assert storage.wrapped_key(conn, leaves) is None  # the key is gone again
        assert runtime.vault.lookup(HOST, "email", EMAIL) == []
        kept = runtime.vault.read(HOST, stays, "service_operation", ["email"])
        assert kept.items == {"email": "stays@example.jp"}
        assert runtime.audit.verify().ok
    finally:
        runtime.close()

    # a second restore of the same backup replays again; a restore is idempotent
    ran = mamori("restore", str(backup_file), "--yes", env=env)
    assert "1 withdrawn again" in ran.stdout


def test_a_damaged_shred_log_stops_the_restore_before_the_database(
    tmp_path: Path, database_url: str, env: dict[str, str]
) -> None:
    runtime = open_test_runtime(tmp_path, database_url)
    try:
        first = runtime.vault.create_subject(HOST, type="customer", external_id="a", items={})
        second = runtime.vault.create_subject(HOST, type="customer", external_id="b", items={})
    finally:
        runtime.close()
    backup_file = tmp_path / "mamori.backup"
    mamori("backup", str(backup_file), env=env)
    runtime = open_test_runtime(tmp_path, database_url)
    try:
        runtime.vault.withdraw(HOST, first)
        runtime.vault.withdraw(HOST, second)
    finally:
        runtime.close()
    log = Path(env["MAMORI_DATA_DIR"]) / "shred.log"
    lines = log.read_text(encoding="ascii").splitlines()
    log.write_text(lines[1] + "\n", encoding="ascii")  # someone removed the first line
    ran = mamori("restore", str(backup_file), "--yes", env=env, check=None)
    assert ran.returncode != 0
    assert "line 1: numbered 2; a line was removed or moved" in ran.stderr
    forged = json.loads(lines[1])
    forged.update(n=1)
    log.write_text(json.dumps(forged) + "\n", encoding="ascii")
    ran = mamori("restore", str(backup_file), "--yes", env=env, check=None)
    assert "line 1 does not verify" in ran.stderr
    runtime = open_runtime(_settings(tmp_path, database_url), initialise=False)
    try:  # the database was never touched: both are still withdrawn
        assert runtime.vault.get_subject(first).withdrawn
        assert runtime.vault.get_subject(second).withdrawn
    finally:
        runtime.close()


def test_a_withdrawal_fails_when_the_shred_log_cannot_be_written(
    tmp_path: Path, database_url: str
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder is needed", encoding="ascii")
    runtime = open_test_runtime(tmp_path, database_url, shred_log=blocked / "shred.log")
    try:
        person = runtime.vault.create_subject(HOST, type="customer", external_id="x", items={})
        with pytest.raises(ShredLogError, match="cannot open the shred log"):
            runtime.vault.withdraw(HOST, person)
        assert not runtime.vault.get_subject(person).withdrawn  # undone with the log
    finally:
        runtime.close()


def test_reseal_moves_the_chain_to_the_current_key(tmp_path: Path) -> None:
    old = parse_keys("1:" + "A" * 43 + "=", "test")
    both = parse_keys("1:" + "A" * 43 + "=,2:" + "B" * 43 + "=", "test")
    new_only = parse_keys("2:" + "B" * 43 + "=", "test")
    path = tmp_path / "shred.log"
    at = dt.datetime(2026, 12, 4, 1, 2, 3, tzinfo=dt.UTC)
    ShredLog(path, old).append("sub_1", at)
    ShredLog(path, both).append("sub_2", at)
    with pytest.raises(ShredLogError, match="master-key version 1, which is not loaded"):
        read(path, new_only)
    assert reseal(path, both) == 2
    assert [e.subject_id for e in read(path, new_only)] == ["sub_1", "sub_2"]
    assert read(path, new_only)[0].at == at


def test_retiring_a_master_key_reseals_the_shred_log(
    tmp_path: Path, database_url: str, env: dict[str, str]
) -> None:
    from mamori.vault.key_file import ReloadingKeys

    runtime = open_test_runtime(tmp_path, database_url)
    try:
        person = runtime.vault.create_subject(HOST, type="customer", external_id="r", items={})
        runtime.vault.withdraw(HOST, person)
    finally:
        runtime.close()
    mamori("keys", "rotate", env=env)
    ran = mamori("keys", "retire", "1", env=env)
    assert "1 lines sealed under the current version" in ran.stderr
    data = Path(env["MAMORI_DATA_DIR"])
    keys = ReloadingKeys(data / "master.key")
    assert sorted(parse_keys((data / "master.key").read_text(), "f").keys) == [2]
    assert [e.subject_id for e in read(data / "shred.log", keys)] == [person]


def test_bad_backup_paths_are_one_clear_line(tmp_path: Path, env: dict[str, str]) -> None:
    mamori("init", env=env)
    taken = tmp_path / "taken.backup"
    taken.write_bytes(b"something else")
    ran = mamori("backup", str(taken), env=env, check=None)
    assert ran.returncode != 0 and "exists already" in ran.stderr
    ran = mamori("backup", str(tmp_path / "no-such-folder" / "x.backup"), env=env, check=None)
    assert ran.returncode != 0 and "no such folder" in ran.stderr
    ran = mamori("restore", str(taken), "--yes", env=env, check=None)
    assert ran.returncode != 0 and "is not a" in ran.stderr and "backup" in ran.stderr
    ran = mamori("restore", str(tmp_path / "missing.backup"), "--yes", env=env, check=None)
    assert ran.returncode != 0 and "no such backup file" in ran.stderr
