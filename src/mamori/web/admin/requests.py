"""People's requests in the admin console, under /admin/requests.

The queue (by due date, overdue ones highlighted), a request's page (identity evidence, the
agent's proof, the person's details; opening it is audited), and the actions of a handler:
start the review, decide (a refusal, a partial fulfilment or a substitute measure will not
save without a reason), answer an inquiry by e-mail, close. Viewers read only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.app import Runtime
from mamori.errors import ReasonRequired, UserInputError
from mamori.i18n import N_, t
from mamori.requests import labels, service, store
from mamori.requests.model import Outcome, Status
from mamori.requests.workflow import Decision
from mamori.staff.permissions import Permission
from mamori.store.db import Connection
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffUser, ViewerDep, need
from mamori.web.forms import read_form
from mamori.web.i18n import Lang
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = APIRouter(prefix="/admin/requests", include_in_schema=False)

ProofDep = Annotated[StaffUser, Depends(need(Permission.personal_view))]
WorkDep = Annotated[StaffUser, Depends(need(Permission.requests_work))]
DecideDep = Annotated[StaffUser, Depends(need(Permission.requests_decide))]


def _actor(user: StaffUser) -> str:
    return f"staff:{user.id}"


def _base_url(request: Request) -> str:
    return deps.runtime(request).settings.public_url or str(request.base_url).rstrip("/")


def _lang(request: Request) -> Lang:
    return request_lang(request, strict=False)


def _card(conn: Connection, runtime: Runtime) -> nav.Card:
    found = store.open_requests(conn, limit=100_000)
    now = runtime.clock.now()
    overdue = sum(1 for r in found if r.overdue(now))
    return nav.Card(
        N_("req.a_card_open"),
        len(found),
        "/admin/requests",
        note_key=N_("req.a_card_overdue") if overdue else None,
        note_params={"n": overdue},
        attention=overdue > 0,
    )


nav.add(N_("admin.nav_requests"), "/admin/requests", order=20)

_VERIFIED_BY_WORDS = (  # admin/requests/detail.html names the identity check by its method
    N_("req.a_by_session"),
    N_("req.a_by_service"),
    N_("req.a_by_email_code"),
)
nav.add_card("requests", _card, order=10)


def _render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> Response:
    return nav.render(request, name, status_code=status_code, labels=labels, **context)


@router.get("", response_class=HTMLResponse)
def queue(request: Request, user: ViewerDep, closed: int = 0) -> Response:
    found = service.queue(deps.runtime(request), include_closed=bool(closed))
    return _render(
        request,
        "admin/requests/queue.html",
        requests=found,
        now=deps.runtime(request).clock.now(),
        closed=bool(closed),
    )


def _detail(
    request: Request,
    user: StaffUser,
    request_id: str,
    *,
    status_code: int = 200,
    error: str = "",
    submitted: Mapping[str, str] | None = None,
    accepted: Sequence[str] = (),
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


@router.post("/{request_id}/decide")
async def decide(request: Request, request_id: str, user: DecideDep) -> Response:
    form = await read_form(request, max_fields=300)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    accepted = tuple(v for v in form.getlist("accepted") if isinstance(v, str))
    try:
        try:
            outcome = Outcome(fields.get("outcome", ""))
        except ValueError:
            raise UserInputError("outcome: choose an outcome") from None
        decision = Decision(
            outcome=outcome,
            reason=fields.get("reason", ""),
            substitute=fields.get("substitute") == "yes",
            accepted_items=accepted,
            withdraw=fields.get("withdraw") == "yes",
        )
        await run_in_threadpool(
            service.decide,
            deps.runtime(request),
            request_id,
            decision,
            actor=_actor(user),
            base_url=_base_url(request),
        )
    except UserInputError as exc:
        # The form comes back as it was sent (a refusal stays a refusal), with the reason for
        # the failure in the console's language.
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


@router.post("/{request_id}/close")
async def close(request: Request, request_id: str, user: DecideDep) -> Response:
    await run_in_threadpool(service.close, deps.runtime(request), request_id, actor=_actor(user))
    return _back(request, request_id, "closed")
