"""Fixtures shared by the whole suite, and the markers each folder's tests carry.

The suite is laid out by cost: ``tests/unit`` (pure code, no database), ``tests/integration``
(a database, in-process web and CLI), ``tests/e2e`` (live servers, the browser, a broker,
processes, benchmarks). Each test is marked after its folder (``unit``, ``integration``,
``e2e``; ``slow`` for e2e, ``browser`` and ``broker`` for their folders), so that
``pytest -m unit`` runs the quick layer alone. Helpers live in ``tests/helpers``.

Databases:
``database_url`` is a fresh SQLite file in the test's temporary folder. With
``MAMORI_TEST_DATABASE_URL`` set to a PostgreSQL server (for example
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), it is instead a new database with a
unique name created on that server for the test and dropped after it, so tests never share
state and pytest-xdist workers never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from mamori.store import db
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.server import LiveServer, serving
from tests.helpers.smtp import SmtpServer, run_smtp_server

SERVER_URL = os.environ.get("MAMORI_TEST_DATABASE_URL", "").strip()

_FOLDER_MARKS = (
    ("tests/unit/", ("unit",)),
    ("tests/integration/", ("integration",)),
    ("tests/e2e/browser/", ("e2e", "slow", "browser")),
    ("tests/e2e/broker/", ("e2e", "slow", "broker")),
    ("tests/e2e/", ("e2e", "slow")),
)


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = str(item.path).replace(os.sep, "/")
        for folder, marks in _FOLDER_MARKS:
            if f"/{folder}" in where:
                for mark in marks:
                    if item.get_closest_marker(mark) is None:
                        item.add_marker(getattr(pytest.mark, mark))
                break
        if item.get_closest_marker("postgres") and not SERVER_URL:
            item.add_marker(pytest.mark.skip(reason="needs MAMORI_TEST_DATABASE_URL (PostgreSQL)"))


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
