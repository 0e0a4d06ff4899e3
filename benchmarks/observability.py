"""What the metrics and the JSON access line cost per request, beside the same app without them.

Calls the ASGI app directly (no sockets, no HTTP parser), so the figure is the observer's own
CPU time: first around a bare ASGI app (the observer alone), then around mamori's ``/healthz``
with the observer off, with metrics, and with metrics and the JSON line, interleaved in rounds
so that the machine's drift hits every variant alike.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamori.app import open_runtime
from mamori.config import Settings
from mamori.web.app import create_app
from mamori.web.metrics import JsonFormatter, RequestObserver

TOKEN = "bench-metrics-token-0123456789"


async def _bare(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _scope(path: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Message) -> None:
    return None


def _cpu_us(app: ASGIApp, path: str, n: int) -> float:
    async def run() -> None:
        for _ in range(n):
            await app(_scope(path), _receive, _send)

    started = time.process_time()
    asyncio.run(run())
    return (time.process_time() - started) / n * 1e6


def _measure(app: ASGIApp, path: str) -> Callable[[int], float]:
    return lambda n: _cpu_us(app, path, n)


def _rounds(variants: dict[str, Callable[[int], float]], n: int, rounds: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, measure in variants.items():
            figure = measure(n)
            best[name] = min(best.get(name, figure), figure)
    return best


def main(n: int, rounds: int) -> None:
    # The line is formatted as JSON and written, to /dev/null.
    handler = logging.StreamHandler(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("mamori.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    observed = _rounds(
        {
            "bare ASGI app": lambda k: _cpu_us(_bare, "/", k),
            "bare + metrics": lambda k: _cpu_us(
                RequestObserver(_bare, metrics=True, log=False), "/", k
            ),
            "bare + metrics + JSON line": lambda k: _cpu_us(
                RequestObserver(_bare, metrics=True, log=True), "/", k
            ),
        },
        n,
        rounds,
    )
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        runtime = open_runtime(settings)
        try:
            apps: dict[str, Any] = {
                "/healthz, observer off": create_app(runtime=runtime),
                "/healthz + metrics": create_app(
                    settings.model_copy(update={"metrics_token": TOKEN}), runtime=runtime
                ),
                "/healthz + metrics + JSON line": create_app(
                    settings.model_copy(update={"metrics_token": TOKEN, "log_format": "json"}),
                    runtime=runtime,
                ),
            }
            for app in apps.values():
                app.state.runtime = runtime
            healthz = _rounds(
                {name: _measure(app, "/healthz") for name, app in apps.items()},
                n // 4,
                rounds,
            )
        finally:
            runtime.close()
    base = observed["bare ASGI app"]
    print(f"CPU per request, best of {rounds} rounds of {n} (in-process ASGI calls):")
    for name, figure in observed.items():
        print(f"  {name:34} {figure:8.1f} us   (+{figure - base:.1f} us)")
    base = healthz["/healthz, observer off"]
    for name, figure in healthz.items():
        print(f"  {name:34} {figure:8.1f} us   (+{figure - base:.1f} us)")
