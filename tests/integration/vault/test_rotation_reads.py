"""Master-key rotation in the background while the vault keeps serving reads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.vault import rotation
from mamori.vault.access import Caller
from tests.helpers.runtime import open_test_runtime

HOST = Caller(actor_id="key:test")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def test_reads_keep_working_while_rotation_rewraps(runtime: Runtime) -> None:
    vault = runtime.vault
    people = [
        vault.create_subject(HOST, type="customer", items={"email": f"p{n}@example.jp"})
        for n in range(60)
    ]
    key_file = runtime.settings.effective_master_key_file
    failures: list[BaseException] = []
    reads = 0
    done = threading.Event()

    def reader() -> None:
        nonlocal reads
        while not done.is_set():
            for n, subject in enumerate(people):
                try:
                    result = vault.read(HOST, subject, "service_operation", ["email"])
                    assert result.items == {"email": f"p{n}@example.jp"}
                    reads += 1
                except BaseException as exc:
                    failures.append(exc)
                    return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        # Another process would do this (`mamori keys rotate`): add version 2 to the key file,
        # then rewrap in small batches; this process's keys reload from the file.
        new_keys = rotation.add_version(runtime.engine, key_file, runtime.audit, actor="test")
        report = rotation.rotate(runtime.engine, new_keys, runtime.audit, batch=7, actor="test")
    finally:
        done.set()
        thread.join(timeout=60)
    assert not failures, failures[0]
    assert reads > 0
    assert report.subjects == len(people)
    with runtime.engine.connect() as conn:
        versions = set(
            conn.execute(sa.text("SELECT DISTINCT master_version FROM subjects")).scalars()
        )
    assert versions == {2}
    assert vault.read(HOST, people[0], "service_operation", ["email"]).items
    assert runtime.audit.verify().ok
