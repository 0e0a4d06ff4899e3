"""The admin console's outbox (/admin/outbox): the mail mamori sent, is sending or kept.

Staff whose role may see personal values look (``personal.view``); the recipient and the subject are
decrypted for the page only, and each look is audited with the staff member as actor and the
mails' IDs as targets (``mail.outbox.view``, ``mail.view``). On the embedded default, with no
SMTP host, this is where mail goes: staff read it here and pass it on by hand.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from mamori.app import Runtime
from mamori.errors import UserInputError
from mamori.i18n import N_
from mamori.mail.mailer import STATUSES
from mamori.staff.permissions import Permission
from mamori.store import db
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffUser, need

__all__ = ["router"]

router = APIRouter(prefix="/admin/outbox", include_in_schema=False)

# Recipients, subjects and bodies are personal values.
MailDep = Annotated[StaffUser, Depends(need(Permission.personal_view))]

PAGE = 25
"""Mails a page shows (their IDs are the targets of one audit entry: at most 32)."""

_STATUS_WORDS = (  # admin/outbox.html names a mail's status by its value (outbox.status_<status>)
    N_("outbox.status_queued"),
    N_("outbox.status_sent"),
    N_("outbox.status_failed"),
    N_("outbox.status_outbox"),
    N_("outbox.status_skipped"),
)


def _render(request: Request, **context: Any) -> HTMLResponse:
    runtime = deps.runtime(request)
    return nav.render(
        request,
        "admin/outbox.html",
        statuses=STATUSES,
        smtp=bool(runtime.settings.smtp_host),
        **context,
    )


@router.get("", response_class=HTMLResponse)
def outbox(
    request: Request, user: MailDep, status: str | None = None, page: int = 0
) -> HTMLResponse:
    """Mail, newest first, ``PAGE`` at a time; ``?status=`` filters."""
    if status == "":
        status = None
    if status is not None and status not in STATUSES:
        raise UserInputError(f"unknown mail status '{status}' (use {', '.join(STATUSES)})")
    if page < 0 or page > 10_000:
        raise UserInputError("page must be from 0 to 10000")
    runtime = deps.runtime(request)
    with db.write(runtime.engine) as conn:
        summaries = runtime.mail.summaries(conn, status=status, limit=PAGE + 1, offset=page * PAGE)
        more = len(summaries) > PAGE
        mails = runtime.mail.open_many(conn, summaries[:PAGE])
        counts = runtime.mail.counts(conn)
        runtime.audit.append(
            conn,
            actor=user.actor,
            action="mail.outbox.view",
            targets=[f"mail:{m.summary.id}" for m in mails],
            details={"status": status, "page": page, "shown": len(mails)},
        )
    return _render(
        request, mails=mails, counts=counts, status=status, page=page, more=more, mail=None
    )


@router.get("/{mail_id}", response_class=HTMLResponse)
def one_mail(request: Request, user: MailDep, mail_id: str) -> HTMLResponse:
    """One mail with its body."""
    runtime = deps.runtime(request)
    with db.write(runtime.engine) as conn:
        mail = runtime.mail.open(conn, mail_id)
        runtime.audit.append(
            conn, actor=user.actor, action="mail.view", targets=[f"mail:{mail.summary.id}"]
        )
    return _render(request, mail=mail)


def _outbox_card(conn: Any, runtime: Runtime) -> nav.Card:
    counts = runtime.mail.counts(conn)
    if counts["failed"]:
        return nav.Card(
            N_("admin.card_outbox_failed"),
            counts["failed"],
            "/admin/outbox?status=failed",
            attention=True,
        )
    waiting = counts["queued"] if runtime.settings.smtp_host else counts["outbox"]
    label = (
        N_("admin.card_outbox_queued")
        if runtime.settings.smtp_host
        else N_("admin.card_outbox_kept")
    )
    return nav.Card(label, waiting, "/admin/outbox")


nav.add(N_("admin.nav_outbox"), "/admin/outbox", order=60, permission=Permission.personal_view)
nav.add_card("mail.outbox", _outbox_card, order=60, permission=Permission.personal_view)
