"""Breaches (漏えい等) in the admin console, under /admin/incidents (APPI 法26).

The list: every incident with its decision (reportable or not), the nearest deadline and the
days left, highlighted within MAMORI_INCIDENT_REMINDER_DAYS or overdue. The new-incident form;
an incident's page: its facts and triggers, the decision with both deadlines, the people
affected and the chooser (a list of subject ids, or from the audit log), the links to the
report draft (:mod:`.incident_report`), the reports sent, the notices, the corrective actions
and closing. ``incidents.manage`` for every change, ``registers.view`` to read. Actions answer
303 back to the page with a notice (post/redirect/get); a refused entry shows the form again
with the reason in the reader's language (400; 409 for a conflict), nothing stored. The
dashboard's card shows the open incidents and the nearest deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.anomalies import alerts
from mamori.anomalies.storage import AlertRow
from mamori.app import Runtime
from mamori.errors import Conflict, IncidentEntryInvalid, NotFound, UserInputError
from mamori.i18n import N_, Lang, t
from mamori.incidents import notices, people, register
from mamori.incidents.register import KINDS, TEXTS, Incident
from mamori.incidents.rules import Trigger
from mamori.staff.permissions import Permission
from mamori.store.db import Connection
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffUser, need, need_recent
from mamori.web.errors import status_for
from mamori.web.forms import read_form
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = APIRouter(prefix="/admin/incidents", include_in_schema=False)

ReadDep = Annotated[StaffUser, Depends(need(Permission.registers_view))]
ManageDep = Annotated[StaffUser, Depends(need(Permission.incidents_manage))]
ManageRecentDep = Annotated[StaffUser, Depends(need_recent(Permission.incidents_manage))]
"""Closing an incident and mailing the affected people: the member proves who they are again."""

_DONE = {"recorded", "updated", "people", "report", "notices", "action", "action_done", "closed"}
_HAND_TRIGGERS = (Trigger.sensitive, Trigger.financial_loss, Trigger.improper_purpose)
_WORDS = (  # keys the templates and the refusals build from codes
    N_("incident.done_recorded"),
    N_("incident.done_updated"),
    N_("incident.done_people"),
    N_("incident.done_report"),
    N_("incident.done_notices"),
    N_("incident.done_action"),
    N_("incident.done_action_done"),
    N_("incident.done_closed"),
    N_("incident.status_open"),
    N_("incident.status_reported"),
    N_("incident.status_closed"),
    N_("incident.trigger_sensitive"),
    N_("incident.trigger_financial_loss"),
    N_("incident.trigger_improper_purpose"),
    N_("incident.trigger_over_1000"),
    N_("incident.kind_preliminary"),
    N_("incident.kind_final"),
    N_("incident.bad_missing"),
    N_("incident.bad_not_a_time"),
    N_("incident.bad_not_a_date"),
    N_("incident.bad_future"),
    N_("incident.bad_before_discovery"),
    N_("incident.bad_before_awareness"),
    N_("incident.bad_before_start"),
    N_("incident.bad_not_a_number"),
    N_("incident.bad_too_long"),
    N_("incident.bad_not_plain"),
    N_("incident.bad_unknown"),
    N_("incident.bad_disabled"),
    N_("incident.bad_too_many"),
    N_("incident.bad_not_an_id"),
    N_("incident.bad_none_found"),
    N_("incident.discovered_at"),
    N_("incident.aware_at"),
    N_("incident.items"),
    N_("incident.people_estimated"),
    N_("incident.people_confirmed"),
    N_("incident.triggers"),
    N_("incident.responsible"),
    N_("incident.text_summary"),
    N_("incident.text_cause"),
    N_("incident.text_harm"),
    N_("incident.text_response"),
    N_("incident.text_publication"),
    N_("incident.text_prevention"),
    N_("incident.text_other"),
    N_("incident.texts"),
    N_("incident.subjects"),
    N_("incident.key"),
    N_("incident.since"),
    N_("incident.until"),
    N_("incident.kind"),
    N_("incident.sent_on"),
    N_("incident.action"),
    N_("incident.owner"),
    N_("incident.due_on"),
)
_CARD_NOTES = {
    "preliminary": N_("incident.card_note_preliminary"),
    "final": N_("incident.card_note_final"),
}
_CARD_LATE = {
    "preliminary": N_("incident.card_late_preliminary"),
    "final": N_("incident.card_late_final"),
}
_FIELD_WORDS = {name: f"incident.text_{name}" for name in TEXTS}


def _card(conn: Connection, runtime: Runtime) -> nav.Card | None:
    found = register.listing(runtime, open_only=True)
    if not found:
        return None
    days = runtime.settings.incident_reminder_days
    nearest = min(
        (i.next_deadline for i in found if i.next_deadline is not None),
        key=lambda d: d[2],
        default=None,
    )
    if nearest is None:
        return nav.Card(N_("incident.card"), len(found), "/admin/incidents")
    kind, due, left = nearest
    return nav.Card(
        N_("incident.card"),
        len(found),
        "/admin/incidents",
        note_key=_CARD_NOTES[kind] if left >= 0 else _CARD_LATE[kind],
        note_params={"due": due.isoformat(), "left": abs(left)},
        attention=left <= days,
    )


nav.add(
    N_("admin.nav_incidents"), "/admin/incidents", order=45, permission=Permission.registers_view
)
nav.add_card("incidents", _card, order=25, permission=Permission.registers_view)


def _lang(request: Request) -> Lang:
    return request_lang(request, strict=False)


def _common(request: Request) -> dict[str, Any]:
    runtime = deps.runtime(request)
    rules = runtime.vault.rules()
    lang = _lang(request)

    def item_label(i: str) -> str:
        return rules.items[i].label.get(lang) if i in rules.items else i

    return {
        "item_label": item_label,
        "all_items": list(rules.items),
        "sensitive_items": {i for i, item in rules.items.items() if item.sensitive},
        "hand_triggers": [tr.value for tr in _HAND_TRIGGERS],
        "texts": TEXTS,
        "kinds": KINDS,
        "staff": register.staff_members(runtime),
        "reminder_days": runtime.settings.incident_reminder_days,
        "today": runtime.vault.today(),
    }


def _message(lang: Lang, exc: UserInputError) -> str:
    if isinstance(exc, IncidentEntryInvalid) and exc.problem:
        field = t(lang, _FIELD_WORDS.get(exc.field, f"incident.{exc.field}"))
        return t(lang, f"incident.bad_{exc.problem}", field=field)
    if isinstance(exc, Conflict):
        return t(lang, "incident.conflict", reason=exc.message)
    return exc.message


@router.get("", response_class=HTMLResponse)
def listing(request: Request, user: ReadDep) -> Response:
    runtime = deps.runtime(request)
    return nav.render(
        request,
        "admin/incidents/list.html",
        incidents=register.listing(runtime),
        may_act=user.may(Permission.incidents_manage),
        **_common(request),
    )


def _new_page(
    request: Request,
    *,
    status_code: int = 200,
    error: str = "",
    submitted: Mapping[str, Any],
    alert: AlertRow | None = None,
) -> Response:
    return nav.render(
        request,
        "admin/incidents/new.html",
        status_code=status_code,
        error=error,
        submitted=submitted,
        alert=alert,
        **_common(request),
    )


def _open_alert(runtime: Runtime, alert_id: str) -> AlertRow:
    """The open alert an incident is being recorded from (``?alert=``): refused when it does
    not exist or was dismissed."""
    found = alerts.alert(runtime.vault, alert_id)
    if found.status != "open":
        raise Conflict(f"alert {alert_id} is {found.status}: record the incident without it")
    return found


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, user: ManageDep, alert: str = "") -> Response:
    """The form; from an alert (``?alert=al_...``), which the incident will be linked to."""
    if alert:
        found = _open_alert(deps.runtime(request), alert)
        return _new_page(request, submitted={"alert": found.id}, alert=found)
    return _new_page(request, submitted={})


async def _fields(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    form = await read_form(request, max_fields=200)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    lists = {
        name: [v for v in form.getlist(name) if isinstance(v, str)]
        for name in ("items", "triggers")
    }
    return fields, lists


def _facts(fields: Mapping[str, str], lists: Mapping[str, list[str]]) -> dict[str, Any]:
    return {
        "discovered_at": fields.get("discovered_at"),
        "aware_at": fields.get("aware_at"),
        "items": lists["items"],
        "people_estimated": fields.get("people_estimated"),
        "people_confirmed": fields.get("people_confirmed"),
        "encrypted": fields.get("encrypted") == "1",
        "key_leaked": fields.get("key_leaked") == "1",
        "triggers": lists["triggers"],
        "responsible": fields.get("responsible"),
        "texts": {name: fields.get(name, "") for name in TEXTS},
    }


@router.post("")
async def record(request: Request, user: ManageDep) -> Response:
    fields, lists = await _fields(request)
    runtime = deps.runtime(request)
    alert_id = fields.get("alert", "")
    try:
        if alert_id:
            await run_in_threadpool(_open_alert, runtime, alert_id)
        found = await run_in_threadpool(
            lambda: register.record(runtime, actor=user.actor, **_facts(fields, lists))
        )
        if alert_id:
            await run_in_threadpool(
                lambda: alerts.link_incident(
                    runtime.vault, actor=user.actor, alert_id=alert_id, incident_id=found.id
                )
            )
    except UserInputError as exc:
        message = _message(_lang(request), exc)
        submitted = {**fields, **lists}
        status = status_for(exc)
        return await run_in_threadpool(
            lambda: _new_page(request, status_code=status, error=message, submitted=submitted)
        )
    return _back(request, found.id, "recorded")


def _detail(
    request: Request,
    user: StaffUser,
    incident_id: str,
    *,
    status_code: int = 200,
    error: str = "",
    form: str = "",
    submitted: Mapping[str, Any] | None = None,
) -> Response:
    runtime = deps.runtime(request)
    found: Incident = register.get(runtime, incident_id)
    done = request.query_params.get("done", "")
    return nav.render(
        request,
        "admin/incidents/detail.html",
        status_code=status_code,
        i=found,
        may_act=user.may(Permission.incidents_manage),
        error=error,
        form=form,
        done=done if done in _DONE else "",
        submitted=submitted or {},
        stored=_stored(found, runtime.settings.time_zone),
        people_list=register.people_on_file(runtime, found.id),
        **_common(request),
    )


def _stored(found: Incident, zone: str) -> dict[str, Any]:
    """The incident's facts and texts as the edit form shows them (times in ``zone``)."""
    row = found.row

    def local(moment: dt.datetime) -> str:
        return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")

    return {
        "discovered_at": local(row.discovered_at),
        "aware_at": local(row.aware_at),
        "items": list(row.items),
        "people_estimated": str(row.people_estimated),
        "people_confirmed": "" if row.people_confirmed is None else str(row.people_confirmed),
        "encrypted": "1" if row.encrypted else "",
        "key_leaked": "1" if row.key_leaked else "",
        "triggers": list(row.triggers),
        "responsible": row.responsible or "",
        **found.texts,
    }


@router.get("/{incident_id}", response_class=HTMLResponse)
def detail(request: Request, incident_id: str, user: ReadDep) -> Response:
    return _detail(request, user, incident_id)


def _back(request: Request, incident_id: str, done: str) -> Response:
    url = nav.lang_url(request, f"/admin/incidents/{incident_id}", done=done)
    return RedirectResponse(url, status_code=303)


async def _act(
    request: Request,
    user: StaffUser,
    incident_id: str,
    *,
    form: str,
    done: str,
    action: Callable[[], object],
    submitted: Mapping[str, Any],
) -> Response:
    try:
        await run_in_threadpool(action)
    except UserInputError as exc:
        if isinstance(exc, NotFound) and form not in ("action_done",):
            register.get(deps.runtime(request), incident_id)  # an unknown incident: 404 page
        message = _message(_lang(request), exc)
        status = status_for(exc)
        return await run_in_threadpool(
            lambda: _detail(
                request,
                user,
                incident_id,
                status_code=status,
                error=message,
                form=form,
                submitted=submitted,
            )
        )
    return _back(request, incident_id, done)


@router.post("/{incident_id}")
async def update(request: Request, incident_id: str, user: ManageDep) -> Response:
    fields, lists = await _fields(request)
    runtime = deps.runtime(request)
    return await _act(
        request,
        user,
        incident_id,
        form="edit",
        done="updated",
        action=lambda: register.update(
            runtime, incident_id, actor=user.actor, **_facts(fields, lists)
        ),
        submitted={**fields, **lists},
    )


@router.post("/{incident_id}/people")
async def choose_people(request: Request, incident_id: str, user: ManageDep) -> Response:
    fields, _ = await _fields(request)
    runtime = deps.runtime(request)
    return await _act(
        request,
        user,
        incident_id,
        form="people",
        done="people",
        action=lambda: people.choose(
            runtime, incident_id, actor=user.actor, subject_ids=fields.get("subjects", "")
        ),
        submitted=fields,
    )


@router.post("/{incident_id}/people/audit")
async def people_from_audit(request: Request, incident_id: str, user: ManageDep) -> Response:
    fields, lists = await _fields(request)
    runtime = deps.runtime(request)
    return await _act(
        request,
        user,
        incident_id,
        form="audit",
        done="people",
        action=lambda: people.from_audit(
            runtime,
            incident_id,
            actor=user.actor,
            key=fields.get("key"),
            items=lists["items"],
            since=fields.get("since"),
            until=fields.get("until"),
        ),
        submitted={**fields, **lists},
    )


@router.post("/{incident_id}/reports")
async def mark_report(request: Request, incident_id: str, user: ManageDep) -> Response:
    fields, _ = await _fields(request)
    runtime = deps.runtime(request)
    return await _act(
        request,
        user,
        incident_id,
        form="report",
        done="report",
        action=lambda: register.mark_report(
            runtime,
            incident_id,
            actor=user.actor,
            kind=fields.get("kind", ""),
            sent_on=fields.get("sent_on"),
        ),
        submitted=fields,
    )


@router.post("/{incident_id}/notices")
async def send_notices(request: Request, incident_id: str, user: ManageRecentDep) -> Response:
    runtime = deps.runtime(request)
    return await _act(
        request,
        user,
        incident_id,
        form="notices",
        done="notices",
        action=lambda: notices.send_notices(runtime, incident_id, actor=user.actor),
        submitted={},
    )


@router.post("/{incident_id}/actions")
async def add_action(request: Request, incident_id: str, user: ManageDep) -> Response:
    fields, _ = await _fields(request)
    runtime = deps.runtime(request)
    return await _act(
        request,
        user,
        incident_id,
        form="action",
        done="action",
        action=lambda: register.add_action(
            runtime,
            incident_id,
            actor=user.actor,
            text=fields.get("action"),
            owner=fields.get("owner"),
            due_on=fields.get("due_on"),
        ),
        submitted=fields,
    )


@router.post("/{incident_id}/actions/{action_id}/done")
async def complete_action(
    request: Request, incident_id: str, action_id: str, user: ManageDep
) -> Response:
    runtime = deps.runtime(request)
    return await _act(
        request,
        user,
        incident_id,
        form="action_done",
        done="action_done",
        action=lambda: register.complete_action(runtime, incident_id, action_id, actor=user.actor),
        submitted={},
    )


@router.post("/{incident_id}/close")
async def close(request: Request, incident_id: str, user: ManageRecentDep) -> Response:
    runtime = deps.runtime(request)
    return await _act(
        request,
        user,
        incident_id,
        form="close",
        done="closed",
        action=lambda: register.close(runtime, incident_id, actor=user.actor),
        submitted={},
    )
