"""`mamori provisions`: the provision ledger (records of provision, APPI 29, and of data
received, APPI 30)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mamori.cli.common import CLI_ACTOR, _runtime, app, out, output_sink
from mamori.errors import UserInputError

provisions_app = typer.Typer(
    help="The provision ledger: records of data provided and received.", no_args_is_help=True
)
app.add_typer(provisions_app, name="provisions")


@provisions_app.command("export")
def provisions_export(
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="csv (a header line, then a line per record) or json (JSON Lines: one object"
            " per record, codes and ids, times in UTC).",
        ),
    ] = "csv",
    recipient: Annotated[
        str | None, typer.Option(help="Only provisions to this recipient (its policy id).")
    ] = None,
    subject: Annotated[
        str | None, typer.Option(help="Only records about this person's ID.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="From this day (YYYY-MM-DD, in MAMORI_TIME_ZONE), included."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="To this day (YYYY-MM-DD, in MAMORI_TIME_ZONE), included.")
    ] = None,
    basis: Annotated[
        str | None, typer.Option(help="Only provisions on this basis (consent, entrustment, ...).")
    ] = None,
    receipts: Annotated[
        bool,
        typer.Option(
            "--receipts", help="The records of data received (APPI 30) instead of provisions."
        ),
    ] = False,
    lang: Annotated[
        str, typer.Option(help="Language of the CSV header and words: en or ja.")
    ] = "en",
    bom: Annotated[
        bool, typer.Option("--bom", help="Start the CSV with a UTF-8 byte order mark (Excel).")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write; standard output if unset."),
    ] = None,
) -> None:
    """Every record matching the options, newest first, as CSV or JSON Lines (audited as
    provision.ledger_export, with the number of records)."""
    from mamori.provisions import export, ledger

    if format_ not in export.FORMATS:
        raise UserInputError(f"--format: use {' or '.join(export.FORMATS)}")
    if lang not in ("en", "ja"):
        raise UserInputError("--lang: use en or ja")
    runtime = _runtime()
    try:
        filter_ = ledger.parse_filter(
            runtime.vault,
            zone=runtime.settings.time_zone,
            recipient=recipient,
            subject=subject,
            since=since,
            until=until,
            basis=basis,
            receipts=receipts,
        )
        with output_sink(output) as sink:
            begun = ledger.export(runtime.vault, filter_, actor=CLI_ACTOR, format=format_)
            chunks = (
                export.json_chunks(begun.rows)
                if format_ == "json"
                else export.csv_chunks(
                    begun.rows,
                    receipts=filter_.receipts,
                    rules=runtime.vault.rules(),
                    lang="ja" if lang == "ja" else "en",
                    zone=runtime.settings.time_zone,
                    bom=bom,
                )
            )
            for chunk in chunks:
                sink.write(chunk)
    finally:
        runtime.close()
    if output is not None:
        out.print(f"exported {begun.count} records to {output}", markup=False)
