"""mamori served by uvicorn on a free loopback port, for the client, the browser and HTTP tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from mamori.app import Runtime
from mamori.web.app import create_app

__all__ = ["LiveServer", "serving"]


@dataclass(frozen=True)
class LiveServer:
    """mamori served by uvicorn on a free loopback port, for the client and the browser."""

    url: str
    runtime: Runtime


@contextmanager
def serving(runtime: Runtime) -> Iterator[LiveServer]:
    """``runtime`` served by uvicorn on a free loopback port until the block ends."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(runtime=runtime), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", runtime)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
