"""`mamori consent`: cookie-consent receipts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mamori.app import Runtime
    from mamori.consent.receipts import ReceiptLog

from mamori.cli.common import CLI_ACTOR, _runtime, app, out, output_sink

consent_app = typer.Typer(help="Cookie-consent receipts: export and verify.", no_args_is_help=True)
app.add_typer(consent_app, name="consent")


def _receipt_log(runtime: Runtime) -> ReceiptLog:
    from mamori.consent.receipts import ReceiptLog

    return ReceiptLog(runtime.engine, runtime.audit, days=runtime.settings.consent_days)


@consent_app.command("export")
def consent_export(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="File to write (JSON Lines); standard output if unset."
        ),
    ] = None,
    after: Annotated[
        int, typer.Option(min=0, help="Only receipts with a sequence number above this.")
    ] = 0,
) -> None:
    """Every consent receipt as JSON Lines, oldest first (the export is audited)."""
    import orjson

    runtime = _runtime()
    count = 0
    try:
        receipts = _receipt_log(runtime).export(actor=CLI_ACTOR, after=after)
        with output_sink(output) as sink:
            for receipt in receipts:
                sink.write(orjson.dumps(receipt.to_json()) + b"\n")
                count += 1
    finally:
        runtime.close()
    if output is not None:
        out.print(f"exported {count} consent receipts to {output}", markup=False)


@consent_app.command("verify")
def consent_verify() -> None:
    """Recompute the receipts' hash chain and check it against the audit log and kept texts."""
    runtime = _runtime()
    try:
        verified = _receipt_log(runtime).verify()
    finally:
        runtime.close()
    out.print(
        f"consent receipts intact: {verified.receipts} receipts, {verified.anchors} audit "
        f"anchors, {verified.texts} banner texts",
        markup=False,
    )
