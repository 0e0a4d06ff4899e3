"""People's requests in the admin console, under /admin/requests.

The queue (by due date, overdue ones highlighted), a request's page (identity evidence, the
agent's proof, the person's details; opening it is audited), and the actions of a handler:
start the review, decide (a refusal, a partial fulfilment or a substitute measure will not
save without a reason), answer an inquiry by e-mail, close. Viewers read only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from mamori.app import Runtime
from mamori.clock import local_date
from mamori.errors import NotFound, ReasonRequired, UserInputError
from mamori.i18n import N_, t
from mamori.requests import casework, desk, labels, service
from mamori.requests.model import Outcome, RequestType, Status
from mamori.requests.store import SealKeys
from mamori.requests.workflow import Decision
from mamori.staff import StaffAccount
from mamori.staff.permissions import PERMISSIONS, Permission
from mamori.store import db
from mamori.store.db import Connection
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffUser, ViewerDep, directory, need, need_recent
from mamori.web.forms import read_form
from mamori.web.i18n import Lang
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = APIRouter(prefix="/admin/requests", include_in_schema=False)

ExportDep = Annotated[StaffUser, Depends(need_recent(Permission.registers_export))]
ProofDep = Annotated[StaffUser, Depends(need(Permission.personal_view))]
WorkDep = Annotated[StaffUser, Depends(need(Permission.requests_work))]
DecideDep = Annotated[StaffUser, Depends(need(Permission.requests_decide))]


def _actor(user: StaffUser) -> str:
    return f"staff:{user.id}"


def _base_url(request: Request) -> str:
    return deps.runtime(request).settings.public_url or str(request.base_url).rstrip("/")


def _lang(request: Request) -> Lang:
    return request_lang(request, strict=False)


def _soon_days(runtime: Runtime) -> int:
    return runtime.settings.request_reminder_days


def _cards(conn: Connection, runtime: Runtime) -> list[nav.Card]:
    found = desk.counts(conn, now=runtime.clock.now(), soon_days=_soon_days(runtime))
    return [
        nav.Card(
            N_("req.a_card_open"),
            found.open,
            "/admin/requests",
            note_key=N_("req.a_card_overdue") if found.overdue else None,
            note_params={"n": found.overdue},
            attention=found.overdue > 0,
        ),
        nav.Card(
            N_("req.a_card_due_soon"),
            found.due_soon,
            "/admin/requests?due=soon",
            note_key=N_("req.a_card_due_soon_note"),
            note_params={"n": _soon_days(runtime)},
            attention=found.due_soon > 0,
        ),
        nav.Card(
            N_("req.a_card_awaiting"),
            found.awaiting_verification,
            "/admin/requests?status=received",
            note_key=N_("req.a_card_awaiting_note"),
        ),
    ]


nav.add(N_("admin.nav_requests"), "/admin/requests", order=20)

_VERIFIED_BY_WORDS = (  # admin/requests/detail.html names the identity check by its method
    N_("req.a_by_session"),
    N_("req.a_by_service"),
    N_("req.a_by_email_code"),
)
_QUEUE_WORDS = (  # the queue's due filter and the detail page's notices, built from codes
    N_("req.a_due_overdue"),
    N_("req.a_due_soon"),
    N_("req.a_due_later"),
    N_("req.a_done_noted"),
    N_("req.a_done_assigned"),
    N_("req.a_confirm_notice_help_ja"),
    N_("req.a_confirm_notice_help_en"),
)
nav.add_card("requests", lambda conn, runtime: _cards(conn, runtime)[0], order=10)
nav.add_card("requests_due_soon", lambda conn, runtime: _cards(conn, runtime)[1], order=11)
nav.add_card("requests_awaiting", lambda conn, runtime: _cards(conn, runtime)[2], order=12)


def _render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> Response:
    return nav.render(request, name, status_code=status_code, labels=labels, **context)


def _staff_names(request: Request) -> dict[str, str]:
    """Display names by staff id, and by the actor form audit entries use (``staff:st_..``)."""
    names: dict[str, str] = {}
    for account in directory(request).list():
        names[account.id] = account.display_name
        names[account.actor] = account.display_name
    return names


def _filter(request: Request) -> desk.QueueFilter:
    return desk.QueueFilter.parse(dict(request.query_params))


@router.get("", response_class=HTMLResponse)
def queue(request: Request, user: ViewerDep) -> Response:
    runtime = deps.runtime(request)
    filt = _filter(request)
    now = runtime.clock.now()
    lang = _lang(request)
    error = ""
    try:
        with db.read(runtime.engine) as conn:
            found = desk.find(
                conn,
                filt,
                SealKeys(runtime.vault.system_keys),
                now=now,
                soon_days=_soon_days(runtime),
            )
    except UserInputError as exc:
        # A mistyped number or address: the queue, empty, with the reason (not a bare 400).
        error = exc.message
        found = desk.Queue([], False, "")
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    return _render(
        request,
        "admin/requests/queue.html",
        status_code=400 if error else 200,
        queue=found,
        requests=found.requests,
        filt=filt,
        error=error,
        now=now,
        zone=runtime.settings.time_zone,
        days_left=lambda r: desk.days_left(r, now, runtime.settings.time_zone),
        owed=desk.OPEN,
        staff_names=_staff_names(request),
        workers=_workers(request),
        types=list(RequestType),
        statuses=list(Status),
        dues=list(desk.Due),
        export_url=nav.lang_url(request, "/admin/requests/export.csv", **query),
        may_export=user.may(Permission.registers_export),
        lang_name=lang,
    )


@router.get("/export.csv")
def export_csv(request: Request, user: ExportDep) -> Response:
    runtime = deps.runtime(request)
    filt = _filter(request)
    now = runtime.clock.now()
    names = _staff_names(request)
    lang = _lang(request)
    keys = SealKeys(runtime.vault.system_keys)
    with db.read(runtime.engine) as conn:
        desk.find(conn, filt, keys, now=now, soon_days=1, limit=1)  # a bad filter is a 400 here
    with db.write(runtime.engine) as conn:
        runtime.audit.append(
            conn, actor=_actor(user), action="requests.export", details={"format": "csv"}
        )

    def lines() -> Iterator[bytes]:
        with db.read(runtime.engine) as conn:
            for chunk in desk.to_csv(
                conn,
                filt,
                keys,
                now=now,
                soon_days=_soon_days(runtime),
                zone=runtime.settings.time_zone,
                lang=lang,
                staff_names=names,
            ):
                yield chunk.encode()

    stamp = local_date(now, runtime.settings.time_zone).strftime("%Y%m%d")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="requests-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _workers(request: Request) -> list[StaffAccount]:
    """The active members who may work requests: whom a request can be assigned to."""
    return [
        a
        for a in directory(request).list()
        if a.active and Permission.requests_work in PERMISSIONS[a.role]
    ]


def _detail(
    request: Request,
    user: StaffUser,
    request_id: str,
    *,
    status_code: int = 200,
    error: str = "",
    submitted: Mapping[str, str] | None = None,
    accepted: Sequence[str] = (),
    note_error: str = "",
) -> Response:
    runtime = deps.runtime(request)
    found = service.get(runtime, request_id, actor=_actor(user))
    rules = runtime.vault.rules()
    lang = _lang(request)
    return _render(
        request,
        "admin/requests/detail.html",
        status_code=status_code,
        r=found,
        now=runtime.clock.now(),
        may_see=user.may(Permission.personal_view),
        may_work=user.may(Permission.requests_work),
        may_decide=user.may(Permission.requests_decide),
        error=error,
        done=request.query_params.get("done", ""),
        item_label=lambda i: rules.items[i].label.get(lang) if i in rules.items else i,
        outcomes=list(Outcome),
        Status=Status,
        submitted=submitted or {},
        accepted=set(accepted),
        notes=casework.notes(runtime, request_id) if user.may(Permission.personal_view) else [],
        staff_names=_staff_names(request),
        workers=_workers(request),
        note_error=note_error,
        max_note=casework.MAX_NOTE,
        days_left=desk.days_left(found, runtime.clock.now(), runtime.settings.time_zone),
        owed=found.status in desk.OPEN,
    )


@router.get("/{request_id}", response_class=HTMLResponse)
def detail(request: Request, request_id: str, user: ViewerDep) -> Response:
    return _detail(request, user, request_id)


@router.get("/{request_id}/proof")
def proof(request: Request, request_id: str, user: ProofDep) -> Response:
    data, content_type = service.proof(deps.runtime(request), request_id, actor=_actor(user))
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="proof-{request_id}"',
            "Cache-Control": "no-store",
        },
    )


def _back(request: Request, request_id: str, done: str) -> Response:
    url = nav.lang_url(request, f"/admin/requests/{request_id}", done=done)
    return RedirectResponse(url, status_code=303)


@router.post("/{request_id}/review")
async def review(request: Request, request_id: str, user: WorkDep) -> Response:
    await run_in_threadpool(
        service.start_review, deps.runtime(request), request_id, actor=_actor(user)
    )
    return _back(request, request_id, "review")


def _decision(fields: Mapping[str, str], accepted: Sequence[str]) -> Decision:
    try:
        outcome = Outcome(fields.get("outcome", ""))
    except ValueError:
        raise UserInputError("outcome: choose an outcome") from None
    return Decision(
        outcome=outcome,
        reason=fields.get("reason", ""),
        substitute=fields.get("substitute") == "yes",
        accepted_items=tuple(accepted),
        withdraw=fields.get("withdraw") == "yes",
    )


@router.post("/{request_id}/decide")
async def decide(request: Request, request_id: str, user: DecideDep) -> Response:
    """The decision form: first a confirmation page with the notice as the person will read
    it (nothing is stored), then, with ``confirmed=yes``, the decision and the notice; with
    ``edit=yes``, the form again as it was filled in."""
    form = await read_form(request, max_fields=300)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    accepted = tuple(v for v in form.getlist("accepted") if isinstance(v, str))
    runtime = deps.runtime(request)
    if fields.get("edit") == "yes":
        return await run_in_threadpool(
            lambda: _detail(request, user, request_id, submitted=fields, accepted=accepted)
        )
    try:
        decision = _decision(fields, accepted)
        if fields.get("confirmed") != "yes":
            decided, notice = await run_in_threadpool(
                service.preview_decision,
                runtime,
                request_id,
                decision,
                base_url=_base_url(request),
            )
            return await run_in_threadpool(
                lambda: _render(
                    request,
                    "admin/requests/confirm.html",
                    r=decided,
                    notice=notice,
                    fields=fields,
                    accepted=accepted,
                    may_see=user.may(Permission.personal_view),
                )
            )
        await run_in_threadpool(
            service.decide,
            runtime,
            request_id,
            decision,
            actor=_actor(user),
            base_url=_base_url(request),
        )
    except UserInputError as exc:
        # The form comes back as it was sent (a refusal stays a refusal), with the reason for
        # the failure in the console's language.
        if isinstance(exc, NotFound):
            raise
        message = exc.message
        if isinstance(exc, ReasonRequired):
            message = t(_lang(request), "req.a_reason_required")
        return await run_in_threadpool(
            lambda: _detail(
                request,
                user,
                request_id,
                status_code=400,
                error=message,
                submitted=fields,
                accepted=accepted,
            )
        )
    return _back(request, request_id, "decided")


@router.get("/{request_id}/package-preview", response_class=HTMLResponse)
def package_preview(request: Request, request_id: str, user: ProofDep) -> Response:
    """The readable page of the package the person would receive, as it stands now."""
    page = service.package_preview(deps.runtime(request), request_id, actor=_actor(user))
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
            ),
            "Cache-Control": "no-store",
        },
    )


@router.post("/{request_id}/close")
async def close(request: Request, request_id: str, user: DecideDep) -> Response:
    await run_in_threadpool(service.close, deps.runtime(request), request_id, actor=_actor(user))
    return _back(request, request_id, "closed")


@router.post("/{request_id}/notes")
async def add_note(request: Request, request_id: str, user: WorkDep) -> Response:
    form = await read_form(request)
    text = form.get("text")
    try:
        await run_in_threadpool(
            casework.add_note,
            deps.runtime(request),
            request_id,
            text if isinstance(text, str) else "",
            staff_id=user.id,
        )
    except NotFound:
        raise
    except UserInputError as exc:
        message = exc.message
        return await run_in_threadpool(
            lambda: _detail(
                request,
                user,
                request_id,
                status_code=400,
                note_error=message,
                submitted={"note": text if isinstance(text, str) else ""},
            )
        )
    return _back(request, request_id, "noted")


@router.post("/{request_id}/assign")
async def assign(request: Request, request_id: str, user: WorkDep) -> Response:
    form = await read_form(request)
    chosen = form.get("assignee")
    chosen = chosen.strip() if isinstance(chosen, str) else ""
    assignee: str | None = None
    if chosen and chosen != "none":
        workers = await run_in_threadpool(_workers, request)
        if chosen not in {w.id for w in workers}:
            return await run_in_threadpool(
                lambda: _detail(
                    request,
                    user,
                    request_id,
                    status_code=400,
                    error=t(_lang(request), "req.a_assign_unknown"),
                )
            )
        assignee = chosen
    await run_in_threadpool(
        casework.assign, deps.runtime(request), request_id, assignee, actor=_actor(user)
    )
    return _back(request, request_id, "assigned")
