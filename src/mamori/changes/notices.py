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

from mamori.clock import local_date
from mamori.errors import InvalidValue
from mamori.policy.model import ValueKind
from mamori.publication import records
from mamori.publication import storage as publication
from mamori.publication.records import ChangeRecord
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault import crypto
from mamori.vault.storage import subjects

if TYPE_CHECKING:
    from mamori.audit.log import AuditLog
    from mamori.clock import Clock
    from mamori.config import Settings
    from mamori.mail.mailer import Mailer
    from mamori.publication.current import PublishedPolicy
    from mamori.store.db import Engine
    from mamori.vault.core import Vault

__all__ = ["JOB", "TEMPLATE", "NoticeContext", "send_notices"]

JOB = "policy_changes.notices"
TEMPLATE = "policy_change"
BATCH = 200
"""People per transaction."""


class NoticeContext(Protocol):
    """What sending change notices needs (the application's runtime satisfies it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def vault(self) -> Vault: ...

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
        "published": local_date(change.published_at, ctx.settings.time_zone).isoformat(),
        "changes": "\n".join(f"- {line}" for line in change.explain(lang)),
        "consent": "yes" if change.needs_consent else "",
        "policy_url": f"{public}/privacy/versions/{change.version}?lang={lang}",
    }


def _batch(ctx: NoticeContext, conn: Connection, change: ChangeRecord, size: int) -> int | None:
    """Queue the next batch of notices of ``change``; the number queued, None when done."""
    db.lock(conn, "policy")
    cursor = publication.notices_cursor(conn, change.version)
    if cursor.done_at is not None:
        return None
    people = subjects.people_before(
        conn, before=change.published_at, after_id=cursor.after, limit=size
    )
    now = ctx.clock.now()
    if not people:
        publication.finish_notices(conn, change.version, now)
        return None
    rules = ctx.published.rules()
    email_items = [i.id for i in rules.items.values() if i.kind is ValueKind.email]
    lang = ctx.settings.default_language
    context = _context(ctx, change, lang)
    held = subjects.items_of_people(conn, [p for p, _ in people], email_items)
    queued, invalid = 0, 0
    for subject_id, wrapped in people:
        addresses = held.get(subject_id)
        if wrapped is None or not addresses:
            continue
        data_key = ctx.vault.data_key(subject_id, wrapped)
        for item in addresses:
            address = orjson.loads(
                crypto.decrypt(
                    data_key, item.ciphertext, subject_id=subject_id, item_id=item.item_id
                )
            )
            try:
                ctx.mail.queue(
                    conn,
                    to=str(address),
                    template=TEMPLATE,
                    language=lang,
                    context=context,
                    subject_id=subject_id,
                )
            except InvalidValue:
                invalid += 1
                continue
            queued += 1
            break  # one notice per person, to their first address
    publication.advance_notices(conn, change.version, after=people[-1][0], queued=queued)
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
