"""``kill -9`` of a server in the middle of writes, then a restart: the audit chain verifies,
every write the server acknowledged is there, and no person is half-written.

Four clients store people (four items each, one transaction) and rewrite two items of them
together, as fast as the server answers, until the whole process group is killed. On the
suite's PostgreSQL run (``MAMORI_TEST_DATABASE_URL``) the same test runs on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.helpers.process import ServedProcess, mamori_env, run_mamori

WRITERS = 4
ITEMS = ("name", "email", "phone", "address")


def _person(writer: int, n: int) -> dict[str, Any]:
    return {
        "type": "customer",
        "items": {
            "name": f"Crash {writer}-{n} v0",
            "email": f"crash{writer}.{n}@example.com",
            "phone": f"090-1{writer:03d}-{n % 10000:04d}",
            "address": f"東京都千代田区 v0 {writer}-{n}",
        },
    }


def _holders(client: httpx.Client, item: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/purposes/service_operation/items/{item}")
    assert answer.status_code == 200, answer.text
    lines = (orjson.loads(line) for line in answer.content.splitlines())
    return {line["subject"]: line["value"] for line in lines}


def _writes(url: str, key: str, writer: int, stop: threading.Event, acked: list[str]) -> None:
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ) as client:
        n = -1
        while not stop.is_set():
            n += 1
            try:
                made = client.post("/api/v1/subjects", json=_person(writer, n))
                if made.status_code != 201:
                    continue
                subject = made.json()["id"]
                acked.append(subject)
                for version in (1, 2):
                    client.patch(
                        f"/api/v1/subjects/{subject}/items",
                        json={
                            "name": f"Crash {writer}-{n} v{version}",
                            "address": f"東京都千代田区 v{version} {writer}-{n}",
                        },
                    )
            except httpx.HTTPError:
                return  # the server is gone


@contextmanager
def _served(env: dict[str, str], log: Path) -> Iterator[ServedProcess]:
    server = ServedProcess(env, log)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


def test_a_server_killed_during_writes_leaves_whole_people(
    tmp_path: Path, database_url: str
) -> None:
    env = mamori_env(tmp_path / "data", database_url)
    run_mamori(env, "init")
    log = tmp_path / "serve.log"
    server = ServedProcess(env, log)
    acked: list[str] = []
    try:
        server.wait_healthy()
        key = run_mamori(
            env, "keys", "create", "crash", "-p", "service_operation", "-o", "read", "-o", "write"
        ).stdout.strip()
        stop = threading.Event()
        writers = [
            threading.Thread(target=_writes, args=(server.url, key, w, stop, acked))
            for w in range(WRITERS)
        ]
        for thread in writers:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # mid-write: the writers are still sending
        stop.set()
        for thread in writers:
            thread.join(timeout=30)
    finally:
        server.stop()
    assert len(acked) >= 40, server.tail()

    verified = run_mamori(env, "audit", "verify", check=False)
    assert verified.returncode == 0, verified.stderr + verified.stdout

    with (
        _served(env, log) as restarted,
        httpx.Client(
            base_url=restarted.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client,
    ):
        held = {item: _holders(client, item) for item in ITEMS}
    people = set(held["name"])
    assert set(acked) <= people, "an acknowledged person is missing"
    for item in ITEMS:  # a half-written person would hold some items and not others
        assert set(held[item]) == people, f"people without {item}"
    for subject in people:  # the two items rewritten together come from the same write
        name_version = held["name"][subject].split()[-1]
        address_version = held["address"][subject].split()[-2]
        assert name_version == address_version, subject
    assert "Traceback" not in log.read_text(errors="replace")
