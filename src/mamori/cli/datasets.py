"""`mamori datasets`: the operator's connected databases: check the declarations, show and
run a request's erasure there."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mamori.cli.common import CLI_ACTOR, _runtime, app, err
from mamori.errors import UserInputError

if TYPE_CHECKING:
    from mamori.app import Runtime


def _lines(lines: Iterable[str]) -> None:
    """Tab-separated lines on standard output, as written (no console layout)."""
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()


datasets_app = typer.Typer(
    help="Connected databases (datasets/*.yaml beside the policy): check, erase-plan, erase.",
    no_args_is_help=True,
)
app.add_typer(datasets_app, name="datasets")


@datasets_app.command("check")
def datasets_check(
    folder: Annotated[
        Path | None,
        typer.Option(help="The folder of dataset files. Default: datasets/ beside the policy."),
    ] = None,
) -> None:
    """Check every dataset against the policy and its database: unknown items, missing
    tables or columns, unreachable tables, erasures that would break a constraint. Prints
    one problem per line (file:line: path: message); exits 1 when there is any."""
    from mamori.datasets import sources
    from mamori.datasets.checks import check

    runtime = _runtime()
    try:
        where = folder or sources.folder(runtime.settings)
        problems = check(runtime, folder)
        files = sorted(where.glob("*.yaml")) if where.is_dir() else []
    finally:
        runtime.close()
    _lines(str(p) for p in problems)
    if problems:
        err.print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}", markup=False)
        raise typer.Exit(1)
    if not files:
        err.print(f"datasets: none declared (no dataset files in {where})", markup=False)
        return
    err.print(f"datasets: {len(files)} file(s) in {where}, no problems", markup=False)


_ITEMS_HELP = (
    "Only the columns holding these data items (comma-separated), as a granted erasure of "
    "chosen items does; without it, the whole erasure (withdrawal)."
)


def _items(runtime: Runtime, given: str) -> list[str]:
    chosen = [i.strip() for i in given.split(",") if i.strip()]
    known = set(runtime.vault.rules().items)
    unknown = [i for i in chosen if i not in known]
    if unknown:
        raise UserInputError(f"--items: unknown data item '{unknown[0]}'")
    return chosen


@datasets_app.command("erase-plan")
def datasets_erase_plan(
    request: Annotated[str, typer.Argument(help="The erasure request's id.")],
    save: Annotated[
        bool,
        typer.Option("--record", help="Record the plan on the request (nothing changes yet)."),
    ] = False,
    items: Annotated[str, typer.Option("--items", help=_ITEMS_HELP)] = "",
) -> None:
    """Show, as a dry run, what erasing the request's person from the connected databases
    would do: each step (dataset, table, action, rows) in the order it would run. Nothing is
    changed; with --record the plan is recorded on the request for `datasets erase`."""
    from mamori.datasets import erasure

    runtime = _runtime()
    try:
        plan = erasure.compute(runtime, request, _items(runtime, items))
        if save:
            erasure.record(runtime, plan, actor=CLI_ACTOR)
    finally:
        runtime.close()
    _lines(["step\tdataset\ttable\taction\tcolumns\trows"])
    for step in plan.steps:
        columns = ",".join(f"{c}={v['erase']}" for c, v in step.columns.items()) or "-"
        _lines(
            [
                f"{step.seq}\t{step.dataset}\t{step.table}\t{step.action}\t{columns}\t{step.row_count}"
            ]
        )
    for kept in plan.kept:
        _lines(
            [f"-\t{kept.dataset}\t{kept.table}\tkeep\t{kept.column}\t{kept.rows}\t{kept.reason}"]
        )
    done = "recorded" if save else "dry run, nothing changed"
    err.print(f"{len(plan.steps)} steps, {plan.rows} rows ({done})", markup=False)
    if save and not items:
        # A request has one recorded plan, and its decision runs that plan.
        err.print(
            "note: the whole erasure (withdrawal) is recorded; a decision that erases only"
            " chosen items will run this plan too: record with --items for such a request",
            markup=False,
        )


@datasets_app.command("erase")
def datasets_erase(
    request: Annotated[str, typer.Argument(help="The erasure request's id.")],
    items: Annotated[str, typer.Option("--items", help=_ITEMS_HELP)] = "",
) -> None:
    """Erase the request's person from the connected databases: the plan is recorded first
    (unless it is already), run step by step with checkpoints (run again to resume after a
    crash or a failed step), then verified by re-querying every planned row."""
    from mamori.datasets import erasure

    runtime = _runtime()
    try:
        found, _ = erasure.status(runtime, request)
        if found is None:
            plan = erasure.compute(runtime, request, _items(runtime, items))
            erasure.record(runtime, plan, actor=CLI_ACTOR)
        done = erasure.run(runtime, request, actor=CLI_ACTOR)
    finally:
        runtime.close()
    _lines([f"{done.state}\t{done.steps} steps\t{done.row_count} rows\t0 left"])


@datasets_app.command("status")
def datasets_status(
    request: Annotated[str, typer.Argument(help="The erasure request's id.")],
) -> None:
    """Show the recorded erasure of a request: its state (planned, running, failed with its
    reason, verified) and each step with its checkpoint."""
    from mamori.datasets import erasure

    runtime = _runtime()
    try:
        found, steps = erasure.status(runtime, request)
    finally:
        runtime.close()
    if found is None:
        err.print(f"no erasure recorded for request {request}", markup=False)
        raise typer.Exit(1)
    _lines([f"{found.state}\t{found.steps} steps\t{found.row_count} rows"])
    if found.reason:
        _lines([f"reason\t{found.reason}"])
    for step in steps:
        done = step.done_at.isoformat() if step.done_at else "pending"
        _lines(
            [f"{step.seq}\t{step.dataset}\t{step.table}\t{step.action}\t{step.row_count}\t{done}"]
        )
