"""The periodic reminder: requests falling due are mailed to the handlers, once each.

:func:`remind` marks every open request within MAMORI_REQUEST_REMINDER_DAYS of its due date
(or past it) as reminded, and mails MAMORI_REQUEST_NOTIFY_EMAIL about it, in one transaction
per request; it also closes notified requests whose download window has ended (or that have
none, a day after the notice). It is a job of the built-in parts
(:data:`mamori.app.parts.BUILT_IN`): in-process on the embedded default, Celery beat in
production.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from mamori.requests import notices, storage, store, workflow
from mamori.requests.model import Request, Status
from mamori.store import db

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext

__all__ = ["EVERY_SECONDS", "NAME", "Reminded", "remind"]

NAME: Final = "requests.reminders"
EVERY_SECONDS: Final = 15 * 60


@dataclass(frozen=True)
class Reminded:
    reminded: int
    closed: int


def remind(ctx: RequestContext) -> Reminded:
    now = ctx.clock.now()
    days = ctx.settings.request_reminder_days
    settings = ctx.settings
    # No request to take the address from here: the link must still be absolute to work in mail.
    base_url = settings.public_url or f"http://{settings.host}:{settings.port}"
    reminded = closed = 0
    for request in store_open(ctx):
        if workflow.needs_reminder(request, now, days):
            with db.write(ctx.engine) as conn:
                current = store.load(conn, request.id)
                if not workflow.needs_reminder(current, now, days):
                    continue
                storage.update(conn, request.id, now=now, reminded_at=now)
                current = replace(current, reminded_at=now)
                mail_id = notices.for_staff(ctx, conn, current, "request_reminder", base_url)
                store.audit(
                    ctx.audit,
                    conn,
                    current,
                    "remind",
                    actor="system:reminders",
                    overdue=current.overdue(now),
                    mail=mail_id,
                )
            reminded += 1
        elif request.status is Status.notified and _finished(request, now):
            with db.write(ctx.engine) as conn:
                current = store.load(conn, request.id)
                if current.status is not Status.notified:
                    continue
                storage.update(conn, request.id, now=now, status=Status.closed.value, closed_at=now)
                store.audit(ctx.audit, conn, current, "close", actor="system:reminders", auto=True)
            closed += 1
    return Reminded(reminded, closed)


def _finished(request: Request, now: dt.datetime) -> bool:
    if request.download_until is not None:
        return now > request.download_until or request.downloads_left <= 0
    return request.notified_at is not None and now > request.notified_at + dt.timedelta(days=1)


def store_open(ctx: RequestContext) -> list[Request]:
    with db.read(ctx.engine) as conn:
        return storage.open_requests(conn, limit=100_000)
