"""The staff package's queries: accounts (``staff_accounts``), admin-console sessions
(``staff_sessions``), failed sign-ins (``staff_sign_in_failures``) and second factors
(``staff_totp``, ``staff_recovery_codes``, ``staff_pending_sign_ins``).

Every function runs on the caller's connection, inside its transaction (:func:`mamori.store.db.
write` or :func:`~mamori.store.db.read`), and returns plain values or frozen rows. Login IDs and
display names arrive and leave encrypted, found by a keyed hash; sessions and failures are
stored as hashes too: nothing here sees a login, a name, a token or a client address. Audit
entries are not written here: the caller appends them through
:class:`mamori.audit.log.AuditLog` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = [
    "AccountRow",
    "PendingRow",
    "SessionRow",
    "TotpRow",
    "account_by_id",
    "account_by_login",
    "active_managers",
    "all_accounts",
    "clear_login_failures",
    "confirm_totp",
    "count_active",
    "count_all",
    "delete_pending",
    "delete_pending_of",
    "delete_recovery_codes",
    "delete_session",
    "delete_sessions_of",
    "delete_totp",
    "failures_of_client",
    "failures_of_login",
    "find_pending",
    "find_session",
    "insert_account",
    "insert_failure",
    "insert_pending",
    "insert_session",
    "login_owner",
    "prune_failures",
    "prune_pending",
    "prune_sessions",
    "put_totp",
    "record_sign_in",
    "recovery_codes_left",
    "rehash_password",
    "replace_recovery_codes",
    "set_authenticated",
    "set_disabled",
    "set_email",
    "set_password",
    "set_role",
    "take_step",
    "totp_enrolled",
    "totp_row",
    "touch_session",
    "use_recovery_code",
]

accounts_t = tables.staff_accounts
sessions_t = tables.staff_sessions
failures_t = tables.staff_sign_in_failures
totp_t = tables.staff_totp
recovery_t = tables.staff_recovery_codes
pending_t = tables.staff_pending_sign_ins


@dataclass(frozen=True)
class AccountRow:
    """A ``staff_accounts`` row as stored (login and name encrypted)."""

    id: str
    login_hash: bytes
    login_ct: bytes
    name_ct: bytes
    role: str
    password_hash: str
    created_at: dt.datetime
    password_changed_at: dt.datetime
    last_sign_in_at: dt.datetime | None
    disabled_at: dt.datetime | None
    email_ct: bytes | None = None


@dataclass(frozen=True)
class SessionRow:
    """A stored session with the account it belongs to."""

    csrf_token: str
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    authenticated_at: dt.datetime
    account: AccountRow


@dataclass(frozen=True)
class TotpRow:
    """A member's TOTP secret (encrypted), confirmed or still being enrolled."""

    secret_ct: bytes
    confirmed_at: dt.datetime | None
    last_step: int | None


@dataclass(frozen=True)
class PendingRow:
    """A half-finished sign-in: whose, and what it waits for (``code`` or ``enrol``)."""

    staff_id: str
    stage: str
    expires_at: dt.datetime


_ACCOUNT_COLUMNS = tuple(AccountRow.__dataclass_fields__)


def _account(row: Any) -> AccountRow:
    m = row._mapping
    return AccountRow(**{name: m[name] for name in _ACCOUNT_COLUMNS})


# -- accounts ------------------------------------------------------------------------------------


def all_accounts(conn: Connection) -> list[AccountRow]:
    """Every account, oldest first."""
    query = sa.select(accounts_t).order_by(accounts_t.c.created_at, accounts_t.c.id)
    return [_account(row) for row in conn.execute(query)]


def count_all(conn: Connection) -> int:
    """How many accounts there are, disabled ones included."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(accounts_t)).scalar_one())


def count_active(conn: Connection) -> int:
    """How many accounts are active (not disabled)."""
    query = sa.select(sa.func.count()).where(accounts_t.c.disabled_at.is_(None))
    return int(conn.execute(query).scalar_one())


def account_by_id(conn: Connection, staff_id: str) -> AccountRow | None:
    row = conn.execute(sa.select(accounts_t).where(accounts_t.c.id == staff_id)).one_or_none()
    return _account(row) if row is not None else None


def account_by_login(conn: Connection, login_hash: bytes) -> AccountRow | None:
    """The account whose login ID has the keyed hash ``login_hash``, if any."""
    query = sa.select(accounts_t).where(accounts_t.c.login_hash == login_hash)
    row = conn.execute(query).one_or_none()
    return _account(row) if row is not None else None


def login_owner(conn: Connection, login_hash: bytes) -> str | None:
    """The id of the account whose login ID has the keyed hash ``login_hash``, if any."""
    row = conn.execute(
        sa.select(accounts_t.c.id).where(accounts_t.c.login_hash == login_hash)
    ).first()
    return row.id if row is not None else None


def insert_account(
    conn: Connection,
    *,
    staff_id: str,
    login_hash: bytes,
    login_ct: bytes,
    name_ct: bytes,
    role: str,
    password_hash: str,
    now: dt.datetime,
    email_ct: bytes | None = None,
) -> None:
    """A new active account that never signed in."""
    conn.execute(
        accounts_t.insert().values(
            id=staff_id,
            login_hash=login_hash,
            login_ct=login_ct,
            name_ct=name_ct,
            email_ct=email_ct,
            role=role,
            password_hash=password_hash,
            created_at=now,
            password_changed_at=now,
            last_sign_in_at=None,
            disabled_at=None,
        )
    )


def active_managers(conn: Connection) -> set[str]:
    """The ids of the active managers, their rows locked until the transaction ends (PostgreSQL:
    ``FOR UPDATE``), so that two changes cannot each leave the other the last manager."""
    return set(
        conn.execute(
            sa.select(accounts_t.c.id)
            .where(accounts_t.c.role == "manager", accounts_t.c.disabled_at.is_(None))
            .with_for_update()
        ).scalars()
    )


def set_email(conn: Connection, staff_id: str, email_ct: bytes | None) -> None:
    conn.execute(accounts_t.update().where(accounts_t.c.id == staff_id).values(email_ct=email_ct))


def set_role(conn: Connection, staff_id: str, role: str) -> None:
    conn.execute(accounts_t.update().where(accounts_t.c.id == staff_id).values(role=role))


def set_disabled(conn: Connection, staff_id: str, at: dt.datetime | None) -> None:
    """Disable the account as of ``at`` (``None``: enable it)."""
    conn.execute(accounts_t.update().where(accounts_t.c.id == staff_id).values(disabled_at=at))


def set_password(
    conn: Connection, staff_id: str, password_hash: str, changed_at: dt.datetime
) -> None:
    conn.execute(
        accounts_t.update()
        .where(accounts_t.c.id == staff_id)
        .values(password_hash=password_hash, password_changed_at=changed_at)
    )


def rehash_password(conn: Connection, staff_id: str, password_hash: str) -> None:
    """Store the same password's new hash (stronger parameters): not a password change."""
    conn.execute(
        accounts_t.update().where(accounts_t.c.id == staff_id).values(password_hash=password_hash)
    )


def record_sign_in(
    conn: Connection, staff_id: str, now: dt.datetime, *, rehashed: str | None = None
) -> None:
    """Note the sign-in, and store the password's new hash when it was ``rehashed``."""
    values: dict[str, object] = {"last_sign_in_at": now}
    if rehashed is not None:
        values["password_hash"] = rehashed
    conn.execute(accounts_t.update().where(accounts_t.c.id == staff_id).values(**values))


# -- sessions ------------------------------------------------------------------------------------


def prune_sessions(conn: Connection, now: dt.datetime) -> None:
    """Delete every session past its absolute end (of anyone): they can never be used again."""
    conn.execute(sessions_t.delete().where(sessions_t.c.expires_at <= now))


def insert_session(
    conn: Connection,
    *,
    token_hash: bytes,
    staff_id: str,
    csrf_token: str,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    conn.execute(
        sessions_t.insert().values(
            token_hash=token_hash,
            staff_id=staff_id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            authenticated_at=now,
            expires_at=expires_at,
        )
    )


def find_session(conn: Connection, token_hash: bytes) -> SessionRow | None:
    """The session whose token has the SHA-256 ``token_hash``, with its account."""
    query = (
        sa.select(
            sessions_t.c.csrf_token,
            sessions_t.c.last_seen_at,
            sessions_t.c.expires_at,
            sessions_t.c.authenticated_at,
            accounts_t,
        )
        .join(accounts_t, accounts_t.c.id == sessions_t.c.staff_id)
        .where(sessions_t.c.token_hash == token_hash)
    )
    row = conn.execute(query).one_or_none()
    if row is None:
        return None
    return SessionRow(
        row.csrf_token, row.last_seen_at, row.expires_at, row.authenticated_at, _account(row)
    )


def touch_session(conn: Connection, token_hash: bytes, now: dt.datetime) -> None:
    """Record activity on the session."""
    conn.execute(
        sessions_t.update().where(sessions_t.c.token_hash == token_hash).values(last_seen_at=now)
    )


def set_authenticated(conn: Connection, token_hash: bytes, now: dt.datetime) -> None:
    """The session's member proved who they are again (re-authentication)."""
    conn.execute(
        sessions_t.update()
        .where(sessions_t.c.token_hash == token_hash)
        .values(authenticated_at=now, last_seen_at=now)
    )


def delete_session(conn: Connection, token_hash: bytes) -> None:
    conn.execute(sessions_t.delete().where(sessions_t.c.token_hash == token_hash))


def delete_sessions_of(conn: Connection, staff_id: str) -> int:
    """End every session of the account; how many there were."""
    ended: int = conn.execute(sessions_t.delete().where(sessions_t.c.staff_id == staff_id)).rowcount
    return ended


# -- failed sign-ins -----------------------------------------------------------------------------


def failures_of_login(conn: Connection, login_hash: bytes, since: dt.datetime) -> list[dt.datetime]:
    """When the login ID with the keyed hash ``login_hash`` failed to sign in after ``since``."""
    query = sa.select(failures_t.c.at).where(
        failures_t.c.login_hash == login_hash, failures_t.c.at > since
    )
    return list(conn.execute(query).scalars())


def failures_of_client(
    conn: Connection, client_hash: bytes, since: dt.datetime
) -> list[dt.datetime]:
    """When the client address with the keyed hash ``client_hash`` failed after ``since``."""
    query = sa.select(failures_t.c.at).where(
        failures_t.c.client_hash == client_hash, failures_t.c.at > since
    )
    return list(conn.execute(query).scalars())


def prune_failures(conn: Connection, before: dt.datetime) -> None:
    """Delete the failures at or before ``before``."""
    conn.execute(failures_t.delete().where(failures_t.c.at <= before))


def insert_failure(conn: Connection, login_hash: bytes, client_hash: bytes, at: dt.datetime) -> int:
    """Store a failure (or an attempt counted as one until it succeeds); its id."""
    row = conn.execute(
        failures_t.insert()
        .values(login_hash=login_hash, client_hash=client_hash, at=at)
        .returning(failures_t.c.id)
    ).one()
    return int(row.id)


def delete_failure(conn: Connection, failure_id: int) -> None:
    """An attempt counted as a failure succeeded after all: it no longer counts."""
    conn.execute(failures_t.delete().where(failures_t.c.id == failure_id))


def clear_login_failures(conn: Connection, login_hash: bytes) -> None:
    """Forget the failures of the login ID with the keyed hash ``login_hash``."""
    conn.execute(failures_t.delete().where(failures_t.c.login_hash == login_hash))


# -- second factors ------------------------------------------------------------------------------


def totp_row(conn: Connection, staff_id: str) -> TotpRow | None:
    query = sa.select(totp_t.c.secret_ct, totp_t.c.confirmed_at, totp_t.c.last_step).where(
        totp_t.c.staff_id == staff_id
    )
    row = conn.execute(query).one_or_none()
    return TotpRow(row.secret_ct, row.confirmed_at, row.last_step) if row is not None else None


def totp_enrolled(conn: Connection) -> set[str]:
    """The ids of the accounts with a confirmed TOTP authenticator."""
    query = sa.select(totp_t.c.staff_id).where(totp_t.c.confirmed_at.is_not(None))
    return set(conn.execute(query).scalars())


def put_totp(conn: Connection, staff_id: str, secret_ct: bytes, now: dt.datetime) -> None:
    """Store a new, unconfirmed secret for the account (replacing any it had)."""
    conn.execute(totp_t.delete().where(totp_t.c.staff_id == staff_id))
    conn.execute(
        totp_t.insert().values(
            staff_id=staff_id, secret_ct=secret_ct, created_at=now, confirmed_at=None
        )
    )


def confirm_totp(conn: Connection, staff_id: str, now: dt.datetime, step: int) -> bool:
    """Mark the unconfirmed secret confirmed, with the step of the code that confirmed it."""
    result = conn.execute(
        totp_t.update()
        .where(totp_t.c.staff_id == staff_id, totp_t.c.confirmed_at.is_(None))
        .values(confirmed_at=now, last_step=step)
    )
    return bool(result.rowcount == 1)


def take_step(conn: Connection, staff_id: str, step: int) -> bool:
    """Record ``step`` as the last accepted one, unless it (or a later one) already was: one
    statement, so two requests with the same code cannot both win."""
    result = conn.execute(
        totp_t.update()
        .where(
            totp_t.c.staff_id == staff_id,
            totp_t.c.confirmed_at.is_not(None),
            sa.or_(totp_t.c.last_step.is_(None), totp_t.c.last_step < step),
        )
        .values(last_step=step)
    )
    return bool(result.rowcount == 1)


def delete_totp(conn: Connection, staff_id: str) -> bool:
    """Forget the account's authenticator; whether it had one."""
    result = conn.execute(totp_t.delete().where(totp_t.c.staff_id == staff_id))
    return bool(result.rowcount)


def replace_recovery_codes(
    conn: Connection, staff_id: str, hashes: list[bytes], now: dt.datetime
) -> None:
    """The account's recovery codes are now exactly these (the old ones no longer work)."""
    conn.execute(recovery_t.delete().where(recovery_t.c.staff_id == staff_id))
    conn.execute(
        recovery_t.insert(),
        [{"staff_id": staff_id, "code_hash": h, "created_at": now} for h in hashes],
    )


def use_recovery_code(conn: Connection, staff_id: str, code_hash: bytes, now: dt.datetime) -> bool:
    """Spend the unused recovery code with this hash; whether there was one."""
    result = conn.execute(
        recovery_t.update()
        .where(
            recovery_t.c.staff_id == staff_id,
            recovery_t.c.code_hash == code_hash,
            recovery_t.c.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(result.rowcount == 1)


def recovery_codes_left(conn: Connection, staff_id: str) -> int:
    query = sa.select(sa.func.count()).where(
        recovery_t.c.staff_id == staff_id, recovery_t.c.used_at.is_(None)
    )
    return int(conn.execute(query).scalar_one())


def delete_recovery_codes(conn: Connection, staff_id: str) -> None:
    conn.execute(recovery_t.delete().where(recovery_t.c.staff_id == staff_id))


def prune_pending(conn: Connection, now: dt.datetime) -> None:
    """Delete every half-finished sign-in past its end."""
    conn.execute(pending_t.delete().where(pending_t.c.expires_at <= now))


def insert_pending(
    conn: Connection,
    *,
    token_hash: bytes,
    staff_id: str,
    stage: str,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    conn.execute(
        pending_t.insert().values(
            token_hash=token_hash,
            staff_id=staff_id,
            stage=stage,
            created_at=now,
            expires_at=expires_at,
        )
    )


def find_pending(conn: Connection, token_hash: bytes) -> PendingRow | None:
    query = sa.select(pending_t.c.staff_id, pending_t.c.stage, pending_t.c.expires_at).where(
        pending_t.c.token_hash == token_hash
    )
    row = conn.execute(query).one_or_none()
    return PendingRow(row.staff_id, row.stage, row.expires_at) if row is not None else None


def delete_pending(conn: Connection, token_hash: bytes) -> bool:
    result = conn.execute(pending_t.delete().where(pending_t.c.token_hash == token_hash))
    return bool(result.rowcount == 1)


def delete_pending_of(conn: Connection, staff_id: str) -> None:
    conn.execute(pending_t.delete().where(pending_t.c.staff_id == staff_id))
