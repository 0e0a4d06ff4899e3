"""`mamori staff`: staff accounts of the admin console."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mamori.app import Runtime
    from mamori.staff import StaffDirectory

from mamori.cli.common import CLI_ACTOR, _runtime, app, out

staff_app = typer.Typer(
    help=(
        "Staff accounts of the admin console (create, list, disable, reset password, "
        "reset the authenticator)."
    ),
    no_args_is_help=True,
)
app.add_typer(staff_app, name="staff")


class StaffRole(StrEnum):
    """The roles of :mod:`mamori.staff.permissions`, as the CLI offers them."""

    manager = "manager"
    lead = "lead"
    handler = "handler"
    auditor = "auditor"
    viewer = "viewer"


_ROLE_HELP = (
    "manager (個人情報保護管理者: everything, staff), lead (個人情報取扱責任者: decides), handler"
    " (works requests), auditor (reads the audit log and registers) or viewer."
)


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

    return StaffDirectory(
        runtime.engine, runtime.audit, runtime.vault.system_keys, clock=runtime.clock
    )


_PASSWORD_STDIN = typer.Option(
    "--password-stdin",
    help="Read the password from the first line of standard input instead of a prompt.",
)


@staff_app.command("create")
def staff_create(
    login: Annotated[str, typer.Argument(help="Login ID (2-100 of a-z 0-9 . _ @ -).")],
    role: Annotated[StaffRole, typer.Option(help=_ROLE_HELP)],
    name: Annotated[str, typer.Option(help="Display name shown in the console.")],
    password_stdin: Annotated[bool, _PASSWORD_STDIN] = False,
    email: Annotated[
        str | None,
        typer.Option(help="E-mail where reminders go (the deadlines of incidents); optional."),
    ] = None,
) -> None:
    """Create a staff account; the password (12 characters or more) is typed twice, hidden."""
    password = _new_password(password_stdin)
    runtime = _runtime()
    try:
        account = _staff_directory(runtime).create(
            login, name, role.value, password, actor=CLI_ACTOR, email=email
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


@staff_app.command("reset-totp")
def staff_reset_totp(
    login: Annotated[str, typer.Argument(help="Login ID of the account.")],
) -> None:
    """Remove a staff member's authenticator and recovery codes (a lost phone) and end their
    sessions: their next sign-in sets up a new authenticator."""
    from mamori.staff import SecondFactors

    runtime = _runtime()
    try:
        directory = _staff_directory(runtime)
        staff_id = directory.find(login).id
        ended = SecondFactors(directory).reset(staff_id, actor=CLI_ACTOR)
    finally:
        runtime.close()
    out.print(
        f"authenticator reset for staff account {staff_id} ({ended} sessions ended)",
        markup=False,
    )
