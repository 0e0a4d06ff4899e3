"""`mamori statistics`: grouped counts of statistics-only purposes, pseudonymised exports and
their keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from mamori.cli.common import CLI_ACTOR, _runtime, app, out, output_sink

statistics_app = typer.Typer(
    help="Statistics that identify no one, and pseudonymised exports.", no_args_is_help=True
)
app.add_typer(statistics_app, name="statistics")
key_app = typer.Typer(help="The sealed key of a purpose's pseudonyms.", no_args_is_help=True)
statistics_app.add_typer(key_app, name="key")


@statistics_app.command("query")
def statistics_query(
    purpose: Annotated[str, typer.Argument(help="A statistics_only purpose of the policy.")],
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="A declared dimension to group by (at most twice)."),
    ] = None,
    measure: Annotated[
        str,
        typer.Option(
            help="people (who arrived in the period), events (usage events) or age (people"
            " holding a date of birth, with the mean of their ages)."
        ),
    ] = "people",
    since: Annotated[
        str | None, typer.Option(help="First day counted (YYYY-MM-DD, MAMORI_TIME_ZONE).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day counted (YYYY-MM-DD), included.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="The answer as the API's JSON.")] = False,
) -> None:
    """Count people or events of PURPOSE, grouped; cells of fewer than k people are shown as
    suppressed (audited as statistics.query)."""
    from mamori.statistics import queries
    from mamori.vault.access import Caller
    from mamori.web.api.statistics import answer_out

    runtime = _runtime()
    try:
        query = queries.parse(
            runtime.vault.rules(), purpose, measure=measure, by=by or (), since=since, until=until
        )
        answer = queries.run(runtime.vault, Caller(CLI_ACTOR), query)
    finally:
        runtime.close()
    shown = answer_out(answer)
    if json_:
        out.print(shown.model_dump_json(indent=2), markup=False)
        return
    out.print(
        f"query {shown.query}: k = {shown.min_cell}, {shown.suppressed} suppressed", markup=False
    )
    for entry in [*shown.cells, *shown.totals]:
        groups = ", ".join(f"{k}={v if v is not None else '?'}" for k, v in entry.groups.items())
        value = f"[{entry.suppressed}]" if entry.suppressed else str(entry.value)
        if entry.mean is not None:
            value += f" (mean {entry.mean})"
        out.print(f"{groups or 'total'}: {value}", markup=False)


@statistics_app.command("export")
def statistics_export(
    purpose: Annotated[
        str, typer.Argument(help="A purpose declaring pseudonymised: in the policy.")
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write; standard output if unset."),
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", help="csv or parquet (the parquet extra: pyarrow).")
    ] = "csv",
) -> None:
    """Write PURPOSE's pseudonymised export (仮名加工情報) as CSV or Parquet: kept items as they
    are, declared ones as keyed pseudonyms, the rest dropped; recorded and audited as
    statistics.export."""
    from mamori.statistics import exports
    from mamori.vault.access import Caller

    exports.check_format(format_)  # before the file is opened (and emptied)
    runtime = _runtime()
    try:
        with output_sink(output) as sink:
            record = exports.export(runtime.vault, Caller(CLI_ACTOR), purpose, sink, format=format_)
    finally:
        runtime.close()
    if output is not None:
        out.print(
            f"exported {record.rows} rows to {output} ({record.format}, {record.id})",
            markup=False,
        )


@statistics_app.command("exports")
def statistics_exports() -> None:
    """The record of every pseudonymised export, newest first (JSON Lines)."""
    from mamori.statistics import storage
    from mamori.store import db

    runtime = _runtime()
    try:
        with db.read(runtime.engine) as conn:
            rows = storage.export_rows(conn)
    finally:
        runtime.close()
    for row in rows:
        line = {**row.__dict__, "columns": orjson.loads(row.columns)}
        out.print(orjson.dumps(line, default=str).decode(), markup=False)


@key_app.command("replace")
def key_replace(purpose: Annotated[str, typer.Argument(help="A pseudonymised purpose.")]) -> None:
    """Destroy PURPOSE's pseudonym key and make a new one: pseudonyms change from the next
    export on (audited)."""
    from mamori.statistics import pseudonyms

    runtime = _runtime()
    try:
        generation = pseudonyms.replace(runtime.vault, purpose, CLI_ACTOR)
    finally:
        runtime.close()
    out.print(f"pseudonym key of '{purpose}' replaced: generation {generation}", markup=False)


@key_app.command("destroy")
def key_destroy(purpose: Annotated[str, typer.Argument(help="A pseudonymised purpose.")]) -> None:
    """Destroy PURPOSE's pseudonym key: no export can be linked to a person any more (audited)."""
    from mamori.statistics import pseudonyms

    runtime = _runtime()
    try:
        destroyed = pseudonyms.destroy(runtime.vault, purpose, CLI_ACTOR)
    finally:
        runtime.close()
    out.print(f"pseudonym key of '{purpose}' destroyed ({destroyed} live)", markup=False)
