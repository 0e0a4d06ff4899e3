"""`mamori db`, `mamori vault`, `mamori backup` and `mamori restore`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mamori.cli.common import CLI_ACTOR, _runtime, _safe_url, app, out
from mamori.config import load_settings

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    runtime = _runtime(initialise=False)
    runtime.close()
    out.print(f"database at the latest migration: {_safe_url(runtime.settings)}")


vault_app = typer.Typer(help="Maintenance of the personal-data vault.", no_args_is_help=True)
app.add_typer(vault_app, name="vault")


@vault_app.command("purge")
def vault_purge() -> None:
    """Delete usage events and items whose retention has ended (the server also does this)."""
    from mamori.vault.events import purge_expired

    runtime = _runtime()
    try:
        purged = purge_expired(runtime.vault)
    finally:
        runtime.close()
    out.print(f"purged {purged.events} events and {purged.items} items past their retention")


@app.command("backup")
def backup_command(
    path: Annotated[Path, typer.Argument(help="The backup file to write (a new file).")],
) -> None:
    """Back up the database while mamori serves (SQLite: online backup; PostgreSQL: pg_dump).

    The backup holds neither the master keys nor the shred log: keep those apart.
    """
    from mamori.app.backups import make_backup

    make_backup(load_settings(), path, actor=CLI_ACTOR)
    out.print(f"backed up {_safe_url(load_settings())} to {path}", markup=False)


@app.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="A backup made by `mamori backup`.")],
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Confirm: replace the database (stop every mamori first)."),
    ] = False,
) -> None:
    """Replace the database with a backup, then withdraw again everyone the shred log names.

    Stop every mamori process using the database first. The shred log is verified before the
    database is touched; a person who withdrew after the backup stays withdrawn.
    """
    from mamori.app.backups import restore_backup
    from mamori.errors import UserInputError

    if not yes:
        raise UserInputError(
            "restore replaces the whole database with the backup; stop every mamori process "
            "using it, then run again with --yes"
        )
    report = restore_backup(load_settings(), path, actor=CLI_ACTOR)
    out.print(
        f"restored {path}; shred log: {report.logged} withdrawals, "
        f"{report.replayed} withdrawn again",
        markup=False,
    )
