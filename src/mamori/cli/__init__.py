"""The `mamori` command: thin, it parses, calls the library and maps errors to exit codes.

A user's mistake (bad YAML, unknown id, missing file, unreachable database, wrong URL) prints
one line on standard error and exits non-zero; it never prints a traceback.
"""

from __future__ import annotations

import importlib

from mamori.cli.common import app

__all__ = ["app", "main"]

# Each module registers its commands on the app; `mamori --help` lists them in this order.
for _module in (
    "server",
    "policy",
    "audit",
    "keys",
    "maintenance",
    "mail",
    "staff",
    "consent",
    "provisions",
    "webhooks",
    "datasets",
):
    importlib.import_module(f"mamori.cli.{_module}")


def main() -> None:
    """Entry point of the console script (errors are answered by the command group)."""
    app()
