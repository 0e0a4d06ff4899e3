"""`mamori staff ...` as an operator runs it: passwords from a hidden prompt or stdin only."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest

from mamori.app import open_runtime
from mamori.config import Settings
from mamori.errors import SignInFailed
from mamori.staff import Limits, sign_in
from tests.helpers.cli import mamori
from tests.helpers.staff import directory

PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    clean.update(MAMORI_DATA_DIR=str(tmp_path / "data"), MAMORI_DATABASE_URL=database_url)
    mamori("init", env=clean)
    return clean


def test_staff_commands(env: dict[str, str], tmp_path: Path, database_url: str) -> None:
    made = mamori(
        "staff", "create", "Hanako", "--role", "manager", "--name", "山田 花子",
        "--password-stdin", env=env, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.stdout.startswith("created staff account st_") and "(manager)" in made.stdout
    short = mamori(
        "staff", "create", "taro", "--role", "viewer", "--name", "太郎", "--password-stdin",
        env=env, stdin="elevenchars\n", check=2,
    )  # fmt: skip
    assert short.stderr.strip() == (
        "mamori: the password is too short: use at least 12 characters "
        "(a few words make a good one)"
    )
    bad_role = mamori(
        "staff", "create", "taro", "--role", "root", "--name", "太郎", "--password-stdin",
        env=env, stdin=PASSWORD + "\n", check=2,
    )  # fmt: skip
    assert "root" in bad_role.stderr and "Traceback" not in bad_role.stderr
    mamori(
        "staff", "create", "taro", "--role", "viewer", "--name", "山田 太郎", "--password-stdin",
        env=env, stdin=PASSWORD + "\n",
    )  # fmt: skip

    listed = mamori("staff", "list", env=env).stdout.splitlines()
    assert listed[0] == "id\tlogin\tname\trole\tstate\tcreated\tlast_sign_in"
    rows = [line.split("\t") for line in listed[1:]]
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in rows] == [
        ("hanako", "山田 花子", "manager", "active", "-"),
        ("taro", "山田 太郎", "viewer", "active", "-"),
    ]

    last = mamori("staff", "disable", "hanako", env=env, check=2)
    assert "last active manager" in last.stderr
    assert mamori("staff", "disable", "taro", env=env).stdout.startswith("disabled staff account")
    assert "no staff account" in mamori("staff", "disable", "nobody", env=env, check=2).stderr

    mamori(
        "staff", "reset-password", "hanako", "--password-stdin",
        env=env, stdin="a different long password\n",
    )  # fmt: skip
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    runtime = open_runtime(settings, initialise=False)
    try:
        staff = directory(runtime)
        limits, age = Limits(), dt.timedelta(hours=1)
        with pytest.raises(SignInFailed):
            sign_in(staff, "hanako", PASSWORD, client="c", limits=limits, max_age=age)
        sign_in(
            staff, "hanako", "a different long password", client="c", limits=limits, max_age=age
        )
        actions = [(e.actor, e.action) for e in runtime.audit.tail(8) if e.actor == "cli"]
        assert [a for _, a in actions][-4:] == [
            "staff.create", "staff.create", "staff.disable", "staff.password_reset",
        ]  # fmt: skip
    finally:
        runtime.close()


def test_the_password_is_never_an_argument(env: dict[str, str]) -> None:
    result = mamori(
        "staff", "create", "hanako", "--role", "manager", "--name", "花子", "--password", PASSWORD,
        env=env, check=2,
    )  # fmt: skip
    assert "No such option" in result.stderr
    help_text = mamori("staff", "create", "--help", env=env).stdout
    assert "--password-stdin" in help_text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
def test_the_password_prompt_is_hidden_and_asked_twice(env: dict[str, str]) -> None:
    import pty
    import select
    import warnings

    with warnings.catch_warnings():  # Python 3.12+ warns about fork() with threads running
        warnings.simplefilter("ignore", DeprecationWarning)
        pid, fd = pty.fork()
    if pid == 0:  # the child: mamori on a terminal
        os.execve(
            sys.executable,
            [sys.executable, "-m", "mamori.cli", "staff", "create", "hanako", "--role", "manager",
             "--name", "花子"],
            env,
        )  # fmt: skip
    seen = b""

    def read_until(token: bytes) -> None:
        nonlocal seen
        while token not in seen:
            ready, _, _ = select.select([fd], [], [], 60)
            assert ready, f"no {token!r} in {seen!r}"
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child has exited
                break
            if not chunk:
                break
            seen += chunk

    read_until(b"Password: ")
    os.write(fd, b"correct horse battery\n")
    read_until(b"Repeat for confirmation: ")
    os.write(fd, b"correct horse battery\n")
    read_until(b"created staff account")
    read_until(b"\n")
    os.waitpid(pid, 0)
    os.close(fd)
    assert b"correct horse" not in seen  # never echoed
    assert b"created staff account st_" in seen
