"""Running the server: one process, or several worker processes with a listening socket each.

uvicorn's own ``--workers`` lets every worker accept on one shared socket. Under a burst of new
keep-alive connections the worker that wakes first accepts nearly all of them (splits of 32/0 and
30/2 were seen), so one core serves the load while the other idles. Here each worker binds its
own socket with ``SO_REUSEPORT`` and the kernel spreads new connections across them evenly.

The supervisor (the process ``mamori serve`` started) checks that the port is free, starts the
workers, restarts one that dies, and on SIGINT or SIGTERM asks each to finish its requests.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from mamori.config import Settings
from mamori.errors import ConfigError

__all__ = ["run"]

log = logging.getLogger("mamori.serve")

_QUICK_DEATH_SECONDS = 10.0
"""A worker that exits sooner than this after starting counts as failing to start."""

_MAX_QUICK_DEATHS = 3
"""After this many quick deaths in a row the supervisor gives up, instead of looping."""


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve mamori on ``host:port`` with ``workers`` processes, until interrupted."""
    import uvicorn

    if workers == 1:
        from mamori.web.app import create_app

        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=settings.log_level,
            proxy_headers=True,
            **_logging(settings),
        )
        return
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - not Linux or BSD
        uvicorn.run(
            "mamori.web.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level,
            proxy_headers=True,
            **_logging(settings),
        )
        return
    _check_free(host, port)
    _Supervisor(host, port, workers, settings.log_level).run()


def _logging(settings: Settings) -> dict[str, Any]:
    """uvicorn's logging options: its defaults for text, JSON lines (:mod:`mamori.web.metrics`)
    with its own access log off for MAMORI_LOG_FORMAT=json."""
    from mamori.web.metrics import log_config

    config = log_config(settings.log_format, settings.log_level)
    return {} if config is None else {"log_config": config, "access_log": False}


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[object, ...]]:
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host!r}: {exc.strerror}") from None
    return family, address


def _check_free(host: str, port: int) -> None:
    """Refuse a port already in use: ``SO_REUSEPORT`` would otherwise share it silently."""
    family, address = _address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                "is another server running there? Choose another port with --port"
            ) from None


def _listening_socket(host: str, port: int) -> socket.socket:
    family, address = _address(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, log_level: str) -> None:
    """One worker process: its own socket, its own runtime, uvicorn's event loop."""
    import uvicorn

    from mamori.config import load_settings
    from mamori.web.app import create_app

    sock = _listening_socket(host, port)
    settings = load_settings()
    config = uvicorn.Config(
        create_app(settings),
        log_level=log_level,
        proxy_headers=True,
        timeout_notify=30,
        **_logging(settings),
    )
    uvicorn.Server(config).run(sockets=[sock])


class _Supervisor:
    def __init__(self, host: str, port: int, workers: int, log_level: str) -> None:
        self.host = host
        self.port = port
        self.wanted = workers
        self.log_level = log_level
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[tuple[BaseProcess, float]] = []
        self.stopping = False

    def _start(self) -> tuple[BaseProcess, float]:
        process = self.context.Process(
            target=_worker, args=(self.host, self.port, self.log_level), name="mamori-worker"
        )
        process.start()
        return process, time.monotonic()

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        quick_deaths = 0
        try:
            self.processes = [self._start() for _ in range(self.wanted)]
            while not self.stopping:
                time.sleep(0.2)
                for index, (process, started) in enumerate(self.processes):
                    if process.is_alive() or self.stopping:
                        continue
                    quick = time.monotonic() - started < _QUICK_DEATH_SECONDS
                    quick_deaths = quick_deaths + 1 if quick else 0
                    if quick_deaths >= _MAX_QUICK_DEATHS:
                        print(
                            f"mamori: a worker exited with status {process.exitcode} right after "
                            "starting, three times in a row; stopping (see the messages above)",
                            file=sys.stderr,
                        )
                        self.stopping = True
                        raise SystemExit(1)
                    log.warning(
                        "worker %s exited with status %s; starting another",
                        process.pid,
                        process.exitcode,
                    )
                    self.processes[index] = self._start()
        finally:
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _shutdown(self) -> None:
        for process, _ in self.processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(OSError):
                    process.terminate()  # SIGTERM: uvicorn finishes open requests, then exits
        deadline = time.monotonic() + 30
        for process, _ in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
