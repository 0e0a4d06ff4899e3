"""The `mamori` command: thin, it parses, calls the library and maps errors to exit codes.

A user's mistake (bad YAML, unknown id, missing file, unreachable database, wrong URL) prints
one line on standard error and exits non-zero; it never prints a traceback.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from mamori import __version__
from mamori.config import Settings, load_settings
from mamori.errors import AuditError, MamoriError, PolicyError

if TYPE_CHECKING:
    from mamori.runtime import Runtime

__all__ = ["app", "main"]

app = typer.Typer(
    name="mamori",
    help="mamori: the privacy policy that enforces itself.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
policy_app = typer.Typer(
    help="Check, render, publish and list policy declarations.", no_args_is_help=True
)
audit_app = typer.Typer(
    help="Verify, read and prove the tamper-evident audit log.", no_args_is_help=True
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
bench_app = typer.Typer(
    help="Benchmarks that print their figures beside a baseline.", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

CLI_ACTOR = "cli"


class Lang(StrEnum):
    ja = "ja"
    en = "en"


class Format(StrEnum):
    html = "html"
    md = "md"


def _runtime(*, initialise: bool = False) -> Runtime:
    from mamori.runtime import open_runtime

    return open_runtime(load_settings(), initialise=initialise, actor=CLI_ACTOR)


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
    from mamori.keyring import create_key_file
    from mamori.runtime import open_runtime

    settings = load_settings()
    if not settings.master_key and not settings.effective_master_key_file.exists():
        create_key_file(settings.effective_master_key_file)
        out.print(f"created master-key file {settings.effective_master_key_file} (mode 600)")
    runtime = open_runtime(settings, initialise=True, actor=CLI_ACTOR)
    try:
        from mamori.store import policies

        current = policies.current(runtime.engine)
        out.print(f"database ready: {_safe_url(settings)}")
        if current is not None:
            out.print(f"published policy: version {current.version} ({current.policy_id})")
    finally:
        runtime.close()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [MAMORI_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [MAMORI_PORT].")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Start the server: privacy pages, API, and everything else mamori serves."""
    import uvicorn

    from mamori.runtime import open_runtime

    settings = load_settings()
    runtime = open_runtime(settings, initialise=True, actor="system:serve")
    current = None
    try:
        from mamori.store import policies

        current = policies.current(runtime.engine)
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
    if workers == 1:
        from mamori.web.app import create_app

        uvicorn.run(
            create_app(settings),
            host=bind_host,
            port=bind_port,
            log_level=settings.log_level,
            proxy_headers=True,
        )
    else:
        uvicorn.run(
            "mamori.web.app:create_app_from_env",
            factory=True,
            host=bind_host,
            port=bind_port,
            workers=workers,
            log_level=settings.log_level,
        )


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


# -- policy ----------------------------------------------------------------------------------


@policy_app.command("check")
def policy_check(
    paths: Annotated[list[Path], typer.Argument(help="Policy files to check.")],
) -> None:
    """Validate policy files; print every problem with its file, line and path."""
    from mamori.policy.loader import read_policy

    failed = 0
    for path in paths:
        try:
            loaded = read_policy(path)
        except PolicyError as exc:
            failed += 1
            for problem in exc.problems:
                out.print(str(problem))
            err.print(f"{path}: {exc.message}")
        else:
            policy = loaded.policy
            out.print(
                f"{path}: OK ({len(policy.items)} items, {len(policy.purposes)} purposes, "
                f"{len(policy.cookies.services)} cookie services, "
                f"content hash {loaded.content_hash[:16]})"
            )
    if failed:
        raise typer.Exit(2)


@policy_app.command("render")
def policy_render(
    path: Annotated[Path, typer.Argument(help="Policy file to render.")],
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the text.")] = Lang.ja,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.html,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Render the policy as people read it (a full HTML page or Markdown)."""
    from mamori.policy.loader import load_policy
    from mamori.policy.render import render_policy, render_policy_page

    policy = load_policy(path)
    if fmt is Format.html:
        text = render_policy_page(policy, lang=lang.value)
    else:
        text = render_policy(policy, lang=lang.value, fmt="md")
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


@policy_app.command("publish")
def policy_publish(
    path: Annotated[Path, typer.Argument(help="Policy file to publish.")],
) -> None:
    """Publish a policy file as a new version when it differs from the current one."""
    from mamori.runtime import publish_policy_file

    runtime = _runtime(initialise=False)
    try:
        result = publish_policy_file(runtime, path, actor=CLI_ACTOR)
    finally:
        runtime.close()
    if result.created:
        out.print(f"published version {result.version}")
    else:
        out.print(f"unchanged: version {result.version} already has this content")


@policy_app.command("versions")
def policy_versions() -> None:
    """List published policy versions, oldest first."""
    from mamori.store import policies

    runtime = _runtime()
    try:
        versions = policies.versions(runtime.engine)
    finally:
        runtime.close()
    table = Table("version", "policy", "effective", "published (UTC)", "content hash")
    for v in versions:
        table.add_row(
            str(v.version),
            v.policy_id,
            v.effective_date.isoformat(),
            v.published_at.strftime("%Y-%m-%d %H:%M:%S"),
            v.content_hash[:16],
        )
    out.print(table)


# -- audit -----------------------------------------------------------------------------------


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


# -- db and bench ----------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    runtime = _runtime(initialise=False)
    runtime.close()
    out.print(f"database at the latest migration: {_safe_url(runtime.settings)}")


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


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except MamoriError as exc:
        err.print(f"mamori: {exc.message}", markup=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("mamori: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
