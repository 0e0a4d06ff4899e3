"""The `mamori` command run in-process through Typer's ``CliRunner``, as a user would type it.

Faster than a subprocess by the second of imports each run costs, and the same code path: the
command group answers errors itself (:class:`mamori.cli.common.app`), so exit codes and the one
line on standard error are what the console script gives. One subprocess test keeps the
console script itself honest (``tests/e2e/test_console_script.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from typer.testing import CliRunner

from mamori.cli import app

__all__ = ["Ran", "mamori", "mamori_env"]


@dataclass(frozen=True)
class Ran:
    """What a run of the command printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str


def mamori_env(**settings: str) -> dict[str, str | None]:
    """The environment of a run: the given ``MAMORI_*`` settings and no other ``MAMORI_*``."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MAMORI_")}
    env.update(settings)
    return env


def mamori(
    *args: str,
    env: Mapping[str, str | None],
    check: int | None = 0,
    stdin: str | None = None,
) -> Ran:
    """Run ``mamori ARGS`` with the ``MAMORI_*`` variables of ``env`` (others are ignored).

    Asserts that no traceback was printed and, unless ``check`` is None, the exit code.
    """
    settings = mamori_env(**{k: v for k, v in env.items() if k.startswith("MAMORI_") and v})
    result = CliRunner().invoke(app, list(args), env=settings, input=stdin, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback the console script would have printed
    ran = Ran(result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in ran.stdout + ran.stderr, ran.stderr
    if check is not None:
        assert ran.returncode == check, (ran.stdout, ran.stderr)
    return ran
