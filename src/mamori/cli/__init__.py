"""The `mamori` command: thin, it parses, calls the library and maps errors to exit codes.

A user's mistake (bad YAML, unknown id, missing file, unreachable database, wrong URL) prints
one line on standard error and exits non-zero; it never prints a traceback.
"""

from __future__ import annotations

import importlib
import sys

from mamori.cli.common import app, err
from mamori.errors import MamoriError, PolicyError

__all__ = ["app", "main"]

# Each module registers its commands on the app; `mamori --help` lists them in this order.
for _module in ("server", "policy", "audit", "keys", "maintenance", "mail", "staff", "consent"):
    importlib.import_module(f"mamori.cli.{_module}")


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except MamoriError as exc:
        if isinstance(exc, PolicyError):  # a policy file with mistakes: each, as `policy check`
            for problem in exc.problems:
                err.print(str(problem), markup=False)
        err.print(f"mamori: {exc.message}", markup=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("mamori: interrupted")
        sys.exit(130)
