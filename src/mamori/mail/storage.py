"""The mail package's queries and engine hooks: the outbox (``mail_outbox``), the opt-outs
(``mail_optouts``), and the commit and check-in events that hand queued mail to the dispatchers.

Every query runs on the caller's connection, inside its transaction (:func:`mamori.store.db.
write` or :func:`~mamori.store.db.read`), and returns plain values or frozen rows. Recipients
and contents arrive and leave encrypted: nothing here sees an address or a mail's text. Audit
entries are not written here: the caller appends them through :class:`mamori.audit.log.AuditLog`
in the same transaction.

Mail queued for SMTP delivery is handed on only once its transaction has committed: the IDs
wait in the connection's record (:func:`hold_until_commit`); SQLAlchemy's ``commit`` event moves
them to the committed list and ``rollback`` drops them; when the pool takes the connection back
(``checkin``) a :class:`CommitWatch` passes them on. This is engine plumbing rather than a query,
kept here so that only this module of the package imports SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mamori.store import tables

__all__ = [
    "CommitWatch",
    "Deliverable",
    "MailSummary",
    "NewMail",
    "StoredMail",
    "address_opted_out",
    "claim",
    "count_by_status",
    "delete_mail_of",
    "delete_optout",
    "deliverable",
    "due",
    "existing_ids",
    "find_mail",
    "find_summary",
    "hold_until_commit",
    "insert_mail",
    "insert_optout",
    "mark_failed",
    "mark_sent",
    "opted_out",
    "opted_out_among",
    "purge_finished",
    "schedule_retry",
    "sent_attempts",
    "summaries",
    "unlink_optouts",
]

outbox_t = tables.mail_outbox
optouts_t = tables.mail_optouts

_PENDING: Final = "mamori_mail_pending"
_COMMITTED: Final = "mamori_mail_committed"


@dataclass(frozen=True)
class MailSummary:
    """An outbox row without its encrypted parts."""

    id: str
    template: str
    language: str
    subject_id: str | None
    marketing: bool
    status: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True)
class NewMail:
    """What every new outbox row records in clear, whatever becomes of the mail."""

    mail_id: str
    template: str
    language: str
    subject_id: str | None
    marketing: bool
    to_hash: bytes
    created_at: dt.datetime


@dataclass(frozen=True)
class StoredMail:
    """An outbox row with its encrypted parts (both ``None`` for a skipped mail)."""

    summary: MailSummary
    to_ciphertext: bytes | None
    content_ciphertext: bytes | None


@dataclass(frozen=True)
class Deliverable:
    """What sending a queued mail needs: its encrypted recipient and content (a queued mail
    always holds both) and when it was queued (the message's date)."""

    id: str
    to_ciphertext: bytes
    content_ciphertext: bytes
    created_at: dt.datetime


_SUMMARY_COLUMNS = [
    outbox_t.c[name]
    for name in (
        "id",
        "template",
        "language",
        "subject_id",
        "marketing",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "finished_at",
    )
]


def _summary(row: Any) -> MailSummary:
    return MailSummary(
        id=row.id,
        template=row.template,
        language=row.language,
        subject_id=row.subject_id,
        marketing=bool(row.marketing),
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        finished_at=row.finished_at,
    )


# -- queueing ------------------------------------------------------------------------------------


def insert_mail(
    conn: Connection,
    mail: NewMail,
    *,
    status: str,
    to_ciphertext: bytes | None,
    content_ciphertext: bytes | None,
    finished_at: dt.datetime | None,
) -> None:
    """Write one outbox row: never attempted, due when it was created."""
    conn.execute(
        outbox_t.insert().values(
            id=mail.mail_id,
            template=mail.template,
            language=mail.language,
            subject_id=mail.subject_id,
            marketing=mail.marketing,
            to_hash=mail.to_hash,
            attempts=0,
            last_error=None,
            created_at=mail.created_at,
            next_attempt_at=mail.created_at,
            status=status,
            to_ciphertext=to_ciphertext,
            content_ciphertext=content_ciphertext,
            finished_at=finished_at,
        )
    )


def hold_until_commit(conn: Connection, mail_id: str) -> None:
    """Hand ``mail_id`` to the dispatchers once ``conn``'s transaction has committed."""
    conn.info.setdefault(_PENDING, []).append(mail_id)


# -- delivery ------------------------------------------------------------------------------------


def existing_ids(conn: Connection, mail_ids: Collection[str]) -> set[str]:
    """Those of ``mail_ids`` that are in the outbox (as this transaction sees it)."""
    return set(
        conn.execute(sa.select(outbox_t.c.id).where(outbox_t.c.id.in_(mail_ids))).scalars().all()
    )


def due(conn: Connection, now: dt.datetime, limit: int) -> list[tuple[str, dt.datetime]]:
    """(id, next attempt) of up to ``limit`` queued mails due at ``now``, the longest due first."""
    rows = conn.execute(
        sa.select(outbox_t.c.id, outbox_t.c.next_attempt_at)
        .where(outbox_t.c.status == "queued", outbox_t.c.next_attempt_at <= now)
        .order_by(outbox_t.c.next_attempt_at, outbox_t.c.id)
        .limit(limit)
    ).all()
    return [(row.id, row.next_attempt_at) for row in rows]


def claim(conn: Connection, mail_id: str, at: dt.datetime, lease: dt.datetime) -> bool:
    """Move a queued mail's next attempt from ``at`` to ``lease``; whether this call won it (one
    statement, so of several workers that saw it due only one does)."""
    return bool(
        conn.execute(
            outbox_t.update()
            .where(
                outbox_t.c.id == mail_id,
                outbox_t.c.status == "queued",
                outbox_t.c.next_attempt_at == at,
            )
            .values(next_attempt_at=lease)
        ).rowcount
    )


def deliverable(conn: Connection, mail_ids: Collection[str]) -> list[Deliverable]:
    """The encrypted parts of the mails of ``mail_ids`` (claimed queued mail)."""
    rows = conn.execute(
        sa.select(
            outbox_t.c.id,
            outbox_t.c.to_ciphertext,
            outbox_t.c.content_ciphertext,
            outbox_t.c.created_at,
        ).where(outbox_t.c.id.in_(mail_ids))
    ).all()
    return [
        Deliverable(row.id, row.to_ciphertext, row.content_ciphertext, row.created_at)
        for row in rows
    ]


def sent_attempts(conn: Connection, mail_id: str) -> int:
    """How many delivery attempts the mail has had."""
    attempts: int = conn.execute(
        sa.select(outbox_t.c.attempts).where(outbox_t.c.id == mail_id)
    ).scalar_one()
    return attempts


def mark_sent(conn: Connection, mail_id: str, *, attempts: int, now: dt.datetime) -> None:
    conn.execute(
        outbox_t.update()
        .where(outbox_t.c.id == mail_id)
        .values(attempts=attempts, status="sent", finished_at=now, last_error=None)
    )


def mark_failed(
    conn: Connection, mail_id: str, *, attempts: int, now: dt.datetime, error: str | None
) -> None:
    """No more attempts; ``error`` is the type of the last error, never its text."""
    conn.execute(
        outbox_t.update()
        .where(outbox_t.c.id == mail_id)
        .values(attempts=attempts, status="failed", finished_at=now, last_error=error)
    )


def schedule_retry(
    conn: Connection, mail_id: str, *, attempts: int, at: dt.datetime, error: str | None
) -> None:
    """The mail stays queued, next tried at ``at``; ``error`` as for :func:`mark_failed`."""
    conn.execute(
        outbox_t.update()
        .where(outbox_t.c.id == mail_id)
        .values(attempts=attempts, next_attempt_at=at, last_error=error)
    )


def delete_mail_of(conn: Connection, subject_id: str) -> int:
    """Withdrawal: every mail to the person, sent or waiting (its address and content go with
    it; the audit log keeps the mail's id). The count."""
    return int(conn.execute(outbox_t.delete().where(outbox_t.c.subject_id == subject_id)).rowcount)


def unlink_optouts(conn: Connection, subject_id: str) -> int:
    """Withdrawal: the person's opt-outs stay (as keyed hashes of the addresses, so that no
    marketing mail goes to them again) but no longer name the person. The count."""
    return int(
        conn.execute(
            optouts_t.update().where(optouts_t.c.subject_id == subject_id).values(subject_id=None)
        ).rowcount
    )


def purge_finished(conn: Connection, before: dt.datetime) -> int:
    """Delete mail created before ``before`` (queued mail never); how many were deleted."""
    deleted: int = conn.execute(
        outbox_t.delete().where(outbox_t.c.status != "queued", outbox_t.c.created_at < before)
    ).rowcount
    return deleted


# -- reading the outbox --------------------------------------------------------------------------


def summaries(
    conn: Connection, *, status: str | None, limit: int, offset: int
) -> list[MailSummary]:
    """Outbox rows (of ``status``, or all), newest first."""
    query = sa.select(*_SUMMARY_COLUMNS).order_by(
        outbox_t.c.created_at.desc(), outbox_t.c.id.desc()
    )
    if status is not None:
        query = query.where(outbox_t.c.status == status)
    return [_summary(r) for r in conn.execute(query.limit(limit).offset(offset))]


def find_summary(conn: Connection, mail_id: str) -> MailSummary | None:
    row = conn.execute(sa.select(*_SUMMARY_COLUMNS).where(outbox_t.c.id == mail_id)).one_or_none()
    return _summary(row) if row is not None else None


def find_mail(conn: Connection, mail_id: str) -> StoredMail | None:
    row = conn.execute(
        sa.select(*_SUMMARY_COLUMNS, outbox_t.c.to_ciphertext, outbox_t.c.content_ciphertext).where(
            outbox_t.c.id == mail_id
        )
    ).one_or_none()
    if row is None:
        return None
    return StoredMail(_summary(row), row.to_ciphertext, row.content_ciphertext)


def count_by_status(conn: Connection) -> dict[str, int]:
    """status -> how many outbox rows have it (statuses no row has are left out)."""
    rows = conn.execute(
        sa.select(outbox_t.c.status, sa.func.count()).group_by(outbox_t.c.status)
    ).all()
    return {status: int(n) for status, n in rows}


# -- opt-outs ------------------------------------------------------------------------------------


def opted_out(conn: Connection, address_hash: bytes, subject_id: str | None) -> bool:
    """Whether the address, or the person (when given), opted out of marketing mail."""
    match = optouts_t.c.address_hash == address_hash
    if subject_id is not None:
        match = sa.or_(match, optouts_t.c.subject_id == subject_id)
    return conn.execute(sa.select(sa.literal(1)).where(match).limit(1)).first() is not None


def address_opted_out(conn: Connection, address_hash: bytes) -> bool:
    """Whether the address opted out of marketing mail."""
    return (
        conn.execute(
            sa.select(sa.literal(1)).where(optouts_t.c.address_hash == address_hash)
        ).first()
        is not None
    )


def opted_out_among(conn: Connection, hashes: Collection[bytes]) -> set[bytes]:
    """Those of the address hashes ``hashes`` that opted out (one query)."""
    rows = conn.execute(
        sa.select(optouts_t.c.address_hash).where(optouts_t.c.address_hash.in_(hashes))
    ).scalars()
    return set(rows)


def insert_optout(
    conn: Connection,
    *,
    address_hash: bytes,
    subject_id: str | None,
    source: str,
    now: dt.datetime,
) -> bool:
    """Record the address's opt-out unless it is recorded; whether this call recorded it (two
    clicks at once: one inserts, the other finds it there)."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    added = conn.execute(
        insert(optouts_t)
        .values(address_hash=address_hash, subject_id=subject_id, source=source, created_at=now)
        .on_conflict_do_nothing(index_elements=["address_hash"])
        .returning(optouts_t.c.address_hash)
    ).first()
    return added is not None


def delete_optout(conn: Connection, address_hash: bytes) -> bool:
    """Remove the address's opt-out; whether there was one."""
    return bool(
        conn.execute(optouts_t.delete().where(optouts_t.c.address_hash == address_hash)).rowcount
    )


# -- handing queued mail on after commit ----------------------------------------------------------


class CommitWatch:
    """Calls ``hand_over(mail_ids)`` when a connection whose committed transaction queued mail
    (:func:`hold_until_commit`) goes back to ``engine``'s pool; :meth:`close` stops it."""

    def __init__(self, engine: Engine, hand_over: Callable[[Sequence[str]], None]) -> None:
        self.engine = engine
        self._hand_over = hand_over
        event.listen(engine, "commit", _on_commit)
        event.listen(engine, "rollback", _on_rollback)
        # A disposed engine's new pool keeps the old one's listeners: remove them from that one.
        self._pool = engine.pool
        event.listen(self._pool, "checkin", self._on_checkin)

    def close(self) -> None:
        with contextlib.suppress(sa.exc.InvalidRequestError):  # closed twice
            event.remove(self._pool, "checkin", self._on_checkin)
        if event.contains(self.engine, "commit", _on_commit):
            event.remove(self.engine, "commit", _on_commit)
            event.remove(self.engine, "rollback", _on_rollback)

    def _on_checkin(self, _dbapi_connection: Any, record: Any) -> None:
        # The pool takes the connection back after its transaction ended: what was queued in a
        # committed transaction is in the database now, for any worker to see.
        ids = record.info.pop(_COMMITTED, None) if record is not None else None
        if ids:
            self._hand_over(ids)


# The queued IDs wait in the connection's record until its transaction ends: a commit moves
# them to the list the pool's checkin hands to the dispatchers, a rollback drops them.


def _on_commit(conn: Connection) -> None:
    pending = conn.info.pop(_PENDING, None)
    if pending:
        conn.info.setdefault(_COMMITTED, []).extend(pending)


def _on_rollback(conn: Connection) -> None:
    conn.info.pop(_PENDING, None)
