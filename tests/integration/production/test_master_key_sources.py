"""The master key from the environment, a file or a command that prints it (a secret manager)."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import pytest

from mamori.app import load_master_keys
from mamori.config import Settings
from mamori.errors import KeyFileError
from mamori.keyring import run_key_command
from tests.helpers.cli import mamori

KEY = base64.b64encode(bytes(range(32))).decode("ascii")
KEY2 = base64.b64encode(bytes(range(1, 33))).decode("ascii")


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "print-key.py"
    path.write_text(body, encoding="utf-8")
    return f"{sys.executable} {path}"


def test_the_command_prints_the_keys(tmp_path: Path) -> None:
    command = _script(tmp_path, f"print('1:{KEY}')\nprint('2:{KEY2}')\n")
    settings = Settings(data_dir=tmp_path, master_key_command=command)
    keys, created = load_master_keys(settings, create=True)
    assert not created
    assert keys.current_version == 2
    assert keys.get(1) == bytes(range(32))
    assert not (tmp_path / "master.key").exists()  # no key file made beside the command


def test_the_command_runs_without_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "expanded"
    command = _script(tmp_path, f"import sys\nprint('1:{KEY}')\n") + f" ; touch {marker}"
    run_key_command(command, timeout=10)  # ';' and 'touch' are arguments, never run
    assert not marker.exists()


@pytest.mark.parametrize(
    ("body", "timeout", "expected"),
    [
        (
            "import sys\nsys.stderr.write('vault sealed\\n')\nsys.exit(3)\n",
            10,
            "exited with status 3: vault sealed",
        ),
        ("import time\ntime.sleep(5)\n", 0.3, "did not finish within 0.3 seconds"),
        ("print('not a key')\n", 10, "entry 1 is not VERSION:BASE64KEY"),
        ("print('')\n", 10, "no master key found"),
    ],
)
def test_a_failing_command_is_one_clear_line(
    tmp_path: Path, body: str, timeout: float, expected: str
) -> None:
    with pytest.raises(KeyFileError) as caught:
        run_key_command(_script(tmp_path, body), timeout=timeout)
    message = caught.value.message
    assert message.startswith("MAMORI_MASTER_KEY_COMMAND: ")
    assert expected in message
    assert "\n" not in message


def test_a_missing_program_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="program not found: /nonexistent/secret-tool"):
        run_key_command("/nonexistent/secret-tool get mamori", timeout=5)


def test_the_key_never_appears_in_an_error(tmp_path: Path) -> None:
    body = f"import sys\nprint('1:{KEY}')\nsys.exit(1)\n"
    with pytest.raises(KeyFileError) as caught:
        run_key_command(_script(tmp_path, body), timeout=10)
    assert KEY not in caught.value.message


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"1:{KEY}\n", encoding="ascii")
    os.chmod(path, 0o640)
    settings = Settings(data_dir=tmp_path, master_key_file=path)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_master_keys(settings, create=False)


def test_the_server_starts_on_keys_from_a_command(tmp_path: Path, env: dict[str, str]) -> None:
    command = _script(tmp_path, f"print('1:{KEY}')\n")
    ran = mamori("init", env={**env, "MAMORI_MASTER_KEY_COMMAND": command})
    assert "database ready" in ran.stdout
    assert not (Path(env["MAMORI_DATA_DIR"]) / "master.key").exists()
    failing = _script(tmp_path, "import sys\nsys.exit(2)\n")
    ran = mamori("db", "upgrade", env={**env, "MAMORI_MASTER_KEY_COMMAND": failing}, check=None)
    assert ran.returncode != 0
    assert "MAMORI_MASTER_KEY_COMMAND: " in ran.stderr
    # mamori cannot add a version to a secret manager, and says what to do instead
    ran = mamori("keys", "rotate", env={**env, "MAMORI_MASTER_KEY_COMMAND": command}, check=None)
    assert ran.returncode != 0
    assert "secret manager" in ran.stderr
