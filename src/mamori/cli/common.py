"""What every `mamori` command shares: the app, the consoles, the runtime, the languages."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from mamori.config import Settings, load_settings

if TYPE_CHECKING:
    from mamori.app import Runtime

__all__ = ["CLI_ACTOR", "Format", "Lang", "_runtime", "_safe_url", "app", "err", "out"]

app = typer.Typer(
    name="mamori",
    help="mamori: the privacy policy that enforces itself.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

CLI_ACTOR = "cli"


class Lang(StrEnum):
    ja = "ja"
    en = "en"


class Format(StrEnum):
    html = "html"
    md = "md"


def _runtime(*, initialise: bool = False) -> Runtime:
    from mamori.app import open_runtime

    return open_runtime(load_settings(), initialise=initialise, actor=CLI_ACTOR)


def _safe_url(settings: Settings) -> str:
    from mamori.store import db

    return db.safe_url(settings.effective_database_url)
