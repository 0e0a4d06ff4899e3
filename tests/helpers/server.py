"""mamori served by uvicorn on a free loopback port, for the client, the browser and HTTP tests;
and any ASGI app (a host service such as the Yobunara example) served the same way."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from mamori.app import Runtime
from mamori.web.app import create_app

__all__ = ["LiveServer", "free_port", "serving", "serving_app"]


@dataclass(frozen=True)
class LiveServer:
    """mamori served by uvicorn on a free loopback port, for the client and the browser."""

    url: str
    runtime: Runtime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving_app(app: Any, port: int | None = None) -> Iterator[str]:
    """An ASGI app served by uvicorn on 127.0.0.1 (``port``, or a free one) until the block
    ends; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serving(runtime: Runtime) -> Iterator[LiveServer]:
    """``runtime`` served by uvicorn on a free loopback port until the block ends."""
    with serving_app(create_app(runtime=runtime)) as url:
        yield LiveServer(url, runtime)
