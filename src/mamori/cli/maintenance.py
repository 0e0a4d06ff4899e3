"""`mamori db` and `mamori vault`."""

from __future__ import annotations

import typer

from mamori.cli.common import _runtime, _safe_url, app, out

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
