"""`mamori datasets`: the operator's own databases."""

from __future__ import annotations

import typer

from mamori.cli.common import app

datasets_app = typer.Typer(
    help="The operator's own databases: declarations, checks and discovery.",
    no_args_is_help=True,
)
app.add_typer(datasets_app, name="datasets")
