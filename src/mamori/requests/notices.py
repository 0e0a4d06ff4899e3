"""Mail about requests: codes, receipts, decisions, answers and reminders, in ja or en.

Every mail is queued through the mailer inside the caller's write transaction, so a
decision and its notice commit together; delivery happens after commit. Templates are
``request_*.txt`` in :mod:`mamori.mail`'s template folder, their words in the catalogs
(operators may override them per language, :mod:`mamori.mail.templates`).
Contexts hold strings only, and every template receives every key it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mamori.clock import local_date, local_text
from mamori.mail.templates import Rendered
from mamori.requests import labels
from mamori.requests.model import Delivery, Outcome, Request, RequestType
from mamori.store.db import Connection

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext

__all__ = ["code", "decided", "for_staff", "preview", "received", "request_link"]


def _operator(ctx: RequestContext, lang: str) -> str:
    return ctx.published.current().policy.operator.name.get(lang)


def request_link(base_url: str, request: Request) -> str:
    return f"{base_url.rstrip('/')}/center/requests/{request.id}?lang={request.language}"


def _full(
    ctx: RequestContext, request: Request, context: dict[str, str], lang: str
) -> dict[str, str]:
    return {
        "operator": _operator(ctx, lang),
        "request_id": request.reference,
        "type": labels.label(labels.TYPES, request.type, lang),
        **context,
    }


def _queue(
    ctx: RequestContext,
    conn: Connection,
    request: Request,
    template: str,
    to: str,
    context: dict[str, str],
    *,
    language: str | None = None,
    secret: tuple[str, ...] = (),
) -> str:
    lang = language or request.language
    mail_id: str = ctx.mail.queue(
        conn,
        to=to,
        template=template,
        language=lang,
        context=_full(ctx, request, context, lang),
        subject_id=request.subject_id if to != ctx.settings.request_notify_email else None,
        secret=secret,
    )
    return mail_id


def code(
    ctx: RequestContext, conn: Connection, request: Request, to: str, value: str, base_url: str
) -> str:
    return _queue(
        ctx,
        conn,
        request,
        "request_code",
        to,
        {"code": value, "minutes": "10", "link": request_link(base_url, request)},
        secret=("code",),  # staff never see a live code in the outbox
    )


def received(
    ctx: RequestContext, conn: Connection, request: Request, to: str, base_url: str
) -> str:
    return _queue(
        ctx,
        conn,
        request,
        "request_received",
        to,
        {
            "due": local_date(request.due_at, ctx.settings.time_zone).isoformat(),
            "link": request_link(base_url, request),
        },
    )


def _decided(
    ctx: RequestContext,
    request: Request,
    reason: str,
    base_url: str,
    stop_places: Sequence[str] = (),
) -> tuple[str, dict[str, str]]:
    """The template and context of the notice of a decision (an answer, for an inquiry);
    ``stop_places``: the connected datasets where the host honours a granted stop."""
    if request.type is RequestType.inquiry:
        return "request_answer", {"answer": reason}
    lang = request.language
    granted = request.type is RequestType.disclosure and request.outcome in (
        Outcome.fulfilled,
        Outcome.partly_fulfilled,
    )
    download = (
        granted and request.delivery is Delivery.electronic and request.download_until is not None
    )
    return "request_decided", {
        "outcome": request.outcome.value if request.outcome else "",
        "outcome_label": labels.label(labels.OUTCOMES, request.outcome, lang),
        "reason": reason,
        "substitute": "yes" if request.substitute else "",
        "download": "yes" if download else "",
        "download_until": (
            local_text(request.download_until, ctx.settings.time_zone)
            if request.download_until
            else ""
        ),
        "downloads": str(request.downloads_left),
        "post": "yes" if granted and request.delivery is Delivery.post else "",
        "stop_places": ", ".join(stop_places),
        "link": request_link(base_url, request),
    }


def decided(
    ctx: RequestContext,
    conn: Connection,
    request: Request,
    to: str,
    reason: str,
    base_url: str,
    *,
    stop_places: Sequence[str] = (),
) -> str:
    """Queue the notice of the decision on ``request`` (the answer, for an inquiry)."""
    template, context = _decided(ctx, request, reason, base_url, stop_places)
    return _queue(ctx, conn, request, template, to, context)


def preview(
    ctx: RequestContext,
    request: Request,
    reason: str,
    base_url: str,
    *,
    stop_places: Sequence[str] = (),
) -> Rendered:
    """The notice :func:`decided` would queue for ``request`` (as decided), rendered, for
    staff to read before they send it."""
    template, context = _decided(ctx, request, reason, base_url, stop_places)
    lang = request.language
    return ctx.mail.templates.render(template, lang, _full(ctx, request, context, lang))


def for_staff(
    ctx: RequestContext, conn: Connection, request: Request, template: str, base_url: str
) -> str | None:
    """``request_new`` or ``request_reminder`` to MAMORI_REQUEST_NOTIFY_EMAIL, if set."""
    to = ctx.settings.request_notify_email
    if not to:
        return None
    lang = ctx.settings.default_language
    return _queue(
        ctx,
        conn,
        request,
        template,
        to,
        {
            "due": local_date(request.due_at, ctx.settings.time_zone).isoformat(),
            "link": f"{base_url.rstrip('/')}/admin/requests/{request.id}",
        },
        language=lang,
    )
