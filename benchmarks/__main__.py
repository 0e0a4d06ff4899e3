"""`python -m benchmarks NAME ...` (what `./dev bench NAME` runs)."""

from __future__ import annotations

import sys

from benchmarks.cli import app
from mamori.errors import MamoriError


def main() -> None:
    try:
        app()
    except MamoriError as exc:
        print(f"bench: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
