"""Database fixtures shared by the whole suite.

``database_url`` is a fresh SQLite file in the test's temporary folder. With
``MAMORI_TEST_DATABASE_URL`` set to a PostgreSQL server (for example
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), it is instead a new database with a
unique name created on that server for the test and dropped after it, so tests never share
state and pytest-xdist workers never collide.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from mamori.app import Runtime
from mamori.store import db
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.mail.smtp import SmtpServer, run_smtp_server
from tests.support import open_test_runtime

SERVER_URL = os.environ.get("MAMORI_TEST_DATABASE_URL", "").strip()


def _server() -> sa.URL:
    url = make_url(SERVER_URL)
    if url.get_backend_name() != "postgresql":
        raise pytest.UsageError("MAMORI_TEST_DATABASE_URL must be a postgresql+psycopg:// URL")
    return url.set(drivername="postgresql+psycopg")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of the backend under test, for this test only."""
    if not SERVER_URL:
        yield f"sqlite:///{tmp_path / 'mamori.db'}"
        return
    server = _server()
    name = f"mamori_test_{uuid.uuid4().hex[:20]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on ``database_url`` with every migration applied."""
    engine = db.create_engine(database_url)
    db.migrate(engine)
    yield engine
    engine.dispose()


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


@pytest.fixture
def clock() -> ManualClock:
    """The test's clock: real time until a test moves it (``clock.advance(minutes=10)``)."""
    return ManualClock()


@pytest.fixture
def live_server(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[LiveServer]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock)
    try:
        with serving(runtime) as served:
            yield served
    finally:
        runtime.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port: ``.host``, ``.port``,
    ``.messages`` (parsed ``EmailMessage``s), ``.wait_for(n, timeout=5)``. Point mamori at it
    with ``open_test_runtime(tmp_path, url, smtp_host=s.host, smtp_port=s.port, smtp_tls="none")``.
    """
    with run_smtp_server() as server:
        yield server
