"""The requests' queries: requests (``data_requests``), their one-time confirmation codes
(``request_codes``) and the rate limits on sending codes (``request_throttle``).

Every function runs on the caller's connection, inside its transaction (:func:`mamori.store.db.
write` or :func:`~mamori.store.db.read`), so that a change and its audit entry commit together.
Requests come back as :class:`~mamori.requests.model.Request` without their details: the
personal parts are stored sealed and leave sealed (:class:`SealedRequest`); sealing and
unsealing, and the audit of every change, are :mod:`mamori.requests.store`'s. Codes, addresses
and clients are stored as keyed hashes only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.requests.model import (
    Agent,
    Delivery,
    Ground,
    Outcome,
    Request,
    RequestType,
    Status,
    Verification,
)
from mamori.requests.numbers import new_number
from mamori.store import bulk, tables

__all__ = [
    "REDACTED",
    "CodeState",
    "SealedProof",
    "SealedRequest",
    "SessionState",
    "accepted_provision_stops",
    "claim_code_attempt",
    "code_state",
    "count_sent",
    "delete_code",
    "find",
    "find_proof",
    "insert_request",
    "of_subject",
    "open_requests",
    "prune_throttle",
    "record_sent",
    "redact_of_subject",
    "replace_code",
    "row_to_request",
    "select_requests",
    "session_of",
    "spend_download",
    "update",
]

requests_t = tables.data_requests
codes_t = tables.request_codes
throttle_t = tables.request_throttle


@dataclass(frozen=True)
class SealedRequest:
    """A request as stored: the request without its details, and the details sealed."""

    request: Request
    sealed: bytes


@dataclass(frozen=True)
class SealedProof:
    """The agent's proof of a request as stored (``proof`` is ``None`` when none was given)."""

    proof: bytes | None
    proof_type: str | None


@dataclass(frozen=True)
class SessionState:
    """The session a confirmation code opened for a request: the token's SHA-256 and its end."""

    session_hash: bytes | None
    expires_at: dt.datetime | None


@dataclass(frozen=True)
class CodeState:
    """A request's waiting confirmation code: its keyed hash, its end and the attempts so far."""

    code_hash: bytes
    expires_at: dt.datetime
    attempts: int


# -- requests ------------------------------------------------------------------------------------


def row_to_request(row: Any) -> Request:
    """A request from a row of :func:`select_requests` (without details)."""
    return Request(
        id=row.id,
        type=RequestType(row.type),
        status=Status(row.status),
        language=row.language,
        created_at=row.created_at,
        due_at=row.due_at,
        subject_id=row.subject_id,
        outcome=Outcome(row.outcome) if row.outcome else None,
        verified_by=Verification(row.verified_by) if row.verified_by else None,
        agent=Agent(row.agent) if row.agent else None,
        delivery=Delivery(row.delivery) if row.delivery else None,
        ground=Ground(row.ground) if row.ground else None,
        items=tuple(orjson.loads(row.item_ids)),
        fee=row.fee,
        substitute=bool(row.substitute),
        has_proof=row.has_proof,
        handler=row.handler,
        number=row.number,
        assignee=row.assignee,
        decided_at=row.decided_at,
        notified_at=row.notified_at,
        closed_at=row.closed_at,
        reminded_at=row.reminded_at,
        download_until=row.download_until,
        downloads_left=row.downloads_left,
        details={},
    )


_COLUMNS = [c for c in requests_t.c if c.name not in ("sealed", "proof", "session_hash")]


def select_requests() -> sa.Select[Any]:
    """Every column of a request but its sealed parts' contents (``has_proof`` instead)."""
    return sa.select(
        *_COLUMNS,
        requests_t.c.sealed,
        requests_t.c.proof.is_not(None).label("has_proof"),
    )


def insert_request(
    conn: Connection,
    *,
    request_id: str,
    type: str,
    status: str,
    language: str,
    subject_id: str | None,
    agent: str | None,
    delivery: str | None,
    ground: str | None,
    item_ids: Sequence[str],
    fee: int | None,
    sealed: bytes,
    contact_ref: bytes,
    proof: bytes | None,
    proof_type: str | None,
    now: dt.datetime,
    due_at: dt.datetime,
) -> str:
    """Store a new request (no substitute measure, no downloads yet) under a fresh number;
    returns the number."""
    number = new_number()
    while conn.execute(sa.select(requests_t.c.id).where(requests_t.c.number == number)).first():
        number = new_number()  # one in 10^11 per request held; the unique index stays the guard
    conn.execute(
        requests_t.insert().values(
            id=request_id,
            number=number,
            type=type,
            status=status,
            language=language,
            subject_id=subject_id,
            agent=agent,
            delivery=delivery,
            ground=ground,
            item_ids=orjson.dumps(list(item_ids)).decode(),
            fee=fee,
            substitute=False,
            sealed=sealed,
            contact_ref=contact_ref,
            proof=proof,
            proof_type=proof_type,
            created_at=now,
            updated_at=now,
            due_at=due_at,
            downloads_left=0,
        )
    )
    return number


def find(conn: Connection, request_id: str) -> SealedRequest | None:
    """The request ``request_id`` with its sealed details, if it exists."""
    row = conn.execute(select_requests().where(requests_t.c.id == request_id)).one_or_none()
    return SealedRequest(row_to_request(row), row.sealed) if row is not None else None


def find_proof(conn: Connection, request_id: str) -> SealedProof | None:
    """The sealed proof of the request ``request_id``; ``None`` when there is no such request."""
    row = conn.execute(
        sa.select(requests_t.c.proof, requests_t.c.proof_type).where(requests_t.c.id == request_id)
    ).one_or_none()
    return SealedProof(row.proof, row.proof_type) if row is not None else None


def open_requests(
    conn: Connection, *, include_closed: bool = False, limit: int = 500
) -> list[Request]:
    """Requests by due date, earliest first (open ones only unless ``include_closed``)."""
    query = select_requests().order_by(requests_t.c.due_at, requests_t.c.id).limit(limit)
    if not include_closed:
        query = query.where(requests_t.c.status != Status.closed.value)
    return [row_to_request(row) for row in conn.execute(query)]


def of_subject(conn: Connection, subject_id: str, *, limit: int = 100) -> list[Request]:
    """The requests about ``subject_id``, newest first (without details)."""
    query = (
        select_requests()
        .where(requests_t.c.subject_id == subject_id)
        .order_by(requests_t.c.created_at.desc(), requests_t.c.id)
        .limit(limit)
    )
    return [row_to_request(row) for row in conn.execute(query)]


REDACTED: Final = b""
"""What ``sealed`` holds once the person withdrew: nothing (see :func:`redact_of_subject`)."""


def redact_of_subject(conn: Connection, subject_id: str) -> int:
    """Withdrawal: the person's requests keep their id, type, steps, dates and outcome, and lose
    every personal detail: the sealed details (contact address, message, proposed values), the
    agent's proof, the address's keyed hash, the sessions and any waiting code. The count."""
    ids = list(
        conn.execute(
            sa.select(requests_t.c.id).where(requests_t.c.subject_id == subject_id)
        ).scalars()
    )
    if not ids:
        return 0
    conn.execute(codes_t.delete().where(codes_t.c.request_id.in_(ids)))
    conn.execute(
        requests_t.update()
        .where(requests_t.c.id.in_(ids))
        .values(
            sealed=REDACTED,
            proof=None,
            proof_type=None,
            contact_ref=None,
            session_hash=None,
            session_expires_at=None,
        )
    )
    return len(ids)


def update(conn: Connection, request_id: str, *, now: dt.datetime, **values: object) -> None:
    """Set ``values`` on the request; ``updated_at`` is ``now`` unless given."""
    values.setdefault("updated_at", now)
    conn.execute(requests_t.update().where(requests_t.c.id == request_id).values(**values))


def session_of(conn: Connection, request_id: str) -> SessionState:
    """The code session of the request ``request_id`` (which must exist)."""
    row = conn.execute(
        sa.select(requests_t.c.session_hash, requests_t.c.session_expires_at).where(
            requests_t.c.id == request_id
        )
    ).one()
    return SessionState(row.session_hash, row.session_expires_at)


def spend_download(conn: Connection, request_id: str, now: dt.datetime) -> bool:
    """Take one download of the request's package if its window is open and downloads are
    left: whether one was taken. One statement, so two downloads at once cannot both spend
    the last one."""
    spent = conn.execute(
        requests_t.update()
        .where(
            requests_t.c.id == request_id,
            requests_t.c.download_until > now,
            requests_t.c.downloads_left > 0,
        )
        .values(downloads_left=requests_t.c.downloads_left - 1, updated_at=now)
    ).rowcount
    return bool(spent)


_PROVISION_STOPS = (
    "SELECT subject_id, id, item_ids FROM data_requests"
    " WHERE subject_id {ids} AND type = {p} AND outcome IN ({p}, {p}) AND substitute = {p}"
    " AND status IN ({p}, {p}, {p}) ORDER BY decided_at"
)
"""One statement for a page of people (a streamed provision asks it per page)."""


def accepted_provision_stops(
    conn: Connection, subject_ids: Sequence[str]
) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """subject id -> (request id, items) of every provision stop of that person that was
    fulfilled (wholly or partly, not by a substitute measure) and decided, by decision time;
    people without one are left out."""
    found: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    rows = bulk.select_ids(
        conn,
        _PROVISION_STOPS,
        subject_ids,
        RequestType.provision_stop.value,
        Outcome.fulfilled.value,
        Outcome.partly_fulfilled.value,
        False,
        Status.decided.value,
        Status.notified.value,
        Status.closed.value,
    )
    for subject_id, request_id, item_ids in rows:
        found.setdefault(subject_id, []).append((request_id, tuple(orjson.loads(item_ids))))
    return found


# -- confirmation codes --------------------------------------------------------------------------


def replace_code(
    conn: Connection,
    request_id: str,
    *,
    code_hash: bytes,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    """The request's code becomes ``code_hash`` (any earlier one is deleted), no attempts yet."""
    delete_code(conn, request_id)
    conn.execute(
        codes_t.insert().values(
            request_id=request_id,
            code_hash=code_hash,
            created_at=now,
            expires_at=expires_at,
            attempts=0,
        )
    )


def code_state(conn: Connection, request_id: str) -> CodeState | None:
    """The request's waiting code, if any."""
    row = conn.execute(
        sa.select(codes_t.c.code_hash, codes_t.c.expires_at, codes_t.c.attempts).where(
            codes_t.c.request_id == request_id
        )
    ).one_or_none()
    return CodeState(row.code_hash, row.expires_at, row.attempts) if row is not None else None


def claim_code_attempt(conn: Connection, request_id: str, limit: int) -> CodeState | None:
    """Count one attempt at the request's code unless ``limit`` attempts were made: the code as
    it stands after counting, or ``None`` when there is no code or it is used up.

    One statement checks and counts (``UPDATE ... WHERE attempts < limit RETURNING``): however
    many attempts arrive at once, at most ``limit`` are ever compared with the code (on
    PostgreSQL the row lock makes each wait for the one before, then re-checks the condition).
    """
    row = conn.execute(
        codes_t.update()
        .where(codes_t.c.request_id == request_id, codes_t.c.attempts < limit)
        .values(attempts=codes_t.c.attempts + 1)
        .returning(codes_t.c.code_hash, codes_t.c.expires_at, codes_t.c.attempts)
    ).one_or_none()
    return CodeState(row.code_hash, row.expires_at, row.attempts) if row is not None else None


def delete_code(conn: Connection, request_id: str) -> None:
    conn.execute(codes_t.delete().where(codes_t.c.request_id == request_id))


# -- rate limits on sending codes ----------------------------------------------------------------


def prune_throttle(conn: Connection, before: dt.datetime) -> None:
    """Forget codes sent before ``before`` (they no longer count towards a limit)."""
    conn.execute(throttle_t.delete().where(throttle_t.c.at < before))


def count_sent(conn: Connection, key: bytes, since: dt.datetime) -> int:
    """How many codes were sent for ``key`` (a keyed hash of an address or a client) since
    ``since``."""
    sent: int = conn.execute(
        sa.select(sa.func.count())
        .select_from(throttle_t)
        .where(throttle_t.c.key == key, throttle_t.c.at >= since)
    ).scalar_one()
    return sent


def record_sent(conn: Connection, key: bytes, now: dt.datetime) -> None:
    """One code sent for ``key``, at ``now``."""
    conn.execute(throttle_t.insert().values(key=key, at=now))
