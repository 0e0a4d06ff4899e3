"""The admin console under /admin: the dashboard, staff accounts and the audit log.

Every route names its permission with :func:`~mamori.web.admin.auth.need`, which also checks
the form's CSRF token of an action: the dashboard ``console.view``, the staff list
``staff.view``, managing staff ``staff.manage`` (after a recent re-authentication: creating,
changing a role, disabling, enabling, resetting an authenticator), the audit log
``audit.view``. The pages show
the forms only to those who may use them. Actions answer 303 back to their page
(post/redirect/get) with a short notice code; an action refused for a reason staff can fix (a
short password, a login ID in use, the last manager) shows the page again with the reason.
Every response under /admin is ``no-store``.

Other parts of mamori add their pages with their own routers and register them in the menu and
on the dashboard through :mod:`mamori.web.admin.nav`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamori.app import Runtime
from mamori.errors import (
    MamoriError,
    ReauthRequired,
    StaffRoleRequired,
    StaffSessionRequired,
    UserInputError,
)
from mamori.i18n import N_
from mamori.staff import ROLES, SecondFactors, StaffAccount
from mamori.staff import storage as staff_storage
from mamori.staff.permissions import PERMISSIONS, Permission
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.storage import subjects as vault_subjects
from mamori.web import deps
from mamori.web.admin import auth, nav, second_factor
from mamori.web.admin.auth import StaffUser, ViewerDep, need, need_recent
from mamori.web.errors import status_for
from mamori.web.forms import read_form
from mamori.web.rendering import error_page, wants_html

__all__ = ["install", "router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

ManageDep = Annotated[StaffUser, Depends(need_recent(Permission.staff_manage))]
StaffViewDep = Annotated[StaffUser, Depends(need(Permission.staff_view))]


# -- dashboard -----------------------------------------------------------------------------


def _staff_card(conn: Connection, runtime: Runtime) -> nav.Card:
    count = staff_storage.count_active(conn)
    return nav.Card(N_("admin.card_staff"), count, "/admin/staff")


def _subjects_card(conn: Connection, runtime: Runtime) -> nav.Card:
    count = vault_subjects.count_active(conn)
    return nav.Card(N_("admin.card_subjects"), count)


def _policy_card(conn: Connection, runtime: Runtime) -> nav.Card | None:
    current = runtime.published.current()
    return nav.Card(N_("admin.card_policy"), f"v{current.version}", "/privacy")


nav.add(N_("admin.nav_dashboard"), "/admin", order=0)
nav.add(N_("admin.nav_staff"), "/admin/staff", order=80, permission=Permission.staff_view)
nav.add_card("subjects", _subjects_card, order=5)
nav.add_card("staff", _staff_card, order=80, permission=Permission.staff_view)
nav.add_card("policy", _policy_card, order=95)


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, user: ViewerDep) -> HTMLResponse:
    runtime = deps.runtime(request)
    with db.read(runtime.engine) as conn:
        cards = nav.cards(conn, runtime, PERMISSIONS[user.role])
    version = runtime.published.current().version
    return nav.render(request, "admin/dashboard.html", cards=cards, policy_version=version)


# -- staff accounts ------------------------------------------------------------------------

_DONE = {"created", "role", "disabled", "enabled", "totp_reset"}
_DONE_WORDS = (  # the notices admin/staff.html shows by the action done, and the roles' words
    N_("admin.done_totp_reset"),
    N_("admin.done_created"),
    N_("admin.done_role"),
    N_("admin.done_disabled"),
    N_("admin.done_enabled"),
    N_("admin.role_manager"),
    N_("admin.role_manager_help"),
    N_("admin.role_lead"),
    N_("admin.role_lead_help"),
    N_("admin.role_handler"),
    N_("admin.role_handler_help"),
    N_("admin.role_auditor"),
    N_("admin.role_auditor_help"),
    N_("admin.role_viewer"),
    N_("admin.role_viewer_help"),
)


def _staff_page(
    request: Request,
    user: StaffUser,
    *,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    directory = auth.directory(request)
    accounts: list[StaffAccount] = directory.list()
    enrolled = SecondFactors(directory).enrolled_ids()
    done = request.query_params.get("done")
    return nav.render(
        request,
        "admin/staff.html",
        status_code=status_code,
        accounts=accounts,
        enrolled=enrolled,
        roles=ROLES,
        may_manage=user.may(Permission.staff_manage),
        me=user,
        done=done if done in _DONE else None,
        error=error,
        form=form or {},
    )


@router.get("/staff", response_class=HTMLResponse)
def staff_list(request: Request, user: StaffViewDep) -> HTMLResponse:
    return _staff_page(request, user)


async def _form(request: Request) -> dict[str, str]:
    form = await read_form(request, max_fields=20)
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


FormDep = Annotated[dict[str, str], Depends(_form)]


def _done(request: Request, what: str) -> RedirectResponse:
    return RedirectResponse(nav.lang_url(request, "/admin/staff", done=what), 303)


def _refused(request: Request, user: StaffUser, exc: MamoriError, **kw: Any) -> HTMLResponse:
    return _staff_page(request, user, status_code=status_for(exc), error=exc.message, **kw)


@router.post("/staff", response_class=HTMLResponse)
def staff_create(request: Request, user: ManageDep, form: FormDep) -> Response:
    kept = {k: form.get(k, "") for k in ("login", "display_name", "role", "email")}
    if form.get("password", "") != form.get("password_again", ""):
        exc = UserInputError("the two passwords differ: type the same password twice")
        return _refused(request, user, exc, form=kept)
    try:
        auth.directory(request).create(
            form.get("login", ""),
            form.get("display_name", ""),
            form.get("role", ""),
            form.get("password", ""),
            actor=user.actor,
            email=form.get("email", "") or None,
        )
    except UserInputError as exc:
        return _refused(request, user, exc, form=kept)
    return _done(request, "created")


@router.post("/staff/{staff_id}/role", response_class=HTMLResponse)
def staff_role(request: Request, staff_id: str, user: ManageDep, form: FormDep) -> Response:
    try:
        auth.directory(request).set_role(staff_id, form.get("role", ""), actor=user.actor)
    except UserInputError as exc:
        return _refused(request, user, exc)
    return _done(request, "role")


@router.post("/staff/{staff_id}/disable", response_class=HTMLResponse)
def staff_disable(request: Request, staff_id: str, user: ManageDep) -> Response:
    try:
        auth.directory(request).disable(staff_id, actor=user.actor)
    except UserInputError as exc:
        return _refused(request, user, exc)
    return _done(request, "disabled")


@router.post("/staff/{staff_id}/enable", response_class=HTMLResponse)
def staff_enable(request: Request, staff_id: str, user: ManageDep) -> Response:
    try:
        auth.directory(request).enable(staff_id, actor=user.actor)
    except UserInputError as exc:
        return _refused(request, user, exc)
    return _done(request, "enabled")


@router.post("/staff/{staff_id}/reset-totp", response_class=HTMLResponse)
def staff_reset_totp(request: Request, staff_id: str, user: ManageDep) -> Response:
    """Remove another member's authenticator (lost phone): their next sign-in enrols again."""
    try:
        SecondFactors(auth.directory(request)).reset(staff_id, actor=user.actor)
    except UserInputError as exc:
        return _refused(request, user, exc)
    return _done(request, "totp_reset")


# -- installing the console into the app ---------------------------------------------------


class _NoStore:
    """``Cache-Control: no-store`` on every response under /admin (plain ASGI, cheap)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != "/admin" and not path.startswith("/admin/"):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)


def install(app: FastAPI) -> None:
    """Add the console's routes, its sign-in redirect and its ``no-store`` header to ``app``."""
    app.include_router(auth.router)
    app.include_router(second_factor.router)
    app.include_router(router)

    @app.exception_handler(ReauthRequired)
    async def on_reauth(request: Request, exc: ReauthRequired) -> Response:
        if wants_html(request) and getattr(request.state, "admin_session", None) is not None:
            return await run_in_threadpool(second_factor.reauth_required, request, exc)
        body = {"error": exc.message, "status": 403, "reauth": "/admin/reauth"}
        return JSONResponse(body, status_code=403)

    @app.exception_handler(StaffSessionRequired)
    async def on_no_session(request: Request, exc: StaffSessionRequired) -> Response:
        if request.method in ("GET", "HEAD") and wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            login = nav.lang_url(request, "/admin/login")
            sep = "&" if "?" in login else "?"
            response: Response = RedirectResponse(f"{login}{sep}next={quote(target)}", 303)
        elif wants_html(request):
            response = error_page(request, 401, exc.message)
        else:
            response = JSONResponse({"error": exc.message, "status": 401}, status_code=401)
        if auth.COOKIE in request.cookies:
            response.delete_cookie(auth.COOKIE, path="/admin")
        return response

    @app.exception_handler(StaffRoleRequired)
    async def on_role(request: Request, exc: StaffRoleRequired) -> Response:
        # A browser gets the console's own page, in its language, naming what is missing.
        session = getattr(request.state, "admin_session", None)
        if not wants_html(request) or session is None or exc.permission is None:
            return JSONResponse({"error": exc.message, "status": 403}, status_code=403)
        return nav.render(
            request,
            "admin/forbidden.html",
            status_code=403,
            role=session.account.role.value,
            permission=exc.permission,
        )

    app.add_middleware(_NoStore)
