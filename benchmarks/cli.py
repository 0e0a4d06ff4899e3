"""`./dev bench NAME`: the benchmarks' command line (not part of the installed `mamori`).

Each command prints its figures beside a baseline measured in the same run; see
docs/explanation/performance.md for what each measures and the figures seen.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="bench",
    help="Benchmarks that print their figures beside a baseline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@app.command("audit")
def bench_audit(
    database_url: Annotated[
        str | None,
        typer.Option(help="Server or file to measure on (a temporary database is used)."),
    ] = None,
    count: Annotated[int, typer.Option("-n", "--count", min=100, help="Entries.")] = 20000,
    batch: Annotated[int, typer.Option(min=1, help="Entries per transaction.")] = 100,
) -> None:
    """Audit append and verify rates beside a plain insert of the same rows."""
    from benchmarks import audit as bench

    bench.main(database_url, count, batch)


@app.command("discovery")
def bench_discovery(
    seed: Annotated[int, typer.Option(help="Seed of the labelled corpus.")] = 20261201,
    per_kind: Annotated[int, typer.Option(min=10, help="Positive values per kind.")] = 400,
    nlp: Annotated[
        bool, typer.Option(help="Recognise names with SudachiPy when installed.")
    ] = True,
) -> None:
    """Discovery's precision and recall per kind on a labelled corpus, beside a naive
    baseline (regular expressions with word boundaries, no check digit, no NFKC)."""
    from benchmarks import discovery as bench

    bench.main(seed, per_kind, nlp)


@app.command("vault")
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
    from benchmarks import vault as bench

    bench.main(database_url, people, reads, threads)


class LoadGenerator(StrEnum):
    auto = "auto"
    wrk = "wrk"
    python = "python"


@app.command("vault-http")
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
    from benchmarks import vault_http as bench

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


@app.command("datasets")
def bench_datasets(
    server: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server for the scratch operator database (local default)."),
    ] = None,
    rows: Annotated[int, typer.Option(min=1000, help="Rows in each of the 10 tables.")] = 200_000,
    matches: Annotated[
        int, typer.Option(min=1, max=10_000, help="The person's rows in each of 9 tables.")
    ] = 20,
    memory: Annotated[
        bool, typer.Option(help="Also measure the traversal's memory at N/10 and N rows.")
    ] = False,
) -> None:
    """A person's rows in 10 connected tables of N rows: traversal and erasure (plan, record,
    checkpoints, verify) beside the same SELECTs and DELETEs by hand, in the same run."""
    from benchmarks import datasets as bench

    bench.main(server, rows, matches, memory)


@app.command("consent-http")
def bench_consent_http(
    database_url: Annotated[
        str | None,
        typer.Option(help="Server or file to measure on (a temporary database is used)."),
    ] = None,
    receipts: Annotated[
        int, typer.Option(min=100, help="Requests of each kind (bare, receipt).")
    ] = 20000,
    connections: Annotated[
        int, typer.Option(min=1, max=1000, help="Keep-alive connections of wrk.")
    ] = 32,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server worker processes.")] = 2,
) -> None:
    """Consent receipts over HTTP from `mamori serve` beside a bare endpoint: rates, p50/p99.

    Starts the real server with a temporary database, posts receipts with wrk, and checks that
    every receipt sent is stored and the chain verifies.
    """
    from benchmarks import consent_http as bench

    result = bench.main(database_url, receipts, connections, workers)
    if not result.ok:
        raise typer.Exit(1)


@app.command("disclosure")
def bench_disclosure(
    database_url: Annotated[
        str | None,
        typer.Option(help="Server or file to measure on (a temporary database is used)."),
    ] = None,
    events: Annotated[
        int, typer.Option(min=1, help="Usage events of the person for the timing.")
    ] = 10_000,
    max_events: Annotated[
        int, typer.Option(min=1, help="Events the memory runs grow to (x10 per step).")
    ] = 1_000_000,
    repeat: Annotated[int, typer.Option(min=1, help="Timed runs (the median is shown).")] = 5,
) -> None:
    """Build a disclosure package (50 items, N events) beside a plain SELECT; memory as N grows."""
    from benchmarks import disclosure as bench

    bench.main(database_url, events, max_events, repeat)


@app.command("provisions")
def bench_provisions(
    database_url: Annotated[
        str | None,
        typer.Option(help="Server or file to measure on (a temporary database is used)."),
    ] = None,
    people: Annotated[int, typer.Option(min=10, help="People the purpose may use.")] = 100_000,
) -> None:
    """Stream one item of everyone to a third party beside the vault's bulk read of it."""
    from benchmarks import provisions as bench

    bench.main(database_url, people)


@app.command("statistics")
def bench_statistics(
    database_url: Annotated[
        str | None,
        typer.Option(help="Server or file to measure on (a temporary database is used)."),
    ] = None,
    people: Annotated[int, typer.Option(min=100, help="People counted.")] = 100_000,
) -> None:
    """A count grouped by prefecture (by group tokens, then decrypting every address), beside a
    plain GROUP BY."""
    from benchmarks import statistics as bench

    bench.main(database_url, people)


@app.command("exports")
def bench_exports(
    database_url: Annotated[
        str | None,
        typer.Option(help="Server or file to measure on (a temporary database is used)."),
    ] = None,
    people: Annotated[int, typer.Option(min=1000, help="People at the larger size.")] = 100_000,
) -> None:
    """Peak memory of a pseudonymised export (CSV, Parquet) at N/10 and N people, beside a
    Parquet file built with every row in memory."""
    from benchmarks import exports as bench

    bench.main(database_url, people)


@app.command("soak")
def bench_soak(
    database_url: Annotated[
        str,
        typer.Option(help="Server or file to run on (a temporary database is used)."),
    ] = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    minutes: Annotated[float, typer.Option(min=0.1, max=120, help="How long to run.")] = 10.0,
    servers: Annotated[int, typer.Option(min=1, max=8, help="`mamori serve` processes.")] = 2,
    clients: Annotated[int, typer.Option(min=1, max=64, help="Client threads.")] = 8,
    people: Annotated[int, typer.Option(min=10, help="People stored before the run.")] = 500,
    broker: Annotated[
        str,
        typer.Option(help="Celery broker for the worker; 'none' runs the jobs in the servers."),
    ] = "redis://127.0.0.1:6379/0",
) -> None:
    """Mixed traffic over several servers and a worker: rates, errors, memory, audit verified."""
    from benchmarks import soak as bench

    bench.main(
        database_url,
        minutes,
        servers,
        clients,
        people,
        None if broker == "none" else broker,
    )


@app.command("observability")
def bench_observability(
    count: Annotated[int, typer.Option("-n", "--count", min=100, help="Requests a round.")] = 20000,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds; the best of each is shown.")] = 5,
) -> None:
    """CPU per request of /metrics counting and the JSON access line, beside the app without."""
    from benchmarks import observability as bench

    bench.main(count, rounds)
