"""`mamori audit`: verify, read, checkpoint and prove the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mamori.errors import AuditError

if TYPE_CHECKING:
    pass

from mamori.cli.common import _runtime, app, out

audit_app = typer.Typer(
    help="Verify, read and prove the tamper-evident audit log.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the whole hash chain and every checkpoint; name the first entry that differs."""
    runtime = _runtime()
    try:
        report = runtime.audit.verify()
    finally:
        runtime.close()
    if not report.ok:
        raise AuditError(f"audit log NOT intact: {report.summary}")
    out.print(f"audit log intact: {report.summary}")


@audit_app.command("tail")
def audit_tail(
    count: Annotated[int, typer.Option("-n", "--count", min=1, help="Entries to show.")] = 20,
) -> None:
    """Show the latest audit entries."""
    runtime = _runtime()
    try:
        entries = runtime.audit.tail(count)
    finally:
        runtime.close()
    for e in entries:
        details = " ".join(f"{k}={v}" for k, v in sorted(e.details.items()))
        out.print(
            f"{e.seq}\t{e.ts_text}\t{e.actor}\t{e.action}\t{','.join(e.targets)}\t{details}",
            markup=False,
        )


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Store a Merkle checkpoint of the whole log and print its root (anchor it elsewhere)."""
    runtime = _runtime()
    try:
        checkpoint = runtime.audit.checkpoint()
    finally:
        runtime.close()
    out.print(f"tree size {checkpoint.tree_size} root {checkpoint.root_hash_hex}")


@audit_app.command("prove")
def audit_prove(
    seq: Annotated[int, typer.Argument(min=1, help="Entry to prove.")],
) -> None:
    """Print the inclusion proof of one entry in the latest checkpoint."""
    runtime = _runtime()
    try:
        proof = runtime.audit.prove(seq)
    finally:
        runtime.close()
    out.print(proof.to_json())
