"""`mamori datasets scan`: find the personal data in a database and draft its declaration."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mamori.cli.common import err, out
from mamori.cli.datasets import datasets_app
from mamori.errors import UserInputError


@datasets_app.command("scan")
def datasets_scan(
    url: Annotated[
        str,
        typer.Argument(
            help="The database (SQLAlchemy URL): postgresql+psycopg://user@host/db,"
            " mysql+pymysql://user@host/db (MariaDB, MySQL) or sqlite:///file.db."
        ),
    ],
    rows: Annotated[
        int,
        typer.Option(
            min=1, max=100_000, help="Rows sampled per table (the first N the database returns)."
        ),
    ] = 200,
    schema: Annotated[
        str | None, typer.Option(help="Schema to scan (PostgreSQL); the default one if unset.")
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(help="Policy whose items are proposed; MAMORI_POLICY (or the example)."),
    ] = None,
    dataset_id: Annotated[
        str, typer.Option("--id", help="The draft's dataset id (a-z, 0-9, _).")
    ] = "draft",
    connection: Annotated[
        str,
        typer.Option(help="Name of the setting that will hold the URL, written in the draft."),
    ] = "DATASET_URL",
    nlp: Annotated[
        bool,
        typer.Option(
            help="Recognise people's names with SudachiPy (the ja-nlp extra) when installed."
        ),
    ] = True,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the draft YAML here; after the summary on stdout if unset.",
        ),
    ] = None,
) -> None:
    """Sample every column, recognise personal data (e-mail, phone, postal code, address,
    name, date of birth, My Number, corporate and card numbers) and propose the policy's
    items as a draft dataset YAML with a confidence per column. Prints counts and kinds,
    never a sampled value."""
    from mamori.clock import SYSTEM, local_date
    from mamori.config import load_settings
    from mamori.datasets.discovery import scan
    from mamori.policy.loader import read_policy

    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", dataset_id):
        raise UserInputError("--id: a-z first, then a-z, 0-9 or _ (40 at most)")
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,99}", connection):
        raise UserInputError("--connection: a setting's name in capitals (SHOP_DATABASE_URL)")
    settings = load_settings()
    loaded = read_policy(policy or settings.effective_policy_path)
    result = scan(
        url,
        loaded.policy,
        today=local_date(SYSTEM.now(), settings.time_zone),
        rows=rows,
        schema=schema,
        dataset_id=dataset_id,
        connection=connection,
        use_nlp=nlp,
    )
    items = {p.finding.table + "." + p.finding.column: p.item for p in result.proposals}
    table = Table("table", "column", "kind", "values", "confidence", "check digit", "item")
    for finding in result.findings:
        if finding.kind is None and not finding.mentions:
            continue
        key = f"{finding.table}.{finding.column}"
        if finding.kind is None:
            said = ", ".join(f"{k} {n}" for k, n in finding.mentions.items())
            table.add_row(
                finding.table,
                finding.column,
                f"text mentioning {said}",
                str(finding.non_empty),
                "",
                "",
                "",
            )
            continue
        checks = ""
        if finding.check_digits is not None:
            checks = f"{finding.check_digits[0]} ok, {finding.check_digits[1]} bad"
        table.add_row(
            finding.table,
            finding.column,
            str(finding.kind),
            f"{finding.matched}/{finding.non_empty}",
            f"{finding.confidence:.2f} {finding.level}",
            checks,
            items.get(key) or "-",
        )
    found = sum(1 for f in result.findings if f.kind is not None)
    out.print(table)
    out.print(
        f"{result.tables} tables, {len(result.findings)} columns sampled, {found} hold"
        " personal data; person names: "
        + (result.names or "NLP off (column names only; pip install 'mamori[ja-nlp]')"),
        markup=False,
    )
    if output is None:
        out.print(result.draft, markup=False, end="")
    else:
        try:
            output.write_text(result.draft, encoding="utf-8")
        except OSError as exc:
            raise UserInputError(f"{output}: cannot write ({exc.strerror})") from None
        err.print(f"draft written to {output}", markup=False)
