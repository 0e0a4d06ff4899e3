"""`mamori staff reset-totp` as an operator runs it, and the startup note of `mamori serve`
when no staff account exists yet."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from mamori.app import open_runtime
from mamori.config import Settings
from mamori.staff import SecondFactors
from tests.helpers.cli import mamori
from tests.helpers.process import ServedProcess, mamori_env
from tests.helpers.staff import PASSWORD, directory, enrol, totp_secret


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    clean.update(MAMORI_DATA_DIR=str(tmp_path / "data"), MAMORI_DATABASE_URL=database_url)
    mamori("init", env=clean)
    return clean


def test_reset_totp(env: dict[str, str], tmp_path: Path, database_url: str) -> None:
    mamori(
        "staff", "create", "hanako", "--role", "manager", "--name", "山田 花子",
        "--password-stdin", env=env, stdin=PASSWORD + "\n",
    )  # fmt: skip
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    runtime = open_runtime(settings, initialise=False)
    try:
        staff_id = directory(runtime).find("hanako").id
        enrol(runtime, staff_id, totp_secret("hanako"))
    finally:
        runtime.close()
    done = mamori("staff", "reset-totp", "Hanako", env=env)
    assert done.stdout.strip() == (
        f"authenticator reset for staff account {staff_id} (0 sessions ended)"
    )
    again = mamori("staff", "reset-totp", "hanako", env=env, check=2)
    assert again.stderr.strip() == "mamori: this staff account has no authenticator to reset"
    nobody = mamori("staff", "reset-totp", "nobody", env=env, check=2)
    assert len(nobody.stderr.strip().splitlines()) == 1 and "Traceback" not in nobody.stderr
    assert "reset-totp" in mamori("staff", "--help", env=env).stdout
    runtime = open_runtime(settings, initialise=False)
    try:
        assert not SecondFactors(directory(runtime)).status(staff_id).enrolled
        entries = [(e.actor, e.action) for e in runtime.audit.tail(3)]
        assert ("cli", "staff.totp_reset") in entries
    finally:
        runtime.close()


def test_serve_says_how_to_make_the_first_account(tmp_path: Path, database_url: str) -> None:
    env = mamori_env(tmp_path / "data", database_url)
    mamori("init", env=env)
    server = ServedProcess(env, tmp_path / "serve.log")
    try:
        server.wait_healthy()
        assert "no staff account yet" in server.tail(50)
        assert "mamori staff create LOGIN --role manager" in server.tail(50)
        page = httpx.get(f"{server.url}/admin/login", timeout=10)
        assert "mamori staff create" in page.text
    finally:
        server.stop()
