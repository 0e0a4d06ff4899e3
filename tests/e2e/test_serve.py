"""`mamori serve --workers N`: a socket per worker, a fair share of connections, restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from benchmarks.vault_http import _free_port, _Server, _workers


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(MAMORI_DATA_DIR=str(tmp_path / "data"), MAMORI_LOG_LEVEL="warning")
    running = _Server(env, _free_port(), 2, tmp_path / "server.log", sys.executable)
    try:
        running.wait_ready(timeout=60)
        yield running
    finally:
        running.stop()


def test_each_worker_accepts_a_share_of_new_connections(server: _Server) -> None:
    clients = [httpx.Client(base_url=server.base, timeout=10) for _ in range(32)]
    try:
        for client in clients:
            assert client.get("/healthz").status_code == 200  # the connection stays open
        held = server.connections()
    finally:
        for client in clients:
            client.close()
    assert sum(held) == 32
    # The kernel hashes each connection to one of the two sockets: all but a handful on one
    # worker has a probability below one in a million; uvicorn's shared socket did it often.
    assert min(held) >= 4, held


def test_a_second_server_on_the_same_port_is_refused(server: _Server, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env["MAMORI_DATA_DIR"] = str(tmp_path / "other")
    command = [sys.executable, "-m", "mamori.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(server.port), "--workers", "2"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Address already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(_workers(server.process.pid)) == 2  # the first server is untouched


def test_a_worker_that_dies_is_replaced_and_stop_ends_them_all(server: _Server) -> None:
    first = list(server.pids)
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = _workers(server.process.pid)
        if len(now) == 2 and first[0] not in now:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the killed worker was not replaced:\n{server.tail()}")
    assert first[1] in now
    with httpx.Client(base_url=server.base, timeout=10) as client:
        deadline = time.monotonic() + 30
        answered = 0
        while answered < 20 and time.monotonic() < deadline:
            answered += client.get("/healthz").status_code == 200
    assert answered == 20
    server.stop()
    assert server.process.returncode == 0
    for pid in now:
        assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid)


def _state(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return text[text.rindex(")") + 2 :].split()[0]
