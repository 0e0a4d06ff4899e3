"""`mamori keys`: API keys of service accounts, and master keys."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from mamori.config import load_settings

if TYPE_CHECKING:
    pass

from mamori.cli.common import CLI_ACTOR, _runtime, app, err, out

keys_app = typer.Typer(
    help="API keys of service accounts (create, list, revoke) and master keys.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


class KeyOperation(StrEnum):
    read = "read"
    write = "write"
    delete = "delete"
    provide = "provide"


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="What the key is for (1-100 characters).")],
    purposes: Annotated[
        list[str] | None,
        typer.Option(
            "--purpose",
            "-p",
            help=(
                "A purpose of the published policy the key may use; repeat. At least one, "
                "unless --contractor is given (then: every purpose entrusted to it)."
            ),
        ),
    ] = None,
    operations: Annotated[
        list[KeyOperation] | None,
        typer.Option("--operation", "-o", help="What the key may do; repeat. Default: read."),
    ] = None,
    contractor: Annotated[
        str | None,
        typer.Option(
            "--contractor",
            metavar="RECIPIENT_ID",
            help=(
                "Make the key a contractor's: a recipient of the published policy with the "
                "relationship contractor. It only reads the vault, for the items and purposes "
                "the policy entrusts to it, and nothing while its entrustment is suspended."
            ),
        ),
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
            purposes=purposes or [],
            operations=[op.value for op in operations] if operations else ["read"],
            actor=CLI_ACTOR,
            contractor=contractor,
        )
    finally:
        runtime.close()
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    scoped = f"; contractor: {account.contractor_id}" if account.contractor_id else ""
    err.print(
        f"created key {account.id} (purposes: {', '.join(sorted(account.purposes))}; "
        f"operations: {', '.join(op for op in service_keys.OPERATIONS if op in account.operations)}"
        f"{scoped}); store it now, it is not shown again",
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
    lines = ["id\tname\tpurposes\toperations\tcreated\trevoked\tcontractor"]
    for a in accounts:
        operations = [op for op in service_keys.OPERATIONS if op in a.operations]
        revoked = f"{a.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if a.revoked_at else "-"
        lines.append(
            f"{a.id}\t{a.name}\t{','.join(sorted(a.purposes))}\t{','.join(operations)}\t"
            f"{a.created_at:%Y-%m-%dT%H:%M:%SZ}\t{revoked}\t{a.contractor_id or '-'}"
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
        account = service_keys.revoke(
            runtime.engine, runtime.audit, key_id, actor=CLI_ACTOR, clock=runtime.clock
        )
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
    if settings.master_key_command and not rewrap_only:
        raise ConfigError(
            "MAMORI_MASTER_KEY_COMMAND prints the master keys, so mamori cannot add one: add "
            "the next version in the secret manager (32 random bytes, e.g. `openssl rand "
            "-base64 32`), restart mamori, then run `mamori keys rotate --rewrap-only`"
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
    from mamori.vault import rotation, shred_log

    runtime = _runtime()
    try:
        # The shred log's lines sealed by the old version are sealed again under the current one
        # first, so that `mamori restore` can still verify them without the old version.
        resealed = shred_log.reseal(runtime.settings.effective_shred_log, runtime.keys)
        if resealed:
            err.print(f"shred log: {resealed} lines sealed under the current version", markup=False)
        source = (
            "MAMORI_MASTER_KEY"
            if runtime.settings.master_key
            else "MAMORI_MASTER_KEY_COMMAND"
            if runtime.settings.master_key_command
            else None
        )
        if source is not None:  # keys from the environment or a command: check, say what to do
            from mamori.app import fixed_master_keys

            keys = fixed_master_keys(runtime.settings)
            assert keys is not None
            if version not in keys.keys:
                raise NotFound(f"{source}: master key version {version} is not in it")
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
                f"{'the secret manager' if source.endswith('COMMAND') else source} "
                "and restart mamori",
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
