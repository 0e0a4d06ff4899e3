"""Webhooks to the host service in the admin console, under /admin/webhooks (issue 13, part 6).

The endpoints registered per service, and the delivery log (newest first; ``?status=failed``
for the failed ones): event type, the person's and the request's IDs, status, attempts, the
last answer's status code (or the type of error), the next try, in the operator's time zone.
IDs and codes only: never a payload. Reading needs ``registers.view``; registering an endpoint
(its secret shown on the answer, once), rotating its secret, removing it and replaying a
failed delivery (再送, the same webhook-id) need ``webhooks.manage``. A refused entry shows the
page again with the reason (400; 404 for an unknown id; 409 for a delivery that has not
failed), nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.errors import Conflict, NotFound, UserInputError
from mamori.i18n import N_, t
from mamori.staff.permissions import Permission
from mamori.vault import service_keys
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffUser, need
from mamori.web.errors import status_for
from mamori.web.forms import read_form
from mamori.web.rendering import request_lang
from mamori.webhooks import delivery, endpoints, log
from mamori.webhooks.events import EVENT_TYPES

__all__ = ["router"]

router = APIRouter(prefix="/admin/webhooks", include_in_schema=False)

ReadDep = Annotated[StaffUser, Depends(need(Permission.registers_view))]
ManageDep = Annotated[StaffUser, Depends(need(Permission.webhooks_manage))]

_FILTERS = ("all", "pending", "delivered", "failed")
_DONE = ("removed", "replayed")
_WORDS = (  # keys the template builds from codes
    N_("webhook.status_all"),
    N_("webhook.status_pending"),
    N_("webhook.status_delivering"),
    N_("webhook.status_delivered"),
    N_("webhook.status_failed"),
    N_("webhook.done_removed"),
    N_("webhook.done_replayed"),
    N_("webhook.done_created"),
    N_("webhook.done_rotated"),
)

_BAD = {
    "url": N_("webhook.bad_url"),
    "events": N_("webhook.bad_events"),
    "service": N_("webhook.bad_service"),
}

nav.add(N_("admin.nav_webhooks"), "/admin/webhooks", order=87, permission=Permission.registers_view)


def _page(
    request: Request,
    user: StaffUser,
    *,
    status_code: int = 200,
    error: str = "",
    secret: str = "",
    secret_for: str = "",
    done: str = "",
) -> Response:
    runtime = deps.runtime(request)
    shown = request.query_params.get("status", "all")
    if shown not in _FILTERS:
        shown = "all"
    if not done:
        done = request.query_params.get("done", "")
        done = done if done in _DONE else ""
    may_manage = user.may(Permission.webhooks_manage)
    services = (
        sorted({a.name for a in service_keys.list_keys(runtime.engine) if not a.revoked})
        if may_manage
        else []
    )
    return nav.render(
        request,
        "admin/webhooks.html",
        status_code=status_code,
        endpoints=endpoints.listing(runtime),
        deliveries=log.deliveries(runtime, status=None if shown == "all" else shown, limit=200),
        shown=shown,
        filters=_FILTERS,
        event_types=EVENT_TYPES,
        services=services,
        may_manage=may_manage,
        error=error,
        secret=secret,
        secret_for=secret_for,
        done=done,
    )


@router.get("", response_class=HTMLResponse)
def listing(request: Request, user: ReadDep) -> Response:
    return _page(request, user)


def _message(request: Request, exc: UserInputError) -> str:
    """The refusal in the reader's language (the domain's messages are English)."""
    lang = request_lang(request, strict=False)
    if isinstance(exc, Conflict):
        return t(lang, "webhook.bad_not_failed")
    field = exc.message.split(":", 1)[0]
    return t(lang, _BAD.get(field, _BAD["url"]))


async def _act(request: Request, user: StaffUser, action: Callable[[], object]) -> object:
    """Run ``action``; a refusal is the page again with its reason (a Response)."""
    try:
        return await run_in_threadpool(action)
    except UserInputError as exc:
        if isinstance(exc, NotFound):
            raise
        message, status = _message(request, exc), status_for(exc)
        return await run_in_threadpool(
            lambda: _page(request, user, status_code=status, error=message)
        )


@router.post("/endpoints")
async def add(request: Request, user: ManageDep) -> Response:
    form = await read_form(request, max_fields=20)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    events = [v for v in form.getlist("events") if isinstance(v, str)]
    runtime = deps.runtime(request)
    done = await _act(
        request,
        user,
        lambda: endpoints.create(
            runtime,
            service=fields.get("service", ""),
            url=fields.get("url", ""),
            events=events,
            actor=user.actor,
        ),
    )
    if isinstance(done, Response):
        return done
    assert isinstance(done, tuple)
    endpoint, secret = done
    return await run_in_threadpool(
        lambda: _page(request, user, secret=secret, secret_for=endpoint.id, done="created")
    )


@router.post("/endpoints/{endpoint_id}/rotate")
async def rotate(request: Request, endpoint_id: str, user: ManageDep) -> Response:
    await read_form(request, max_fields=5)
    runtime = deps.runtime(request)
    secret = await run_in_threadpool(
        lambda: endpoints.rotate(runtime, endpoint_id, actor=user.actor)
    )
    return await run_in_threadpool(
        lambda: _page(request, user, secret=secret, secret_for=endpoint_id, done="rotated")
    )


@router.post("/endpoints/{endpoint_id}/remove")
async def remove(request: Request, endpoint_id: str, user: ManageDep) -> Response:
    await read_form(request, max_fields=5)
    runtime = deps.runtime(request)
    await run_in_threadpool(lambda: endpoints.remove(runtime, endpoint_id, actor=user.actor))
    return RedirectResponse(nav.lang_url(request, "/admin/webhooks", done="removed"), 303)


@router.post("/deliveries/{delivery_id}/replay")
async def replay(request: Request, delivery_id: str, user: ManageDep) -> Response:
    await read_form(request, max_fields=5)
    runtime = deps.runtime(request)
    done = await _act(
        request, user, lambda: delivery.replay(runtime, delivery_id, actor=user.actor)
    )
    if isinstance(done, Response):
        return done
    url = nav.lang_url(request, "/admin/webhooks", status="failed", done="replayed")
    return RedirectResponse(url, status_code=303)
