"""A bad URL, a missing file or driver, an unreachable server: one line, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.cli import app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "says", "code"),
    [
        ("not a url", "not a database URL", 2),
        ("oracle://scott@127.0.0.1/orcl", "oracle is not supported", 2),
        ("mysql+nosuchdriver://root@127.0.0.1/test", "no driver", 2),
        ("sqlite:///{tmp}/missing.db", "no SQLite file at", 2),
        ("sqlite://", "name a SQLite file", 2),
        ("postgresql+psycopg://postgres:s3cret@127.0.0.1:{port}/x", "cannot be reached", 3),
        ("mysql+pymysql://root@127.0.0.1:{port}/test", "cannot be reached", 3),
    ],
)
def test_one_line(url: str, says: str, code: int, tmp_path: Path) -> None:
    url = url.format(tmp=tmp_path, port=_free_port())
    result = CliRunner().invoke(app, ["datasets", "scan", url])
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mamori: ") and says in lines[0], lines
    assert "Traceback" not in result.output and "s3cret" not in result.output


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not sqlite", encoding="utf-8")
    result = CliRunner().invoke(app, ["datasets", "scan", f"sqlite:///{path}"])
    assert result.exit_code == 3, result.output
    assert result.output.count("\n") == 1 and "cannot be reached" in result.output


def test_bad_options(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["datasets", "scan", "sqlite://", "--id", "Bad-Id"])
    assert result.exit_code == 2 and "--id" in result.output
