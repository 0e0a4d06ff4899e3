"""A scratch database of each backend discovery scans: SQLite always, PostgreSQL with
MAMORI_TEST_DATABASE_URL, MariaDB with MAMORI_TEST_MARIADB_URL; created and dropped per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.conftest import SERVER_URL

MARIADB_URL = os.environ.get("MAMORI_TEST_MARIADB_URL", "").strip()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty scratch database on the backend of the parameter."""
    backend = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    if backend == "postgresql":
        if not SERVER_URL:
            pytest.skip("needs MAMORI_TEST_DATABASE_URL (PostgreSQL)")
        server = make_url(SERVER_URL).set(drivername="postgresql+psycopg")
        create, drop = 'CREATE DATABASE "{}"', 'DROP DATABASE IF EXISTS "{}" WITH (FORCE)'
    else:
        if not MARIADB_URL:
            pytest.skip("needs MAMORI_TEST_MARIADB_URL (mysql+pymysql://root@127.0.0.1:3306/test)")
        server = make_url(MARIADB_URL)
        create, drop = "CREATE DATABASE `{}` CHARACTER SET utf8mb4", "DROP DATABASE IF EXISTS `{}`"
    name = f"mamori_scan_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(create.format(name))
        url = server.set(database=name)
        if backend == "mariadb":
            url = url.update_query_dict({"charset": "utf8mb4"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(drop.format(name))
        admin.dispose()
