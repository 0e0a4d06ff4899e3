"""Staff accounts: create, list, find, disable, enable, change role, reset password.

Roles and what each may do: :mod:`mamori.staff.permissions` (manager, lead, handler, auditor,
viewer). There is always at least one active manager once one exists: disabling or demoting
the last one is refused (:class:`~mamori.errors.StaffConflict`).

Every change is one transaction with its audit entry (actor: ``cli`` or ``staff:<id>``; target
``staff:<id>``; details: codes only). Disabling an account or resetting its password ends its
sessions. Accounts are never deleted: their ids stay meaningful in the audit log.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher

from mamori.audit.log import AuditLog
from mamori.clock import SYSTEM, Clock
from mamori.errors import StaffConflict, StaffNotFound
from mamori.staff import lockout, passwords, storage
from mamori.staff.identity import StaffKeys, normal_login, normal_name
from mamori.staff.permissions import Role, parse_role
from mamori.staff.storage import AccountRow
from mamori.store import db
from mamori.store.db import Connection, Engine
from mamori.vault.addresses import normal_address
from mamori.vault.system_keys import SystemKeys

__all__ = ["ROLES", "Role", "StaffAccount", "StaffDirectory", "parse_role"]

ROLES: Final[tuple[Role, ...]] = tuple(Role)


@dataclass(frozen=True)
class StaffAccount:
    id: str
    login: str
    display_name: str
    role: Role
    created_at: dt.datetime
    password_changed_at: dt.datetime
    last_sign_in_at: dt.datetime | None
    disabled_at: dt.datetime | None
    email: str | None = None
    """Where reminders to this member go (incidents' deadlines); None: none given."""

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def actor(self) -> str:
        """How audit entries name this account as the one acting."""
        return f"staff:{self.id}"


def _new_id() -> str:
    return "st_" + base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()[:10]


class StaffDirectory:
    """The staff accounts in ``engine``'s database."""

    def __init__(
        self,
        engine: Engine,
        audit: AuditLog,
        system_keys: SystemKeys,
        *,
        hasher: PasswordHasher | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.audit = audit
        self.keys = StaffKeys(system_keys)
        self.hasher = hasher

    # -- reading -------------------------------------------------------------------------------

    def account(self, row: AccountRow) -> StaffAccount:
        """The account a stored row describes (login and name decrypted)."""
        staff_id = row.id
        return StaffAccount(
            id=staff_id,
            login=self.keys.open(staff_id, "login", row.login_ct),
            display_name=self.keys.open(staff_id, "name", row.name_ct),
            role=parse_role(row.role),
            created_at=row.created_at,
            password_changed_at=row.password_changed_at,
            last_sign_in_at=row.last_sign_in_at,
            disabled_at=row.disabled_at,
            email=(
                self.keys.open(staff_id, "email", row.email_ct)
                if row.email_ct is not None
                else None
            ),
        )

    def list(self) -> list[StaffAccount]:
        """Every account, oldest first."""
        with db.read(self.engine) as conn:
            return [self.account(row) for row in storage.all_accounts(conn)]

    def count(self, conn: Connection) -> int:
        """Active accounts (inside the caller's transaction)."""
        return storage.count_active(conn)

    def get(self, staff_id: str) -> StaffAccount:
        with db.read(self.engine) as conn:
            return self.account(self._row(conn, staff_id))

    def find(self, login: str) -> StaffAccount:
        """The account with this login ID; :class:`StaffNotFound` when there is none."""
        login_hash = self.keys.login_hash(login)
        with db.read(self.engine) as conn:
            row = storage.account_by_login(conn, login_hash)
        if row is None:
            raise StaffNotFound("no staff account has that login ID; see `mamori staff list`")
        return self.account(row)

    def _row(self, conn: Connection, staff_id: str) -> AccountRow:
        row = storage.account_by_id(conn, staff_id)
        if row is None:
            raise StaffNotFound(f"no staff account '{staff_id}'")
        return row

    # -- changing ------------------------------------------------------------------------------

    def create(
        self,
        login: str,
        display_name: str,
        role: str,
        password: str,
        *,
        actor: str,
        email: str | None = None,
    ) -> StaffAccount:
        """A new active account (``email``: where reminders go, optional). Raises
        :class:`StaffConflict` when the login ID is taken, :class:`InvalidValue` for an e-mail
        that is not an address."""
        login = normal_login(login)
        address = normal_address(email, field="email") if email and email.strip() else None
        name = normal_name(display_name)
        checked_role = parse_role(role)
        password_hash = passwords.hash_password(password, using=self.hasher)
        staff_id = _new_id()
        now = self.clock.now()
        self.keys.warm()
        login_hash = self.keys.login_hash(login)
        login_ct = self.keys.seal(staff_id, "login", login)
        name_ct = self.keys.seal(staff_id, "name", name)
        email_ct = self.keys.seal(staff_id, "email", address) if address else None
        with db.write(self.engine) as conn:
            taken = storage.login_owner(conn, login_hash)
            if taken is not None:
                raise StaffConflict(f"the login ID is already used by staff account '{taken}'")
            storage.insert_account(
                conn,
                staff_id=staff_id,
                login_hash=login_hash,
                login_ct=login_ct,
                name_ct=name_ct,
                role=checked_role,
                password_hash=password_hash,
                now=now,
                email_ct=email_ct,
            )
            lockout.clear_login(conn, login_hash)
            self.audit.append(
                conn,
                actor=actor,
                action="staff.create",
                targets=[f"staff:{staff_id}"],
                details={"role": checked_role.value, **({"email": True} if address else {})},
            )
            return self.account(self._row(conn, staff_id))

    def set_email(self, staff_id: str, email: str | None, *, actor: str) -> StaffAccount:
        """Set (or, with None or blank, remove) the e-mail reminders go to; audited as
        ``staff.email`` (whether one is set, never the address)."""
        address = normal_address(email, field="email") if email and email.strip() else None
        self.keys.warm()
        sealed = self.keys.seal(staff_id, "email", address) if address else None
        with db.write(self.engine) as conn:
            self._row(conn, staff_id)
            storage.set_email(conn, staff_id, sealed)
            self.audit.append(
                conn,
                actor=actor,
                action="staff.email",
                targets=[f"staff:{staff_id}"],
                details={"email": address is not None},
            )
            return self.account(self._row(conn, staff_id))

    def _keep_a_manager(self, conn: Connection, staff_id: str) -> None:
        if storage.active_managers(conn) == {staff_id}:
            raise StaffConflict(
                "this is the last active manager: make another account manager first"
            )

    def set_role(self, staff_id: str, role: str, *, actor: str) -> StaffAccount:
        new_role = parse_role(role)
        with db.write(self.engine) as conn:
            row = self._row(conn, staff_id)
            old = row.role
            if old == new_role:
                return self.account(row)
            if old == Role.manager:
                self._keep_a_manager(conn, staff_id)
            storage.set_role(conn, staff_id, new_role)
            self.audit.append(
                conn,
                actor=actor,
                action="staff.role",
                targets=[f"staff:{staff_id}"],
                details={"from": old, "to": new_role.value},
            )
            return self.account(self._row(conn, staff_id))

    def disable(self, staff_id: str, *, actor: str) -> StaffAccount:
        """Disable the account and end its sessions (already disabled: nothing changes)."""
        with db.write(self.engine) as conn:
            row = self._row(conn, staff_id)
            if row.disabled_at is not None:
                return self.account(row)
            if row.role == Role.manager:
                self._keep_a_manager(conn, staff_id)
            storage.set_disabled(conn, staff_id, self.clock.now())
            ended = storage.delete_sessions_of(conn, staff_id)
            self.audit.append(
                conn,
                actor=actor,
                action="staff.disable",
                targets=[f"staff:{staff_id}"],
                details={"sessions_ended": ended},
            )
            return self.account(self._row(conn, staff_id))

    def enable(self, staff_id: str, *, actor: str) -> StaffAccount:
        with db.write(self.engine) as conn:
            row = self._row(conn, staff_id)
            if row.disabled_at is None:
                return self.account(row)
            storage.set_disabled(conn, staff_id, None)
            self.audit.append(
                conn, actor=actor, action="staff.enable", targets=[f"staff:{staff_id}"]
            )
            return self.account(self._row(conn, staff_id))

    def reset_password(self, staff_id: str, password: str, *, actor: str) -> StaffAccount:
        """Set a new password, end the account's sessions and lift a lockout of its login."""
        password_hash = passwords.hash_password(password, using=self.hasher)
        with db.write(self.engine) as conn:
            row = self._row(conn, staff_id)
            storage.set_password(conn, staff_id, password_hash, self.clock.now())
            ended = storage.delete_sessions_of(conn, staff_id)
            lockout.clear_login(conn, row.login_hash)
            self.audit.append(
                conn,
                actor=actor,
                action="staff.password_reset",
                targets=[f"staff:{staff_id}"],
                details={"sessions_ended": ended},
            )
            return self.account(self._row(conn, staff_id))
