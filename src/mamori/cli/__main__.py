"""`python -m mamori.cli`."""

from mamori.cli import main

main()
