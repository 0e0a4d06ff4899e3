"""The console script itself, in a process of its own: the one contract the in-process CLI
tests (tests/helpers/cli.py) cannot see. A mistake is one line on standard error, never a
traceback, with the error's exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mamori import __version__


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env["MAMORI_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-m", "mamori.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_console_script_answers_and_fails_in_one_line(tmp_path: Path) -> None:
    version = _run("version", tmp_path=tmp_path)
    assert version.returncode == 0 and __version__ in version.stdout
    missing = _run("policy", "publish", str(tmp_path / "nope.yaml"), tmp_path=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"mamori: {tmp_path / 'nope.yaml'}: no such file"
    ]
    assert "Traceback" not in missing.stderr + missing.stdout
    no_key = _run("db", "upgrade", tmp_path=tmp_path)  # no `mamori init` yet: exit 2, one line
    assert no_key.returncode == 2
    assert len(no_key.stderr.strip().splitlines()) == 1 and "mamori init" in no_key.stderr
    assert _run("init", tmp_path=tmp_path).returncode == 0
    assert _run("db", "upgrade", tmp_path=tmp_path).returncode == 0
