"""Master-key rotation: the key file, rewrapping under reads, resuming, shredding kept, retiring."""

from __future__ import annotations

import datetime as dt
import os
import random
import stat
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mamori.audit.log import AuditLog
from mamori.errors import KeyFileError, MasterKeyInUse, NotFound
from mamori.keyring import MasterKeys, create_key_file, read_key_file
from mamori.store import db, tables
from mamori.vault import crypto, key_file, rotation
from mamori.vault.system_keys import SystemKeys
from tests.helpers.cli import mamori

subjects_t = tables.subjects
items_t = tables.subject_items
system_t = tables.system_keys
audit_t = tables.audit_entries


def add_subjects(engine: Engine, keys: crypto.MasterKeySource, count: int) -> list[str]:
    """Subjects written as the vault writes them: a wrapped data key and two encrypted items."""
    now = dt.datetime.now(dt.UTC)
    ids = [f"s{i:05d}" for i in range(count)]
    subject_rows, item_rows = [], []
    for sid in ids:
        data_key = crypto.new_data_key()
        wrapped = crypto.wrap_key(keys, data_key, context=f"subject:{sid}")
        subject_rows.append(
            {
                "id": sid,
                "type": "customer",
                "external_ref": None,
                "status": "active",
                "wrapped_key": wrapped,
                "master_version": crypto.wrapped_version(wrapped),
                "created_at": now,
                "updated_at": now,
                "withdrawn_at": None,
            }
        )
        for item, value in (("email", f"{sid}@example.jp"), ("name", f"名前 {sid}")):
            item_rows.append(
                {
                    "subject_id": sid,
                    "item_id": item,
                    "ciphertext": crypto.encrypt(
                        data_key, value.encode(), subject_id=sid, item_id=item
                    ),
                    "source": "person",
                    "collected_at": now,
                    "updated_at": now,
                    "expires_at": None,
                }
            )
    with db.write(engine) as conn:
        conn.execute(sa.insert(subjects_t), subject_rows)
        conn.execute(sa.insert(items_t), item_rows)
    return ids


def read_subject(
    engine: Engine, keys: crypto.MasterKeySource, sid: str, seen: set[int] | None = None
) -> dict[str, str]:
    with db.read(engine) as conn:
        wrapped = conn.execute(
            sa.select(subjects_t.c.wrapped_key).where(subjects_t.c.id == sid)
        ).scalar_one()
        rows = conn.execute(
            sa.select(items_t.c.item_id, items_t.c.ciphertext).where(items_t.c.subject_id == sid)
        ).all()
    if seen is not None:
        seen.add(crypto.wrapped_version(wrapped))
    data_key = crypto.unwrap_cipher(keys, wrapped, context=f"subject:{sid}")
    return {
        item: crypto.decrypt(data_key, ct, subject_id=sid, item_id=item).decode()
        for item, ct in rows
    }


def versions(engine: Engine) -> dict[str, int]:
    with db.read(engine) as conn:
        return dict(conn.execute(sa.select(subjects_t.c.id, subjects_t.c.master_version)).all())


def audit_actions(engine: Engine) -> list[str]:
    with db.read(engine) as conn:
        return list(conn.execute(sa.select(audit_t.c.action).order_by(audit_t.c.seq)).scalars())


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "master.key"
    create_key_file(path)
    return path


# -- the key file -------------------------------------------------------------------------------


def test_add_version_appends_atomically_and_keeps_the_file_private(key_path: Path) -> None:
    before = key_path.read_text(encoding="ascii")
    old = read_key_file(key_path)
    new = key_file.add_version(key_path)
    assert new.current_version == 2 and new.keys[1] == old.keys[1]
    assert len(new.keys[2]) == 32 and new.keys[2] != new.keys[1]
    text = key_path.read_text(encoding="ascii")
    assert text.startswith(before) and text.count("\n") == before.count("\n") + 1
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert read_key_file(key_path).keys == new.keys
    assert sorted(p.name for p in key_path.parent.iterdir()) == ["master.key", "master.key.lock"]
    assert key_file.add_version(key_path).current_version == 3


def test_add_version_refuses_a_file_others_can_read(key_path: Path) -> None:
    key_path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        key_file.add_version(key_path)


def test_remove_version_keeps_comments_and_other_entries(key_path: Path) -> None:
    key_file.add_version(key_path)
    key_file.add_version(key_path)
    with pytest.raises(MasterKeyInUse, match="current one"):
        key_file.remove_version(key_path, 3)
    left = key_file.remove_version(key_path, 1)
    assert sorted(left.keys) == [2, 3]
    text = key_path.read_text(encoding="ascii")
    assert text.startswith("# mamori master keys") and "\n1:" not in text
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    with pytest.raises(NotFound, match="version 1 is not in the file"):
        key_file.remove_version(key_path, 1)


def test_remove_version_from_a_comma_separated_line(tmp_path: Path) -> None:
    path = tmp_path / "k"
    a, b, c = (f"{v}:{'A' * 43}=" for v in (1, 2, 3))
    path.write_text(f"{a}, {b}  # old ones\n{c}\n", encoding="ascii")
    path.chmod(0o600)
    assert sorted(key_file.remove_version(path, 1).keys) == [2, 3]
    assert path.read_text(encoding="ascii") == f"{b} # old ones\n{c}\n"


def test_a_symlinked_key_file_stays_a_symlink(key_path: Path, tmp_path: Path) -> None:
    link = tmp_path / "master.key"
    link.symlink_to(key_path)
    assert key_file.add_version(link).current_version == 2
    assert link.is_symlink() and sorted(read_key_file(key_path).keys) == [1, 2]
    key_file.remove_version(link, 1)
    assert link.is_symlink() and sorted(read_key_file(key_path).keys) == [2]


def test_reloading_keys_follow_the_file(key_path: Path) -> None:
    keys = key_file.ReloadingKeys(key_path, check_every=3600)
    assert keys.current_version == 1
    new = key_file.add_version(key_path)
    assert keys.current_version == 1  # not checked yet
    assert keys.get(2) == new.keys[2]  # an unknown version makes it read the file at once
    assert keys.current_version == 2
    with pytest.raises(KeyFileError, match="version 9 is missing"):
        keys.get(9)
    eager = key_file.ReloadingKeys(key_path, check_every=0)
    key_file.add_version(key_path)
    assert eager.current_version == 3


# -- rotation -----------------------------------------------------------------------------------


def test_rotation_while_reading(engine: Engine, key_path: Path) -> None:
    """Another process keeps reading while the rotation rewraps: no read fails."""
    keys = read_key_file(key_path)
    audit = AuditLog(engine)
    ids = add_subjects(engine, keys, 600)
    blind = SystemKeys(engine, keys).get("blind-index")
    expected = {sid: read_subject(engine, keys, sid) for sid in ids}

    # The reader stands for a server started before the rotation: it holds the key file, not
    # the rotation's keys, and learns the new version from the file when it meets it.
    reader_keys = key_file.ReloadingKeys(key_path, check_every=0.05)
    stop = threading.Event()
    reads: list[int] = [0]
    failures: list[BaseException] = []
    seen: set[int] = set()

    def reader() -> None:
        rng = random.Random(7)
        while not stop.is_set():
            sid = rng.choice(ids)
            try:
                assert read_subject(engine, reader_keys, sid, seen) == expected[sid]
            except BaseException as exc:
                failures.append(exc)
                return
            reads[0] += 1

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        new_keys = rotation.add_version(engine, key_path, audit, actor="test")
        at_start = reads[0]
        steps: list[rotation.RotationProgress] = []
        report = rotation.rotate(
            engine, new_keys, audit, batch=50, actor="test", progress=steps.append
        )
        during = reads[0] - at_start
        while reads[0] < at_start + during + 50 and not failures:  # and reads go on after it
            threading.Event().wait(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures, failures[0]
    assert during > 0 and seen == {1, 2}  # reads ran during the rotation, met both versions
    assert report == rotation.RotationReport(2, 600, 1, 0, 12, report.seconds, complete=True)
    assert steps[0] == rotation.RotationProgress(2, 0, 601)
    assert steps[-1] == rotation.RotationProgress(2, 601, 601, finished=True)
    assert set(versions(engine).values()) == {2}
    with db.read(engine) as conn:
        wrapped = conn.execute(sa.select(subjects_t.c.wrapped_key)).scalars().all()
        assert {crypto.wrapped_version(w) for w in wrapped} == {2}
        assert conn.execute(sa.select(system_t.c.master_version)).scalars().all() == [2]
    only_new = MasterKeys({2: new_keys.keys[2]}, "new only")
    for sid in ids:
        assert read_subject(engine, only_new, sid) == expected[sid]
    assert SystemKeys(engine, only_new).get("blind-index") == blind
    actions = audit_actions(engine)
    assert actions == ["keys.master.add"] + ["keys.master.rewrap"] * 12 + ["keys.master.rotate"]
    assert audit.verify().ok


def test_rotation_is_resumable_and_idempotent(engine: Engine, key_path: Path) -> None:
    audit = AuditLog(engine)
    add_subjects(engine, read_key_file(key_path), 30)
    new_keys = key_file.add_version(key_path)
    stop = threading.Event()

    def stop_after_first_batch(p: rotation.RotationProgress) -> None:
        if p.done:
            stop.set()

    first = rotation.rotate(
        engine, new_keys, audit, batch=10, progress=stop_after_first_batch, stop=stop
    )
    assert (first.complete, first.subjects, first.batches) == (False, 10, 1)
    assert sorted(versions(engine).values()) == [1] * 20 + [2] * 10
    second = rotation.rotate(engine, new_keys, audit, batch=10)
    assert (second.complete, second.subjects, second.batches) == (True, 20, 2)
    third = rotation.rotate(engine, new_keys, audit, batch=10)
    assert (third.subjects, third.batches, third.skipped) == (0, 0, 0)
    assert set(versions(engine).values()) == {2}


def test_a_subject_withdrawn_during_rotation_stays_shredded(
    engine: Engine, key_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = AuditLog(engine)
    ids = add_subjects(engine, read_key_file(key_path), 5)
    new_keys = key_file.add_version(key_path)
    real_rewrap = crypto.rewrap_key

    def rewrap_while_withdrawing(
        keys: crypto.MasterKeySource, wrapped: bytes, *, context: str
    ) -> bytes:
        if context == f"subject:{ids[2]}":  # withdrawal commits between the read and the write
            with db.write(engine) as conn:
                conn.execute(
                    sa.update(subjects_t)
                    .where(subjects_t.c.id == ids[2])
                    .values(wrapped_key=None, master_version=None, status="withdrawn")
                )
        return real_rewrap(keys, wrapped, context=context)

    monkeypatch.setattr(crypto, "rewrap_key", rewrap_while_withdrawing)
    report = rotation.rotate(engine, new_keys, audit, batch=10)
    assert (report.subjects, report.skipped) == (4, 1)
    with db.read(engine) as conn:
        shredded = conn.execute(
            sa.select(subjects_t.c.wrapped_key, subjects_t.c.master_version).where(
                subjects_t.c.id == ids[2]
            )
        ).one()
    assert tuple(shredded) == (None, None)


def test_rotation_job_runs_in_the_background(engine: Engine, key_path: Path) -> None:
    audit = AuditLog(engine)
    add_subjects(engine, read_key_file(key_path), 25)
    job = rotation.RotationJob(engine, key_file.add_version(key_path), audit, batch=10)
    report = job.wait(60)
    assert report is not None and report.subjects == 25 and report.batches == 3
    assert not job.running
    assert job.progress == rotation.RotationProgress(2, 25, 25, finished=True)


def test_rotation_job_hands_over_its_error(engine: Engine, key_path: Path) -> None:
    add_subjects(engine, read_key_file(key_path), 3)
    only_new = MasterKeys({2: bytes(32)}, "lost the old key")
    job = rotation.RotationJob(engine, only_new, AuditLog(engine))
    with pytest.raises(KeyFileError, match="version 1 is missing"):
        job.wait(60)


# -- retiring -----------------------------------------------------------------------------------


def test_retire_refuses_while_wrapped_and_succeeds_after(engine: Engine, key_path: Path) -> None:
    audit = AuditLog(engine)
    add_subjects(engine, read_key_file(key_path), 7)
    SystemKeys(engine, read_key_file(key_path)).get("blind-index")
    new_keys = rotation.add_version(engine, key_path, audit)
    assert rotation.wrapped_by(engine, 1) == rotation.WrappedCount(7, 1)
    with pytest.raises(MasterKeyInUse, match=r"still wraps 7 subject keys and 1 system keys"):
        rotation.retire(engine, key_path, 1, audit)
    assert sorted(read_key_file(key_path).keys) == [1, 2]
    rotation.rotate(engine, new_keys, audit, batch=3)
    assert rotation.wrapped_by(engine, 1).total == 0
    left = rotation.retire(engine, key_path, 1, audit, actor="test")
    assert sorted(left.keys) == [2] and sorted(read_key_file(key_path).keys) == [2]
    assert audit_actions(engine)[-1] == "keys.master.retire"
    with pytest.raises(MasterKeyInUse, match="current one"):
        rotation.retire(engine, key_path, 2, audit)
    with pytest.raises(NotFound):
        rotation.retire(engine, key_path, 1, audit)


# -- the commands ---------------------------------------------------------------------------------


def test_the_commands_with_a_key_file(tmp_path: Path, database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(MAMORI_DATA_DIR=str(tmp_path / "data"), MAMORI_DATABASE_URL=database_url)
    mamori("init", env=env)
    path = tmp_path / "data" / "master.key"
    engine = db.create_engine(database_url)
    try:
        add_subjects(engine, read_key_file(path), 3)
        rotated = mamori("keys", "rotate", "--batch", "2", env=env)
        assert "master key version 2: rewrapped 3 subject keys" in rotated.stdout
        assert "added master key version 2" in rotated.stderr
        assert set(versions(engine).values()) == {2}
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        current = mamori("keys", "retire", "2", env=env, check=2)
        assert current.stderr.strip().count("\n") == 0 and "current one" in current.stderr
        retired = mamori("keys", "retire", "1", env=env)
        assert "versions left: 2" in retired.stdout
        assert sorted(read_key_file(path).keys) == [2]
    finally:
        engine.dispose()


def test_the_commands_with_keys_in_the_environment(tmp_path: Path, database_url: str) -> None:
    key_path = tmp_path / "k"
    create_key_file(key_path)
    one = key_path.read_text(encoding="ascii").splitlines()[-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(
        MAMORI_DATA_DIR=str(tmp_path / "data"),
        MAMORI_DATABASE_URL=database_url,
        MAMORI_MASTER_KEY=one,
    )
    mamori("init", env=env)
    refused = mamori("keys", "rotate", env=env, check=2)
    assert refused.stderr.count("\n") == 1
    assert "`,2:BASE64`" in refused.stderr and "--rewrap-only" in refused.stderr
    engine = db.create_engine(database_url)
    try:
        add_subjects(engine, read_key_file(key_path), 2)
        two = key_file.add_version(key_path)
        env["MAMORI_MASTER_KEY"] = ",".join(key_path.read_text(encoding="ascii").splitlines()[-2:])
        in_use = mamori("keys", "retire", "1", env=env, check=2)
        assert "still wraps 2 subject keys" in in_use.stderr
        rewrapped = mamori("keys", "rotate", "--rewrap-only", env=env)
        assert "master key version 2: rewrapped 2 subject keys" in rewrapped.stdout
        assert two.current_version == 2 and set(versions(engine).values()) == {2}
        told = mamori("keys", "retire", "1", env=env)
        assert "remove it from MAMORI_MASTER_KEY" in told.stdout
    finally:
        engine.dispose()
