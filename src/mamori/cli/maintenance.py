"""`mamori db`, `mamori vault` and `mamori bench`."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    pass

from mamori.cli.common import _runtime, _safe_url, app, err, out

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
bench_app = typer.Typer(
    help="Benchmarks that print their figures beside a baseline.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")


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


@bench_app.command("audit")
def bench_audit(
    database_url: Annotated[
        str | None,
        typer.Option(help="Server or file to measure on (a temporary database is used)."),
    ] = None,
    count: Annotated[int, typer.Option("-n", "--count", min=100, help="Entries.")] = 20000,
    batch: Annotated[int, typer.Option(min=1, help="Entries per transaction.")] = 100,
) -> None:
    """Audit append and verify rates beside a plain insert of the same rows."""
    from mamori.bench import audit as bench

    bench.main(database_url, count, batch)


@bench_app.command("vault")
def bench_vault(
    database_url: Annotated[
        str | None,
        typer.Option(help="Server or file to measure on (a temporary database is used)."),
    ] = None,
    people: Annotated[int, typer.Option(min=1, help="People stored before reading.")] = 2000,
    reads: Annotated[int, typer.Option(min=100, help="Reads of each kind.")] = 20000,
    threads: Annotated[int, typer.Option(min=1, help="Concurrent callers.")] = 8,
) -> None:
    """Authorised vault reads beside plain primary-key reads: rates, ratio, p50/p99."""
    from mamori.bench import vault as bench

    bench.main(database_url, people, reads, threads)


class LoadGenerator(StrEnum):
    auto = "auto"
    wrk = "wrk"
    python = "python"


@bench_app.command("vault-http")
def bench_vault_http(
    database_url: Annotated[
        str | None,
        typer.Option(help="Server or file to measure on (a temporary database is used)."),
    ] = None,
    people: Annotated[int, typer.Option(min=1, help="People stored before reading.")] = 2000,
    reads: Annotated[
        int, typer.Option(min=100, help="Requests of each kind (bare, authorised, lookup).")
    ] = 20000,
    connections: Annotated[
        int, typer.Option(min=1, max=1000, help="Keep-alive connections of the load generator.")
    ] = 32,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server worker processes.")] = 2,
    lookup: Annotated[
        bool, typer.Option(help="Also measure reads by e-mail address (lookup and read).")
    ] = True,
    generator: Annotated[
        LoadGenerator,
        typer.Option(help="Load generator: wrk, Python processes, or auto (wrk when installed)."),
    ] = LoadGenerator.auto,
) -> None:
    """Authorised reads over HTTP from `mamori serve`: rates, p50/p99, errors, worker memory.

    Starts the real server with a temporary database on a free loopback port and drives it
    from a load generator on 127.0.0.1; any response but 200 is an error and fails the run.
    """
    from mamori.bench import vault_http as bench

    result = bench.main(
        database_url,
        people,
        reads,
        connections,
        workers,
        lookup,
        generator.value,
    )
    if result.errors:
        err.print(f"mamori: {result.errors} requests failed; see the table above", markup=False)
        raise typer.Exit(1)
