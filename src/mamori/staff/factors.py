"""The second factor of staff sign-in: a TOTP authenticator app and single-use recovery codes.

**Enrolment.** :meth:`SecondFactors.begin` stores a new random secret, encrypted (AES-256-GCM
under the ``staff-totp`` system key, bound to the account), unconfirmed; the console shows it
as a QR code and in text. :meth:`SecondFactors.confirm` checks one code of it, marks it
confirmed and makes :data:`~mamori.staff.totp.RECOVERY_CODES` recovery codes, returned once
and stored only as keyed hashes (``staff-recovery`` system key). Audited ``staff.totp_enrol``.

**Checking.** :meth:`SecondFactors.check` takes a 6-digit code or a recovery code. It is counted
against the lockout of the account's login ID and of the client address exactly like a password
(:func:`mamori.staff.lockout.reserve`), so codes cannot be guessed faster than passwords; a
right one takes the count back and clears the login's failures. A TOTP code is accepted once
(the step is recorded in the same statement that checks it was not used), a recovery code is
spent. Audited ``staff.second_factor`` (``result`` ``ok``/``failed``/``locked``, ``method``,
``purpose``), and a spent recovery code also ``staff.recovery_code_used`` with how many are
left. Codes and secrets never reach the audit log or a log.

**Changing.** :meth:`SecondFactors.regenerate` replaces the recovery codes
(``staff.recovery_codes``); :meth:`SecondFactors.reset` removes the authenticator, the codes,
half-finished sign-ins and the sessions of the account (``staff.totp_reset``), so its next
sign-in enrols again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from mamori.errors import SecondFactorRejected, StaffConflict, StaffNotFound
from mamori.staff import lockout, storage, totp
from mamori.staff.accounts import StaffDirectory
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault import crypto

__all__ = ["ISSUER", "Enrolment", "FactorStatus", "SecondFactors"]

ISSUER: Final = "mamori"
"""The issuer authenticator apps show beside the account."""
_SECRET_KEY: Final = "staff-totp"
_RECOVERY_KEY: Final = "staff-recovery"


@dataclass(frozen=True)
class FactorStatus:
    """Whether a member has a confirmed authenticator, and how many recovery codes are left."""

    enrolled: bool
    recovery_left: int


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret in text and as an ``otpauth://`` URI."""

    secret: str
    uri: str

    @property
    def grouped(self) -> str:
        """The secret in groups of four, easier to type."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    def qr_svg(self) -> str:
        return totp.qr_svg(self.uri)


class SecondFactors:
    """The second factors of the accounts of ``directory``."""

    def __init__(self, directory: StaffDirectory) -> None:
        self.directory = directory
        self.system_keys = directory.keys.system_keys

    def warm(self) -> None:
        """Load (or create) the system keys before any write transaction needs them."""
        self.directory.keys.warm()
        self.system_keys.get(_SECRET_KEY)
        self.system_keys.get(_RECOVERY_KEY)

    def _seal(self, staff_id: str, secret: str) -> bytes:
        key = self.system_keys.get(_SECRET_KEY)
        return crypto.encrypt(
            key, secret.encode("ascii"), subject_id=f"staff:{staff_id}", item_id="totp"
        )

    def _open(self, staff_id: str, sealed: bytes) -> str:
        key = self.system_keys.get(_SECRET_KEY)
        plain = crypto.decrypt(key, sealed, subject_id=f"staff:{staff_id}", item_id="totp")
        return plain.decode("ascii")

    def _hash(self, staff_id: str, code: str) -> bytes:
        return totp.recovery_hash(self.system_keys.get(_RECOVERY_KEY), staff_id, code)

    # -- reading -------------------------------------------------------------------------------

    def status(self, staff_id: str) -> FactorStatus:
        with db.read(self.directory.engine) as conn:
            row = storage.totp_row(conn, staff_id)
            left = storage.recovery_codes_left(conn, staff_id)
        return FactorStatus(row is not None and row.confirmed_at is not None, left)

    def enrolled_ids(self) -> set[str]:
        """The ids of the accounts with a confirmed authenticator."""
        with db.read(self.directory.engine) as conn:
            return storage.totp_enrolled(conn)

    # -- enrolment -----------------------------------------------------------------------------

    def begin(self, staff_id: str, *, secret: str | None = None) -> Enrolment:
        """The enrolment under way for the account, begun now if there is none (with ``secret``
        when given, e.g. moved from another system; else a random one). Raises
        :class:`StaffConflict` when the account already has a confirmed authenticator."""
        self.warm()
        account = self.directory.get(staff_id)
        chosen = totp.normal_secret(secret) if secret is not None else None
        with db.write(self.directory.engine) as conn:
            row = storage.totp_row(conn, staff_id)
            if row is not None and row.confirmed_at is not None:
                raise StaffConflict(
                    "this staff account already has an authenticator: reset it first"
                )
            if row is not None and chosen is None:
                chosen = self._open(staff_id, row.secret_ct)
            else:
                chosen = chosen or totp.new_secret()
                storage.put_totp(
                    conn, staff_id, self._seal(staff_id, chosen), self.directory.clock.now()
                )
        return Enrolment(chosen, totp.provisioning_uri(chosen, account.login, ISSUER))

    def confirm(self, staff_id: str, typed: str, *, actor: str) -> list[str]:
        """Confirm the enrolment with a code of the new authenticator; the recovery codes, to
        show once. Raises :class:`SecondFactorRejected` for a wrong or malformed code."""
        self.warm()
        now = self.directory.clock.now()
        codes = totp.new_recovery_codes()
        hashes = [self._hash(staff_id, totp.normal_recovery(c) or "") for c in codes]
        with db.write(self.directory.engine) as conn:
            row = storage.totp_row(conn, staff_id)
            if row is None or row.confirmed_at is not None:
                raise StaffConflict("no enrolment is under way for this staff account")
            code = totp.normal_code(typed)
            step = None
            if code is not None:
                step = totp.matching_step(self._open(staff_id, row.secret_ct), code, now, None)
            if step is not None and storage.confirm_totp(conn, staff_id, now, step):
                storage.replace_recovery_codes(conn, staff_id, hashes, now)
                self.directory.audit.append(
                    conn,
                    actor=actor,
                    action="staff.totp_enrol",
                    targets=[f"staff:{staff_id}"],
                    details={"recovery_codes": len(codes)},
                )
                return codes
        raise SecondFactorRejected()

    # -- checking ------------------------------------------------------------------------------

    def check(
        self,
        staff_id: str,
        typed: str,
        *,
        client: str,
        limits: lockout.Limits,
        purpose: str,
    ) -> str:
        """Check a code or a recovery code of the account (see the module's description);
        the method that matched, ``totp`` or ``recovery``. Raises
        :class:`SecondFactorRejected` or :class:`SignInLocked`."""
        self.warm()
        keys = self.directory.keys
        client_hash = keys.client_hash(client)
        now = self.directory.clock.now()
        actor = f"staff:{staff_id}"
        method = "none"
        locked = None
        with db.write(self.directory.engine) as conn:
            account = storage.account_by_id(conn, staff_id)
            if account is None:
                raise StaffNotFound(f"no staff account '{staff_id}'")
            reservation = lockout.reserve(conn, account.login_hash, client_hash, limits, now)
            locked = reservation.locked_until
            ok = False
            if locked is None:
                ok, method = self._matches(conn, staff_id, typed, now)
            result = "locked" if locked is not None else "ok" if ok else "failed"
            self.directory.audit.append(
                conn,
                actor=actor,
                action="staff.second_factor",
                targets=[actor],
                details={"result": result, "method": method, "purpose": purpose},
            )
            if ok:
                lockout.release(conn, reservation)
                lockout.clear_login(conn, account.login_hash)
                if method == "recovery":
                    self.directory.audit.append(
                        conn,
                        actor=actor,
                        action="staff.recovery_code_used",
                        targets=[actor],
                        details={"left": storage.recovery_codes_left(conn, staff_id)},
                    )
                return method
        if locked is not None:
            raise lockout.locked_error(locked, now)
        raise SecondFactorRejected()

    def _matches(
        self, conn: Connection, staff_id: str, typed: str, now: dt.datetime
    ) -> tuple[bool, str]:
        code = totp.normal_code(typed)
        if code is not None:
            row = storage.totp_row(conn, staff_id)
            if row is None or row.confirmed_at is None:
                return False, "totp"
            step = totp.matching_step(self._open(staff_id, row.secret_ct), code, now, row.last_step)
            return step is not None and storage.take_step(conn, staff_id, step), "totp"
        recovery = totp.normal_recovery(typed)
        if recovery is not None:
            spent = storage.use_recovery_code(conn, staff_id, self._hash(staff_id, recovery), now)
            return spent, "recovery"
        return False, "malformed"

    # -- changing ------------------------------------------------------------------------------

    def regenerate(self, staff_id: str, *, actor: str) -> list[str]:
        """New recovery codes for an enrolled account (the old ones stop working); to show once."""
        self.warm()
        codes = totp.new_recovery_codes()
        hashes = [self._hash(staff_id, totp.normal_recovery(c) or "") for c in codes]
        with db.write(self.directory.engine) as conn:
            row = storage.totp_row(conn, staff_id)
            if row is None or row.confirmed_at is None:
                raise StaffConflict("this staff account has no authenticator yet: enrol first")
            storage.replace_recovery_codes(conn, staff_id, hashes, self.directory.clock.now())
            self.directory.audit.append(
                conn,
                actor=actor,
                action="staff.recovery_codes",
                targets=[f"staff:{staff_id}"],
                details={"recovery_codes": len(codes)},
            )
        return codes

    def reset(self, staff_id: str, *, actor: str) -> int:
        """Remove the account's authenticator and recovery codes and end its sessions and
        half-finished sign-ins; how many sessions ended. Raises :class:`StaffConflict` when it
        has no authenticator, not even one being enrolled."""
        with db.write(self.directory.engine) as conn:
            if storage.account_by_id(conn, staff_id) is None:
                raise StaffNotFound(f"no staff account '{staff_id}'")
            if not storage.delete_totp(conn, staff_id):
                raise StaffConflict("this staff account has no authenticator to reset")
            storage.delete_recovery_codes(conn, staff_id)
            storage.delete_pending_of(conn, staff_id)
            ended = storage.delete_sessions_of(conn, staff_id)
            self.directory.audit.append(
                conn,
                actor=actor,
                action="staff.totp_reset",
                targets=[f"staff:{staff_id}"],
                details={"sessions_ended": ended},
            )
            return ended
