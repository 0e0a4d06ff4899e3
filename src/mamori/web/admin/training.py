"""Training records (社員教育) in the admin console, under /admin/training (issue 12, part 6).

The courses, and the matrix of staff members against courses: the last completion of each,
the day it must be retaken, and who is overdue (never completed, or expired), highlighted.
Reading needs ``staff.view``; adding a course and recording a completion need
``training.manage``. A refused entry shows the page again with the reason (400), nothing
stored. The dashboard's card counts the members overdue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.app import Runtime
from mamori.errors import NotFound, UserInputError
from mamori.i18n import N_, t
from mamori.staff import ROLES, StaffDirectory
from mamori.staff.permissions import Permission
from mamori.store.db import Connection
from mamori.training import register
from mamori.web import deps
from mamori.web.admin import auth, nav
from mamori.web.admin.auth import StaffUser, need
from mamori.web.errors import status_for
from mamori.web.forms import read_form
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = APIRouter(prefix="/admin/training", include_in_schema=False)

ReadDep = Annotated[StaffUser, Depends(need(Permission.staff_view))]
ManageDep = Annotated[StaffUser, Depends(need(Permission.training_manage))]

_FIELDS = ("title_ja", "title_en", "every_months", "roles", "staff_id", "completed_on")
_WORDS = (
    N_("training.bad_title_ja"),
    N_("training.bad_title_en"),
    N_("training.bad_every_months"),
    N_("training.bad_roles"),
    N_("training.bad_staff_id"),
    N_("training.bad_completed_on"),
    N_("training.done_course"),
    N_("training.done_completion"),
    N_("training.state_done"),
    N_("training.state_overdue"),
    N_("training.state_not_required"),
)


def _overdue_card(conn: Connection, runtime: Runtime) -> nav.Card | None:
    accounts = StaffDirectory(
        runtime.engine, runtime.audit, runtime.vault.system_keys, clock=runtime.clock
    ).list()
    found = register.matrix(runtime.vault, accounts)
    if not found.courses:
        return None
    overdue = len(found.overdue_staff())
    return nav.Card(
        N_("training.card"),
        overdue,
        "/admin/training",
        note_key=N_("training.card_note"),
        attention=overdue > 0,
    )


nav.add(N_("admin.nav_training"), "/admin/training", order=75, permission=Permission.staff_view)
nav.add_card("training", _overdue_card, order=70, permission=Permission.staff_view)


def _page(
    request: Request, user: StaffUser, *, status_code: int = 200, error: str = "", form: str = ""
) -> Response:
    runtime = deps.runtime(request)
    accounts = auth.directory(request).list()
    done = request.query_params.get("done", "")
    return nav.render(
        request,
        "admin/training.html",
        status_code=status_code,
        m=register.matrix(runtime.vault, accounts),
        roles=ROLES,
        may_act=user.may(Permission.training_manage),
        error=error,
        form=form,
        done=done if done in ("course", "completion") else "",
    )


@router.get("", response_class=HTMLResponse)
def listing(request: Request, user: ReadDep) -> Response:
    return _page(request, user)


def _message(request: Request, exc: UserInputError) -> str:
    field = exc.message.split(":", 1)[0]
    key = f"training.bad_{field}" if field in _FIELDS else "training.bad_title_ja"
    return t(request_lang(request, strict=False), key)


async def _act(
    request: Request, user: StaffUser, form: str, action: Callable[[], object]
) -> Response:
    try:
        await run_in_threadpool(action)
    except UserInputError as exc:
        if isinstance(exc, NotFound):
            raise
        message, status = _message(request, exc), status_for(exc)
        return await run_in_threadpool(
            lambda: _page(request, user, status_code=status, error=message, form=form)
        )
    return RedirectResponse(nav.lang_url(request, "/admin/training", done=form), status_code=303)


@router.post("/courses")
async def add_course(request: Request, user: ManageDep) -> Response:
    data = await read_form(request, max_fields=20)
    fields = {k: v for k, v in data.multi_items() if isinstance(v, str)}
    roles = [v for v in data.getlist("roles") if isinstance(v, str)]
    vault = deps.runtime(request).vault
    return await _act(
        request,
        user,
        "course",
        lambda: register.add_course(
            vault,
            actor=user.actor,
            title_ja=fields.get("title_ja"),
            title_en=fields.get("title_en"),
            every_months=fields.get("every_months"),
            roles=roles,
        ),
    )


@router.post("/completions")
async def record_completion(request: Request, user: ManageDep) -> Response:
    data = await read_form(request, max_fields=10)
    fields = {k: v for k, v in data.multi_items() if isinstance(v, str)}
    runtime = deps.runtime(request)
    known = [a.id for a in auth.directory(request).list()]
    return await _act(
        request,
        user,
        "completion",
        lambda: register.record_completion(
            runtime.vault,
            actor=user.actor,
            course_id=fields.get("course_id", ""),
            staff_id=fields.get("staff_id", ""),
            completed_on=fields.get("completed_on"),
            known_staff=known,
        ),
    )
