"""The queries of the register of contractors: contracts (``contractor_contracts``) and
supervision checks (``contractor_checks``).

Every function runs on the caller's connection, inside its transaction, and returns frozen rows.
The two changes that may race (ending a contract, completing a check) are one conditional
``UPDATE ... RETURNING`` each, so that of two staff members acting at once exactly one succeeds
(``rowcount`` is not reliable across drivers; the returned row is).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = [
    "CheckRow",
    "ContractRow",
    "checks_of",
    "complete_check",
    "contracts_of",
    "count_overdue",
    "end_contract",
    "insert_check",
    "insert_contract",
    "latest_completed",
    "with_contracts",
]

contracts_t = tables.contractor_contracts
checks_t = tables.contractor_checks


@dataclass(frozen=True)
class ContractRow:
    id: str
    recipient_id: str
    signed_on: dt.date
    starts_on: dt.date
    ends_on: dt.date | None
    items: tuple[str, ...]
    note: str | None
    policy_version: int
    actor: str
    created_at: dt.datetime
    ended_at: dt.datetime | None = None
    ended_by: str | None = None


@dataclass(frozen=True)
class CheckRow:
    id: str
    recipient_id: str
    contract_id: str | None
    due_on: dt.date
    done_on: dt.date | None
    result: str | None
    note: str | None
    actor: str
    created_at: dt.datetime
    completed_by: str | None = None
    completed_at: dt.datetime | None = None


def _contract(row: sa.Row[tuple[object, ...]]) -> ContractRow:
    data = dict(row._mapping)
    data["items"] = tuple(orjson.loads(str(data["items"])))
    return ContractRow(**data)


def _check(row: sa.Row[tuple[object, ...]]) -> CheckRow:
    return CheckRow(**row._mapping)


# -- contracts -----------------------------------------------------------------------------------


def insert_contract(conn: Connection, row: ContractRow) -> None:
    conn.execute(
        contracts_t.insert().values(**{**row.__dict__, "items": orjson.dumps(row.items).decode()})
    )


def contracts_of(conn: Connection, recipient_ids: Collection[str]) -> dict[str, list[ContractRow]]:
    """recipient id -> its contracts, the latest-starting first (recorded later first on a tie)."""
    found: dict[str, list[ContractRow]] = {r: [] for r in recipient_ids}
    if not found:
        return found
    rows = conn.execute(
        sa.select(contracts_t)
        .where(contracts_t.c.recipient_id.in_(list(found)))
        .order_by(contracts_t.c.starts_on.desc(), contracts_t.c.created_at.desc(), contracts_t.c.id)
    ).all()
    for row in rows:
        found[row.recipient_id].append(_contract(row))
    return found


def end_contract(
    conn: Connection, recipient_id: str, contract_id: str, *, at: dt.datetime, by: str
) -> ContractRow | None:
    """End the contract now unless it was ended before; the contract as ended, or None when
    there is no such contract not yet ended."""
    row = conn.execute(
        contracts_t.update()
        .where(
            contracts_t.c.id == contract_id,
            contracts_t.c.recipient_id == recipient_id,
            contracts_t.c.ended_at.is_(None),
        )
        .values(ended_at=at, ended_by=by)
        .returning(*contracts_t.c)
    ).first()
    return _contract(row) if row is not None else None


# -- checks --------------------------------------------------------------------------------------


def insert_check(conn: Connection, row: CheckRow) -> None:
    conn.execute(checks_t.insert().values(**row.__dict__))


def checks_of(conn: Connection, recipient_ids: Collection[str]) -> dict[str, list[CheckRow]]:
    """recipient id -> its checks, the latest due first."""
    found: dict[str, list[CheckRow]] = {r: [] for r in recipient_ids}
    if not found:
        return found
    rows = conn.execute(
        sa.select(checks_t)
        .where(checks_t.c.recipient_id.in_(list(found)))
        .order_by(checks_t.c.due_on.desc(), checks_t.c.created_at.desc(), checks_t.c.id)
    ).all()
    for row in rows:
        found[row.recipient_id].append(_check(row))
    return found


def complete_check(
    conn: Connection,
    recipient_id: str,
    check_id: str,
    *,
    done_on: dt.date,
    result: str,
    note: str | None,
    at: dt.datetime,
    by: str,
) -> CheckRow | None:
    """Record the check's result unless it has one already; the check as completed, or None
    when there is no such open check (completed by someone else first, or unknown)."""
    row = conn.execute(
        checks_t.update()
        .where(
            checks_t.c.id == check_id,
            checks_t.c.recipient_id == recipient_id,
            checks_t.c.done_on.is_(None),
        )
        .values(done_on=done_on, result=result, note=note, completed_at=at, completed_by=by)
        .returning(*checks_t.c)
    ).first()
    return _check(row) if row is not None else None


def latest_completed(conn: Connection, recipient_id: str) -> CheckRow | None:
    """The check of ``recipient_id`` done last (completed last on the same day)."""
    row = conn.execute(
        sa.select(checks_t)
        .where(checks_t.c.recipient_id == recipient_id, checks_t.c.done_on.is_not(None))
        .order_by(checks_t.c.done_on.desc(), checks_t.c.completed_at.desc(), checks_t.c.id)
        .limit(1)
    ).first()
    return _check(row) if row is not None else None


def count_overdue(conn: Connection, recipient_ids: Collection[str], today: dt.date) -> int:
    """Open checks of ``recipient_ids`` whose due day is before ``today``."""
    if not recipient_ids:
        return 0
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(checks_t)
            .where(
                checks_t.c.recipient_id.in_(list(recipient_ids)),
                checks_t.c.done_on.is_(None),
                checks_t.c.due_on < today,
            )
        ).scalar_one()
    )


def with_contracts(conn: Connection, recipient_ids: Collection[str]) -> set[str]:
    """Which of ``recipient_ids`` have at least one contract on file."""
    if not recipient_ids:
        return set()
    rows = conn.execute(
        sa.select(contracts_t.c.recipient_id)
        .where(contracts_t.c.recipient_id.in_(list(recipient_ids)))
        .distinct()
    ).all()
    return {row[0] for row in rows}
