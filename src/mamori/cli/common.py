"""What every `mamori` command shares: the app, the consoles, the runtime, the languages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import typer
from rich.console import Console
from typer import _click as click  # typer vendors its own click
from typer.core import TyperGroup

from mamori.config import Settings, load_settings
from mamori.errors import MamoriError, PolicyError

if TYPE_CHECKING:
    from mamori.app import Runtime

__all__ = [
    "CLI_ACTOR",
    "Format",
    "Lang",
    "_runtime",
    "_safe_url",
    "app",
    "err",
    "out",
    "output_sink",
]

out = Console(highlight=False, soft_wrap=True)


@contextmanager
def output_sink(output: Path | None) -> Iterator[BinaryIO]:
    """Where an export writes: the file ``output`` (closed afterwards) or standard output
    (flushed). A file that cannot be opened or written is one line, never a traceback."""
    where = output if output is not None else "stdout"
    try:
        sink: BinaryIO = output.open("wb") if output is not None else sys.stdout.buffer
    except OSError as exc:
        raise MamoriError(f"{where}: cannot write: {exc.strerror or exc}") from None
    try:
        yield sink
    except OSError as exc:
        raise MamoriError(f"{where}: cannot write: {exc.strerror or exc}") from None
    finally:
        if output is not None:
            sink.close()
        else:
            sink.flush()


err = Console(stderr=True, highlight=False, soft_wrap=True)


class _MamoriGroup(TyperGroup):
    """The command group: a user's mistake is one line on standard error and an exit code.

    Handled here rather than around ``app()`` so that the console script and Typer's
    ``CliRunner`` (the tests) answer alike. A :class:`~mamori.errors.PolicyError` lists each
    problem, as ``mamori policy check`` does; a traceback is never printed for a
    :class:`~mamori.errors.MamoriError`.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MamoriError as exc:
            if isinstance(exc, PolicyError):
                for problem in exc.problems:
                    err.print(str(problem), markup=False)
            err.print(f"mamori: {exc.message}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("mamori: interrupted")
            raise typer.Exit(130) from None


app = typer.Typer(
    name="mamori",
    cls=_MamoriGroup,
    help="mamori: the privacy policy that enforces itself.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

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
