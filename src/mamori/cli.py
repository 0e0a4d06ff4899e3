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
keys_app = typer.Typer(
    help="API keys of service accounts (create, list, revoke) and master keys.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")

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


# -- keys: service accounts ------------------------------------------------------------------


class KeyOperation(StrEnum):
    read = "read"
    write = "write"
    delete = "delete"


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="What the key is for (1-100 characters).")],
    purposes: Annotated[
        list[str],
        typer.Option(
            "--purpose", "-p", help="A purpose of the published policy the key may use; repeat."
        ),
    ],
    operations: Annotated[
        list[KeyOperation] | None,
        typer.Option("--operation", "-o", help="What the key may do; repeat. Default: read."),
    ] = None,
) -> None:
    """Create an API key and print it, and nothing else, on standard output (shown only once)."""
    from mamori.vault import service_keys

    runtime = _runtime()
    try:
        account, token = service_keys.create(
            runtime.engine,
            runtime.audit,
            name=name,
            purposes=purposes,
            operations=[op.value for op in operations] if operations else ["read"],
            actor=CLI_ACTOR,
        )
    finally:
        runtime.close()
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    err.print(
        f"created key {account.id} (purposes: {', '.join(sorted(account.purposes))}; "
        f"operations: {', '.join(op for op in service_keys.OPERATIONS if op in account.operations)}"
        "); store it now, it is not shown again",
        markup=False,
    )


@keys_app.command("list")
def keys_list() -> None:
    """List API keys, oldest first, one per line, tab-separated; never their secrets."""
    from mamori.vault import service_keys

    runtime = _runtime()
    try:
        accounts = service_keys.list_keys(runtime.engine)
    finally:
        runtime.close()
    lines = ["id\tname\tpurposes\toperations\tcreated\trevoked"]
    for a in accounts:
        operations = [op for op in service_keys.OPERATIONS if op in a.operations]
        revoked = f"{a.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if a.revoked_at else "-"
        lines.append(
            f"{a.id}\t{a.name}\t{','.join(sorted(a.purposes))}\t{','.join(operations)}\t"
            f"{a.created_at:%Y-%m-%dT%H:%M:%SZ}\t{revoked}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (mk_...), as `keys list` shows.")],
) -> None:
    """Revoke an API key: it stops working at once (within a second in running servers)."""
    from mamori.vault import service_keys

    runtime = _runtime()
    try:
        account = service_keys.revoke(runtime.engine, runtime.audit, key_id, actor=CLI_ACTOR)
    finally:
        runtime.close()
    out.print(f"revoked key {account.id}", markup=False)


# -- keys: master keys (rotation) -----------------------------------------------------------


@keys_app.command("rotate")
def keys_rotate(
    batch: Annotated[
        int, typer.Option(min=1, max=10_000, help="Keys rewrapped per database transaction.")
    ] = 500,
    rewrap_only: Annotated[
        bool,
        typer.Option(
            "--rewrap-only",
            help=(
                "Add no version: rewrap what older versions wrap under the current one (after "
                "adding a version to MAMORI_MASTER_KEY, or to finish a stopped run)."
            ),
        ),
    ] = False,
) -> None:
    """Add a master-key version to the key file and rewrap every data key and system key under it.

    Rewrapping runs in short transactions while mamori keeps serving; reads keep working because
    the older versions stay in the key file until `mamori keys retire VERSION`. Stopped (Ctrl-C)
    or interrupted, it resumes where it stopped when run again with --rewrap-only.
    """
    from rich.progress import Progress

    from mamori.errors import ConfigError
    from mamori.keyring import parse_keys
    from mamori.vault import rotation

    settings = load_settings()
    if settings.master_key and not rewrap_only:
        following = parse_keys(settings.master_key, "MAMORI_MASTER_KEY").current_version + 1
        raise ConfigError(
            "MAMORI_MASTER_KEY holds the master keys, so mamori cannot add one: append "
            f"`,{following}:BASE64` (32 random bytes, e.g. `openssl rand -base64 32`) to it, "
            "restart mamori, then run `mamori keys rotate --rewrap-only`"
        )
    runtime = _runtime()
    try:
        keys = runtime.keys
        if not rewrap_only:
            path = settings.effective_master_key_file
            keys = rotation.add_version(runtime.engine, path, runtime.audit, actor=CLI_ACTOR)
            err.print(f"added master key version {keys.current_version} to {path}", markup=False)
        job = rotation.RotationJob(
            runtime.engine, keys, runtime.audit, batch=batch, actor=CLI_ACTOR
        )
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task(f"rewrapping under version {keys.current_version}", total=None)
            try:
                while (report := job.wait(0.2)) is None:
                    done = job.progress
                    bar.update(task, completed=done.done, total=done.total or None)
            except KeyboardInterrupt:
                job.cancel()
                job.wait()
                raise
    finally:
        runtime.close()
    skipped = f", {report.skipped} changed meanwhile and left alone" if report.skipped else ""
    out.print(
        f"master key version {report.master_version}: rewrapped {report.subjects} subject keys "
        f"and {report.system_keys} system keys in {report.batches} batches "
        f"({report.seconds:.1f} s){skipped}",
        markup=False,
    )
    err.print(
        "older versions stay until `mamori keys retire VERSION`; retire them once the database "
        "backups made before today have expired",
        markup=False,
    )


@keys_app.command("retire")
def keys_retire(
    version: Annotated[int, typer.Argument(min=1, help="The old master-key version to remove.")],
) -> None:
    """Remove an old master-key version from the key file, once nothing is wrapped by it.

    Refused, with the count, while any subject's data key or system key is still wrapped by the
    version. Afterwards database backups from before the rotation can no longer be decrypted
    with the key file: that is the point, once their retention has passed.
    """
    from mamori.errors import MasterKeyInUse, NotFound
    from mamori.vault import rotation

    runtime = _runtime()
    try:
        if runtime.settings.master_key:  # keys from the environment: check, and say what to do
            from mamori.keyring import parse_keys

            keys = parse_keys(runtime.settings.master_key, "MAMORI_MASTER_KEY")
            if version not in keys.keys:
                raise NotFound(f"MAMORI_MASTER_KEY: master key version {version} is not in it")
            if version == keys.current_version:
                raise MasterKeyInUse(
                    f"master key version {version} is the current one; "
                    "run `mamori keys rotate` before retiring it"
                )
            count = rotation.wrapped_by(runtime.engine, version)
            if count.total:
                raise rotation.in_use_error(version, count)
            out.print(
                f"nothing is wrapped by master key version {version}: remove it from "
                "MAMORI_MASTER_KEY and restart mamori",
                markup=False,
            )
            return
        left = rotation.retire(
            runtime.engine,
            runtime.settings.effective_master_key_file,
            version,
            runtime.audit,
            actor=CLI_ACTOR,
        )
    finally:
        runtime.close()
    versions = ", ".join(str(v) for v in sorted(left.keys))
    out.print(f"retired master key version {version}; versions left: {versions}", markup=False)


# -- db and bench ----------------------------------------------------------------------------


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
