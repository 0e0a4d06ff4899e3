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
    from mamori.consent.receipts import ReceiptLog
    from mamori.policy.model import Policy
    from mamori.runtime import Runtime
    from mamori.staff import StaffDirectory

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
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes, each with a listening socket of its own.")
    ] = 1,
) -> None:
    """Start the server: privacy pages, API, and everything else mamori serves."""
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
    from mamori.web.serve import run

    run(settings, bind_host, bind_port, workers)


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
    lang: Annotated[
        Lang, typer.Option("--lang", help="Language of the change explanation.")
    ] = Lang.ja,
) -> None:
    """Publish a policy file as a new version when it differs from the current one.

    Prints and records how the change is classified: cosmetic, notify (people get a notice)
    or consent_required (reads for the new uses wait for each person's consent).
    """
    from mamori.changes.publish import publish_policy, report
    from mamori.policy.loader import read_policy

    loaded = read_policy(path)
    runtime = _runtime(initialise=False)
    try:
        published = publish_policy(runtime.engine, loaded, actor=CLI_ACTOR)
    finally:
        runtime.close()
    result = published.result
    if not result.created:
        out.print(f"unchanged: version {result.version} already has this content")
        return
    out.print(f"published version {result.version}", markup=False)
    if published.diff is not None:
        for line in report(published.diff, lang.value):
            out.print(line, markup=False)


@policy_app.command("diff")
def policy_diff(
    old: Annotated[str, typer.Argument(help="Earlier policy: a file, or a published version.")],
    new: Annotated[str, typer.Argument(help="Later policy: a file, or a published version.")],
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the explanation.")] = Lang.ja,
) -> None:
    """Explain in words what changed between two policies, and classify the change.

    OLD and NEW are policy files or published version numbers (`3` or `v3`). The
    classification is cosmetic, notify or consent_required (see the how-to on policy changes).
    """
    from mamori.changes.publish import report
    from mamori.policy.diff import diff_policies

    before = _policy_of(old)
    after = _policy_of(new)
    for line in report(diff_policies(before, after), lang.value):
        out.print(line, markup=False)


def _policy_of(ref: str) -> Policy:
    import re

    from mamori.policy.loader import load_policy, parse_policy

    path = Path(ref)
    match = re.fullmatch(r"v?(\d+)", ref)
    if path.exists() or match is None:
        return load_policy(path)
    from mamori.store import policies

    runtime = _runtime()
    try:
        version = policies.get(runtime.engine, int(match.group(1)))
    finally:
        runtime.close()
    return parse_policy(version.source_yaml, f"policy version {version.version}")


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


# -- mail and the task queue -----------------------------------------------------------------

mail_app = typer.Typer(
    help="Outgoing mail: check templates, send a test, deliver the queue, opt-outs.",
    no_args_is_help=True,
)
app.add_typer(mail_app, name="mail")


@mail_app.command("check")
def mail_check() -> None:
    """Check the mail templates (both languages, first line, syntax) and the mail settings."""
    from mamori.mail.message import sender_address
    from mamori.mail.templates import MailTemplates

    settings = load_settings()
    templates = MailTemplates(settings.mail_templates_dir)
    problems = templates.check()
    for problem in problems:
        err.print(f"mamori: {problem}", markup=False)
    if problems:
        raise typer.Exit(2)
    sender_address(settings.mail_from)
    where = (
        f"SMTP {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_tls})"
        if settings.smtp_host
        else "the embedded outbox (MAMORI_SMTP_HOST is empty)"
    )
    out.print(
        f"{len(templates.names)} mail templates, each in ja and en: ok; mail goes to {where}",
        markup=False,
    )


@mail_app.command("test")
def mail_test(
    to: Annotated[str, typer.Argument(help="Address to send the test message to.")],
    lang: Annotated[Lang, typer.Option(help="Language of the message.")] = Lang.ja,
) -> None:
    """Queue the `test` template to an address and deliver it now (checks the SMTP settings)."""
    from mamori.errors import MailDeliveryFailed
    from mamori.store import db

    runtime = _runtime()
    try:
        with db.write(runtime.engine) as conn:
            mail_id = runtime.mail.queue(
                conn, to=to, template="test", language=lang.value, context={}
            )
        runtime.mail.deliver_pending()
        with db.read(runtime.engine) as conn:
            mail = runtime.mail.summary(conn, mail_id)
    finally:
        runtime.close()
    if mail.status == "outbox":
        out.print(f"{mail_id}: kept in the embedded outbox (MAMORI_SMTP_HOST is empty)")
    elif mail.status == "sent":
        out.print(f"{mail_id}: sent")
    else:
        raise MailDeliveryFailed(
            f"{mail_id}: not delivered ({mail.last_error or 'unknown error'}); it stays "
            f"{mail.status}: check the MAMORI_SMTP_* settings"
        )


@mail_app.command("deliver")
def mail_deliver() -> None:
    """Send every queued mail that is due now (the server and the worker also do this)."""
    runtime = _runtime()
    try:
        sent = runtime.mail.deliver_pending()
    finally:
        runtime.close()
    out.print(f"sent {sent} mails")


@mail_app.command("optout")
def mail_optout(
    address: Annotated[str, typer.Argument(help="Address that asked for no marketing mail.")],
    subject: Annotated[
        str | None, typer.Option(help="The person's subject ID, when known.")
    ] = None,
) -> None:
    """Record a mail opt-out a person asked for by phone or letter (seed §10(3))."""
    runtime = _runtime()
    try:
        added = runtime.mail.opt_out_address(address, actor=CLI_ACTOR, subject_id=subject)
    finally:
        runtime.close()
    out.print("opted out" if added else "already opted out")


@app.command()
def worker(
    beat: Annotated[
        bool, typer.Option(help="Also run Celery beat (the periodic jobs); on one worker only.")
    ] = True,
    concurrency: Annotated[int, typer.Option(min=1, help="Tasks run at once (threads).")] = 4,
) -> None:
    """Run a Celery worker (and beat) on MAMORI_TASK_BROKER_URL: mail delivery, periodic jobs."""
    from mamori.errors import ConfigError
    from mamori.tasks.celery_app import create_celery, worker_argv

    settings = load_settings()
    if not settings.task_broker_url:
        raise ConfigError(
            "MAMORI_TASK_BROKER_URL is empty: set it to redis://... or amqp://... "
            "(without a broker, `mamori serve` runs background work itself)"
        )
    celery = create_celery(settings)
    argv = worker_argv(settings, beat=beat, concurrency=concurrency, loglevel=settings.log_level)
    celery.worker_main(argv)


# -- staff accounts of the admin console ----------------------------------------------------

staff_app = typer.Typer(
    help="Staff accounts of the admin console (create, list, disable, reset password).",
    no_args_is_help=True,
)
app.add_typer(staff_app, name="staff")


class StaffRole(StrEnum):
    viewer = "viewer"
    handler = "handler"
    admin = "admin"


def _new_password(from_stdin: bool) -> str:
    """A new password from standard input (one line) or typed twice at a hidden prompt."""
    from mamori.staff import passwords

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    passwords.check_policy(password)  # before anything is stored or hashed
    return password


def _staff_directory(runtime: Runtime) -> StaffDirectory:
    from mamori.staff import StaffDirectory

    return StaffDirectory(runtime.engine, runtime.audit, runtime.vault.system_keys)


_PASSWORD_STDIN = typer.Option(
    "--password-stdin",
    help="Read the password from the first line of standard input instead of a prompt.",
)


@staff_app.command("create")
def staff_create(
    login: Annotated[str, typer.Argument(help="Login ID (2-100 of a-z 0-9 . _ @ -).")],
    role: Annotated[StaffRole, typer.Option(help="viewer, handler or admin.")],
    name: Annotated[str, typer.Option(help="Display name shown in the console.")],
    password_stdin: Annotated[bool, _PASSWORD_STDIN] = False,
) -> None:
    """Create a staff account; the password (12 characters or more) is typed twice, hidden."""
    password = _new_password(password_stdin)
    runtime = _runtime()
    try:
        account = _staff_directory(runtime).create(
            login, name, role.value, password, actor=CLI_ACTOR
        )
    finally:
        runtime.close()
    out.print(f"created staff account {account.id} ({account.role})", markup=False)


@staff_app.command("list")
def staff_list() -> None:
    """List staff accounts, oldest first, tab-separated, after a header line."""
    runtime = _runtime()
    try:
        accounts = _staff_directory(runtime).list()
    finally:
        runtime.close()
    lines = ["id\tlogin\tname\trole\tstate\tcreated\tlast_sign_in"]
    for a in accounts:
        last = f"{a.last_sign_in_at:%Y-%m-%dT%H:%M:%SZ}" if a.last_sign_in_at else "-"
        state = "active" if a.active else "disabled"
        lines.append(
            f"{a.id}\t{a.login}\t{a.display_name}\t{a.role}\t{state}\t"
            f"{a.created_at:%Y-%m-%dT%H:%M:%SZ}\t{last}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


@staff_app.command("disable")
def staff_disable(
    login: Annotated[str, typer.Argument(help="Login ID of the account.")],
) -> None:
    """Disable a staff account and end its sessions (the last active admin cannot be)."""
    runtime = _runtime()
    try:
        directory = _staff_directory(runtime)
        account = directory.disable(directory.find(login).id, actor=CLI_ACTOR)
    finally:
        runtime.close()
    out.print(f"disabled staff account {account.id}", markup=False)


@staff_app.command("reset-password")
def staff_reset_password(
    login: Annotated[str, typer.Argument(help="Login ID of the account.")],
    password_stdin: Annotated[bool, _PASSWORD_STDIN] = False,
) -> None:
    """Set a new password for a staff account, end its sessions and lift a lockout."""
    runtime = _runtime()
    try:
        directory = _staff_directory(runtime)
        staff_id = directory.find(login).id
        password = _new_password(password_stdin)
        account = directory.reset_password(staff_id, password, actor=CLI_ACTOR)
    finally:
        runtime.close()
    out.print(f"new password set for staff account {account.id}", markup=False)


# -- cookie consent ----------------------------------------------------------------------------

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
        sink = output.open("wb") if output is not None else sys.stdout.buffer
        try:
            for receipt in receipts:
                sink.write(orjson.dumps(receipt.to_json()) + b"\n")
                count += 1
        finally:
            if output is not None:
                sink.close()
            else:
                sink.flush()
    except OSError as exc:
        raise MamoriError(f"{output}: cannot write: {exc.strerror or exc}") from None
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


@bench_app.command("consent-http")
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
    from mamori.bench import consent_http as bench

    result = bench.main(database_url, receipts, connections, workers)
    if not result.ok:
        raise typer.Exit(1)


@bench_app.command("disclosure")
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
    from mamori.bench import disclosure as bench

    bench.main(database_url, events, max_events, repeat)


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except MamoriError as exc:
        if isinstance(exc, PolicyError):  # a policy file with mistakes: each, as `policy check`
            for problem in exc.problems:
                err.print(str(problem), markup=False)
        err.print(f"mamori: {exc.message}", markup=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("mamori: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
