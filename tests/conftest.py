"""Database fixtures shared by the whole suite.

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
