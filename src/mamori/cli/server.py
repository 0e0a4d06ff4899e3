"""`mamori version`, `init` and `serve`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mamori import __version__
from mamori.config import load_settings

if TYPE_CHECKING:
    pass

from mamori.cli.common import CLI_ACTOR, _safe_url, app, err, out


@app.command()
def version() -> None:
    """Print mamori's version."""
    out.print(__version__)


@app.command()
def init() -> None:
    """Create the database, apply migrations, create the master-key file, publish the policy.

    `mamori serve` does this by itself on the embedded default; run it explicitly on
    PostgreSQL, where a missing master key is never created silently.
    """
    from mamori.app import open_runtime
    from mamori.keyring import create_key_file

    settings = load_settings()
    keys_elsewhere = settings.master_key or settings.master_key_command
    if not keys_elsewhere and not settings.effective_master_key_file.exists():
        create_key_file(settings.effective_master_key_file)
        out.print(f"created master-key file {settings.effective_master_key_file} (mode 600)")
    runtime = open_runtime(settings, initialise=True, actor=CLI_ACTOR)
    try:
        from mamori.publication import versions

        current = versions.current(runtime.engine)
        out.print(f"database ready: {_safe_url(settings)}")
        if current is not None:
            out.print(f"published policy: version {current.version} ({current.policy_id})")
    finally:
        runtime.close()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [MAMORI_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [MAMORI_PORT].")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes, each with a listening socket of its own.")
    ] = 1,
) -> None:
    """Start the server: privacy pages, API, and everything else mamori serves."""
    from mamori.app import open_runtime

    settings = load_settings()
    runtime = open_runtime(settings, initialise=True, actor="system:serve")
    current = None
    try:
        from mamori.publication import versions
        from mamori.staff import storage as staff_storage
        from mamori.store import db

        current = versions.current(runtime.engine)
        with db.read(runtime.engine) as conn:
            no_staff = staff_storage.count_all(conn) == 0
    finally:
        runtime.close()
    bind_host = host or settings.host
    bind_port = port or settings.port
    err.print(
        f"mamori {__version__} on http://{bind_host}:{bind_port}/ "
        f"(database: {_safe_url(settings)}; policy version "
        f"{current.version if current else '-'})"
    )
    err.print(f"  privacy policy: http://{bind_host}:{bind_port}/privacy  (English: ?lang=en)")
    if no_staff:
        err.print(
            "  no staff account yet: create the first admin with "
            "`mamori staff create LOGIN --role manager --name NAME`, then sign in at "
            f"http://{bind_host}:{bind_port}/admin/login",
            markup=False,
        )
    from mamori.web.serve import run

    run(settings, bind_host, bind_port, workers)
