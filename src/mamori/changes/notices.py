"""Change notices by e-mail: every person with an e-mail address hears of a change, in batches.

A published change that people must be told of (``notify`` or ``consent_required``) is sent to
every person who was there before it and holds an item of kind ``email``. The periodic job
``policy_changes.notices`` (on the task queue: Celery in production, in-process on the embedded
default) sends the next batches: each batch is one transaction that decrypts the addresses,
queues one mail per person through the mailer (delivered after commit) and moves the
change's cursor past the batch, with one audit entry (ids and counts only). A batch that fails
rolls back whole, so a person is never skipped and never mailed twice by the job; several
processes running the job are serialised by the policy lock.

The notice is a legal notice (APPI 法21(3), seed §12), not marketing: it is sent whatever the
person's mail opt-outs. The privacy center shows the same change until the person reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.errors import InvalidValue
from mamori.policy.model import ValueKind
from mamori.publication import records
from mamori.publication.records import ChangeRecord, changes_t
from mamori.store import db, tables
from mamori.vault import crypto

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from mamori.audit.log import AuditLog
    from mamori.clock import Clock
    from mamori.config import Settings
    from mamori.mail.mailer import Mailer
    from mamori.publication.current import PublishedPolicy
    from mamori.vault.crypto import MasterKeySource

__all__ = ["JOB", "TEMPLATE", "NoticeContext", "send_notices"]

JOB = "policy_changes.notices"
TEMPLATE = "policy_change"
BATCH = 200
"""People per transaction."""

subjects_t = tables.subjects
items_t = tables.subject_items


class NoticeContext(Protocol):
    """What sending change notices needs (the application's runtime satisfies it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def keys(self) -> MasterKeySource: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def mail(self) -> Mailer: ...

    @property
    def published(self) -> PublishedPolicy: ...


def _context(ctx: NoticeContext, change: ChangeRecord, lang: str) -> dict[str, str]:
    public = (ctx.settings.public_url or "").rstrip("/")
    return {
        "version": str(change.version),
        "published": change.published_at.strftime("%Y-%m-%d"),
        "changes": "\n".join(f"- {line}" for line in change.explain(lang)),
        "consent": "yes" if change.needs_consent else "",
        "policy_url": f"{public}/privacy/versions/{change.version}?lang={lang}",
    }


def _batch(ctx: NoticeContext, conn: Connection, change: ChangeRecord, size: int) -> int | None:
    """Queue the next batch of notices of ``change``; the number queued, None when done."""
    db.lock(conn, "policy")
    state = conn.execute(
        sa.select(changes_t.c.notices_after, changes_t.c.notices_done_at).where(
            changes_t.c.version == change.version
        )
    ).one()
    if state.notices_done_at is not None:
        return None
    people = conn.execute(
        sa.select(subjects_t.c.id, subjects_t.c.wrapped_key)
        .where(
            subjects_t.c.status == "active",
            subjects_t.c.created_at < change.published_at,
            subjects_t.c.id > state.notices_after,
        )
        .order_by(subjects_t.c.id)
        .limit(size)
    ).all()
    now = ctx.clock.now()
    if not people:
        conn.execute(
            changes_t.update()
            .where(changes_t.c.version == change.version)
            .values(notices_done_at=now)
        )
        return None
    rules = ctx.published.rules()
    email_items = [i.id for i in rules.items.values() if i.kind is ValueKind.email]
    keys = {p.id: p.wrapped_key for p in people}
    rows = conn.execute(
        sa.select(items_t.c.subject_id, items_t.c.item_id, items_t.c.ciphertext)
        .where(items_t.c.subject_id.in_(list(keys)), items_t.c.item_id.in_(email_items))
        .order_by(items_t.c.subject_id, items_t.c.item_id)
    ).all()
    lang = ctx.settings.default_language
    context = _context(ctx, change, lang)
    queued, invalid, mailed = 0, 0, set()
    for row in rows:
        wrapped = keys[row.subject_id]
        if row.subject_id in mailed or wrapped is None:
            continue  # one notice per person, to their first address
        data_key = crypto.unwrap_key(ctx.keys, wrapped, context=f"subject:{row.subject_id}")
        address = orjson.loads(
            crypto.decrypt(data_key, row.ciphertext, subject_id=row.subject_id, item_id=row.item_id)
        )
        try:
            ctx.mail.queue(
                conn,
                to=str(address),
                template=TEMPLATE,
                language=lang,
                context=context,
                subject_id=row.subject_id,
            )
        except InvalidValue:
            invalid += 1
            continue
        mailed.add(row.subject_id)
        queued += 1
    conn.execute(
        changes_t.update()
        .where(changes_t.c.version == change.version)
        .values(
            notices_after=people[-1].id,
            notices_queued=changes_t.c.notices_queued + queued,
        )
    )
    ctx.audit.append(
        conn,
        actor="system:policy-notices",
        action="policy_change.notices",
        targets=[f"policy_version:{change.version}"],
        details={"people": len(people), "queued": queued, "invalid_address": invalid},
    )
    return queued


def send_notices(ctx: NoticeContext, *, batch: int = BATCH, max_batches: int = 50) -> int:
    """Queue the next notices of every change still being announced; how many were queued.

    At most ``max_batches`` transactions per call, so that one run of the job stays short; the
    next run continues where this one stopped.
    """
    total = 0
    done_batches = 0
    for change in records.records(ctx.engine):
        if change.notices_done_at is not None or not change.needs_notice:
            continue
        while done_batches < max_batches:
            with db.write(ctx.engine) as conn:
                queued = _batch(ctx, conn, change, batch)
            done_batches += 1
            if queued is None:
                break
            total += queued
    return total
