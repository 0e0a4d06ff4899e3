"""Alerts of access anomalies in the admin console, under /admin/alerts (issue 12, part 5).

The list: the newest alerts of a status (``?status=open`` by default, ``dismissed``,
``incident``, ``all``), each with its rule explained in words, the actor, the window in the
operator's time zone and the evidence: entry numbers linking into the audit log
(``/admin/audit?before=SEQ+1`` shows entry SEQ first). Reading needs ``audit.view``; dismissing
with a reason (a closed list of codes and an optional note, sealed) and turning an alert into an
incident (a link to ``/admin/incidents/new?alert=ID``) need ``incidents.manage``. A refused
dismissal shows the list again with the reason (400; 404 for an unknown alert, 409 for one not
open), nothing stored. The dashboard's card counts the open alerts, highlighted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.anomalies import alerts
from mamori.anomalies.storage import count_open
from mamori.app import Runtime
from mamori.errors import Conflict, NotFound, UserInputError
from mamori.i18n import N_, t
from mamori.staff.permissions import Permission
from mamori.store.db import Connection
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffUser, need
from mamori.web.errors import status_for
from mamori.web.forms import read_form
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = APIRouter(prefix="/admin/alerts", include_in_schema=False)

ReadDep = Annotated[StaffUser, Depends(need(Permission.audit_view))]
ManageDep = Annotated[StaffUser, Depends(need(Permission.incidents_manage))]

_FILTERS = ("open", "dismissed", "incident", "all")
_WORDS = (  # keys the template builds from codes
    N_("alert.rule_volume"),
    N_("alert.rule_hours"),
    N_("alert.rule_refusals"),
    N_("alert.rule_exports"),
    N_("alert.rule_new_client"),
    N_("alert.explain_volume"),
    N_("alert.explain_hours"),
    N_("alert.explain_refusals"),
    N_("alert.explain_exports"),
    N_("alert.explain_new_client"),
    N_("alert.status_open"),
    N_("alert.status_dismissed"),
    N_("alert.status_incident"),
    N_("alert.status_all"),
    N_("alert.reason_expected_work"),
    N_("alert.reason_known_batch"),
    N_("alert.reason_false_positive"),
    N_("alert.reason_test"),
    N_("alert.reason_other"),
)


def _card(conn: Connection, runtime: Runtime) -> nav.Card:
    count = count_open(conn)
    return nav.Card(
        N_("alert.card"),
        count,
        "/admin/alerts",
        note_key=N_("alert.card_note"),
        attention=count > 0,
    )


nav.add(N_("admin.nav_alerts"), "/admin/alerts", order=85, permission=Permission.audit_view)
nav.add_card("alerts", _card, order=20, permission=Permission.audit_view)


def _page(
    request: Request,
    user: StaffUser,
    *,
    status_code: int = 200,
    error: str = "",
    failed: str = "",
) -> Response:
    vault = deps.runtime(request).vault
    shown = request.query_params.get("status", "open")
    if shown not in _FILTERS:
        shown = "open"
    found = alerts.alerts(vault, None if shown == "all" else shown)
    notes = {a.id: alerts.note_of(vault, a) for a in found if a.note is not None}
    done = request.query_params.get("done", "")
    return nav.render(
        request,
        "admin/alerts.html",
        status_code=status_code,
        alerts=found,
        notes=notes,
        shown=shown,
        filters=_FILTERS,
        reasons=list(alerts.Reason),
        may_act=user.may(Permission.incidents_manage),
        error=error,
        failed=failed,
        done=done if done == "dismissed" else "",
        window_minutes=deps.settings(request).anomaly_window_minutes,
    )


def _message(request: Request, exc: UserInputError) -> str:
    """The refusal in the reader's language (the domain's messages are English)."""
    lang = request_lang(request, strict=False)
    if isinstance(exc, Conflict):
        return t(lang, "alert.bad_not_open")
    if exc.message.startswith("reason:"):
        return t(lang, "alert.bad_reason")
    return t(lang, "alert.bad_note")


@router.get("", response_class=HTMLResponse)
def listing(request: Request, user: ReadDep) -> Response:
    return _page(request, user)


@router.post("/{alert_id}/dismiss")
async def dismiss(request: Request, alert_id: str, user: ManageDep) -> Response:
    form = await read_form(request, max_fields=10)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    vault = deps.runtime(request).vault
    try:
        await run_in_threadpool(
            lambda: alerts.dismiss(
                vault,
                actor=user.actor,
                alert_id=alert_id,
                reason=fields.get("reason", ""),
                note=fields.get("note"),
            )
        )
    except UserInputError as exc:
        if isinstance(exc, NotFound):
            raise
        message = _message(request, exc)
        status = status_for(exc)
        return await run_in_threadpool(
            lambda: _page(request, user, status_code=status, error=message, failed=alert_id)
        )
    url = nav.lang_url(request, "/admin/alerts", done="dismissed")
    return RedirectResponse(url, status_code=303)
