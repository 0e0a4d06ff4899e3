"""The second factor in the admin console: the code step of sign-in, enrolment, recovery codes,
re-authentication and the member's own account page.

**Sign-in.** After a right password (:func:`mamori.web.admin.auth.login`) the browser holds the
``mamori_admin_pending`` cookie, no session. ``/admin/login/code`` asks for the 6-digit code
or a recovery code; ``/admin/login/enrol`` (when MAMORI_ADMIN_REQUIRE_TOTP is on and the member
has no authenticator) shows the QR code, drawn here as inline SVG, and the secret in text, and
takes a first code; the recovery codes are then shown once and the session opens. These pages
have no session: their forms carry the double-submit CSRF token of the sign-in form. A pending
sign-in that ended (finished, or older than 5 minutes, 15 for enrolment) sends the browser back
to the sign-in form, which says so.

**Re-authentication.** ``/admin/reauth`` takes the code (or, for a member without an
authenticator, the password) and returns to ``next`` with a GET. A route guarded with
:func:`~mamori.web.admin.auth.need_recent` sends a browser here (see
:func:`reauth_required`).

**Account.** ``/admin/account``: the member's authenticator and recovery codes; enrolment when
there is none, and new recovery codes (after re-authentication).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from mamori.errors import (
    MamoriError,
    ReauthRequired,
    SecondFactorRejected,
    SignInFailed,
    SignInLocked,
    StaffSessionRequired,
    UserInputError,
)
from mamori.staff import Enrolment, SecondFactors, enrolment_of, finish_enrolment, finish_sign_in
from mamori.staff import sessions as staff_sessions
from mamori.staff.permissions import Permission
from mamori.staff.signin import check_password
from mamori.web import deps
from mamori.web.admin import auth, nav
from mamori.web.admin.auth import StaffUser, need, need_recent
from mamori.web.errors import status_for
from mamori.web.forms import read_form

__all__ = ["reauth_required", "router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

AccountDep = Annotated[StaffUser, Depends(need(Permission.console_view))]
RecentDep = Annotated[StaffUser, Depends(need_recent(Permission.console_view))]


async def _fields(request: Request) -> dict[str, str]:
    form = await read_form(request, max_fields=10)
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def _max_age(request: Request) -> dt.timedelta:
    return dt.timedelta(hours=deps.settings(request).admin_session_max_hours)


def _restart(request: Request) -> RedirectResponse:
    """Back to the sign-in form, which says the sign-in ended."""
    response = RedirectResponse(nav.lang_url(request, "/admin/login", problem="expired"), 303)
    auth.clear_cookie(request, response, auth.PENDING_COOKIE)
    return response


def _locked_minutes(exc: SignInLocked) -> str:
    return str(-(-exc.retry_after // 60))


# -- the code step of sign-in ----------------------------------------------------------------


def _code_page(
    request: Request,
    next_url: str | None,
    *,
    status_code: int = 200,
    problem: str | None = None,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return auth.public_page(
        request,
        "admin/login_code.html",
        status_code=status_code,
        headers=headers,
        next_url=next_url or "",
        problem=problem,
        message=message,
    )


@router.get("/login/code", response_class=HTMLResponse)
def code_page(request: Request, next: str | None = None) -> Response:
    from mamori.staff.signin import pending_of

    try:
        pending_of(auth.directory(request), request.cookies.get(auth.PENDING_COOKIE), "code")
    except StaffSessionRequired:
        return _restart(request)
    return _code_page(request, auth.safe_next(next))


@router.post("/login/code", response_class=HTMLResponse)
async def code_submit(request: Request) -> Response:
    fields = await _fields(request)
    next_url = auth.safe_next(fields.get("next"))
    if not auth.login_csrf_ok(request, fields):
        return _code_page(request, next_url, status_code=403, problem="csrf")
    try:
        signed_in = await run_in_threadpool(
            finish_sign_in,
            auth.directory(request),
            request.cookies.get(auth.PENDING_COOKIE),
            fields.get("code", ""),
            client=auth.client_address(request),
            agent=request.headers.get("user-agent", ""),
            limits=auth.limits(request),
            max_age=_max_age(request),
        )
    except StaffSessionRequired:
        return _restart(request)
    except SignInLocked as exc:
        return _code_page(
            request,
            next_url,
            status_code=429,
            problem="locked",
            message=_locked_minutes(exc),
            headers={"Retry-After": str(exc.retry_after)},
        )
    except SecondFactorRejected:
        return _code_page(request, next_url, status_code=401, problem="wrong")
    response = RedirectResponse(next_url or nav.lang_url(request, "/admin"), 303)
    auth.set_cookie(request, response, auth.COOKIE, signed_in.token)
    auth.clear_cookie(request, response, auth.PENDING_COOKIE)
    auth.clear_cookie(request, response, auth.LOGIN_COOKIE)
    return response


# -- enrolment -------------------------------------------------------------------------------


def _enrol_context(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "qr": Markup(enrolment.qr_svg()),  # segno draws the SVG; no input of ours is in it
        "secret": enrolment.grouped,
    }


def _enrol_page(
    request: Request,
    enrolment: Enrolment,
    *,
    during_sign_in: bool,
    next_url: str | None = None,
    status_code: int = 200,
    problem: str | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        **_enrol_context(enrolment),
        "during_sign_in": during_sign_in,
        "next_url": next_url or "",
        "problem": problem,
    }
    if during_sign_in:
        return auth.public_page(request, "admin/enrol.html", status_code=status_code, **context)
    return nav.render(request, "admin/enrol.html", status_code=status_code, **context)


def _codes_page(request: Request, codes: list[str], next_url: str | None) -> HTMLResponse:
    return nav.render(
        request,
        "admin/recovery_codes.html",
        codes=codes,
        next_url=next_url or nav.lang_url(request, "/admin"),
    )


@router.get("/login/enrol", response_class=HTMLResponse)
def enrol_page(request: Request, next: str | None = None) -> Response:
    directory = auth.directory(request)
    try:
        _, enrolment = enrolment_of(directory, request.cookies.get(auth.PENDING_COOKIE))
    except StaffSessionRequired:
        return _restart(request)
    return _enrol_page(request, enrolment, during_sign_in=True, next_url=auth.safe_next(next))


@router.post("/login/enrol", response_class=HTMLResponse)
async def enrol_submit(request: Request) -> Response:
    fields = await _fields(request)
    next_url = auth.safe_next(fields.get("next"))
    directory = auth.directory(request)
    token = request.cookies.get(auth.PENDING_COOKIE)
    try:
        _, enrolment = await run_in_threadpool(enrolment_of, directory, token)
    except StaffSessionRequired:
        return _restart(request)
    if not auth.login_csrf_ok(request, fields):
        return _enrol_page(
            request,
            enrolment,
            during_sign_in=True,
            next_url=next_url,
            status_code=403,
            problem="csrf",
        )
    try:
        signed_in, codes = await run_in_threadpool(
            finish_enrolment,
            directory,
            token,
            fields.get("code", ""),
            max_age=_max_age(request),
            client=auth.client_address(request),
            agent=request.headers.get("user-agent", ""),
        )
    except StaffSessionRequired:
        return _restart(request)
    except SecondFactorRejected:
        return _enrol_page(
            request,
            enrolment,
            during_sign_in=True,
            next_url=next_url,
            status_code=400,
            problem="wrong",
        )
    response = _codes_page(request, codes, next_url)
    auth.set_cookie(request, response, auth.COOKIE, signed_in.token)
    auth.clear_cookie(request, response, auth.PENDING_COOKIE)
    auth.clear_cookie(request, response, auth.LOGIN_COOKIE)
    return response


# -- the member's account ----------------------------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: AccountDep) -> HTMLResponse:
    status = SecondFactors(auth.directory(request)).status(user.id)
    done = request.query_params.get("done")
    return nav.render(
        request,
        "admin/account.html",
        me=user,
        status=status,
        required=deps.settings(request).admin_require_totp,
        done=done if done in {"reauth"} else None,
    )


@router.post("/account/totp", response_class=HTMLResponse)
def account_enrol(request: Request, user: AccountDep) -> Response:
    try:
        enrolment = SecondFactors(auth.directory(request)).begin(user.id)
    except UserInputError as exc:
        return _refused(request, exc)
    return _enrol_page(request, enrolment, during_sign_in=False)


@router.post("/account/totp/confirm", response_class=HTMLResponse)
async def account_confirm(request: Request, user: AccountDep) -> Response:
    fields = await _fields(request)
    factors = SecondFactors(auth.directory(request))
    try:
        codes = await run_in_threadpool(
            factors.confirm, user.id, fields.get("code", ""), actor=user.actor
        )
    except SecondFactorRejected:
        enrolment = await run_in_threadpool(factors.begin, user.id)
        return _enrol_page(
            request, enrolment, during_sign_in=False, status_code=400, problem="wrong"
        )
    except UserInputError as exc:
        return _refused(request, exc)
    return _codes_page(request, codes, nav.lang_url(request, "/admin/account"))


@router.post("/account/recovery-codes", response_class=HTMLResponse)
def account_recovery_codes(request: Request, user: RecentDep) -> Response:
    try:
        codes = SecondFactors(auth.directory(request)).regenerate(user.id, actor=user.actor)
    except UserInputError as exc:
        return _refused(request, exc)
    return _codes_page(request, codes, nav.lang_url(request, "/admin/account"))


def _refused(request: Request, exc: MamoriError) -> HTMLResponse:
    return nav.render(request, "admin/refused.html", status_code=status_for(exc), error=exc.message)


# -- re-authentication -----------------------------------------------------------------------


def _reauth_page(
    request: Request,
    next_url: str | None,
    *,
    status_code: int = 200,
    resubmit: bool = False,
    problem: str | None = None,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    session = request.state.admin_session
    enrolled = SecondFactors(auth.directory(request)).status(session.account.id).enrolled
    return nav.render(
        request,
        "admin/reauth.html",
        status_code=status_code,
        headers=headers,
        next_url=next_url or "",
        enrolled=enrolled,
        resubmit=resubmit,
        problem=problem,
        message=message,
    )


@router.get("/reauth", response_class=HTMLResponse)
def reauth_page(request: Request, user: AccountDep, next: str | None = None) -> HTMLResponse:
    return _reauth_page(request, _reauth_next(next))


def _reauth_next(target: str | None) -> str | None:
    safe = auth.safe_next(target)
    if safe is not None and urlsplit(safe).path.startswith("/admin/reauth"):
        return None
    return safe


@router.post("/reauth", response_class=HTMLResponse)
async def reauth_submit(request: Request, user: AccountDep) -> Response:
    fields = await _fields(request)
    next_url = _reauth_next(fields.get("next"))
    directory = auth.directory(request)
    session = request.state.admin_session
    factors = SecondFactors(directory)
    enrolled = (await run_in_threadpool(factors.status, user.id)).enrolled
    try:
        if enrolled:
            method = await run_in_threadpool(
                factors.check,
                user.id,
                fields.get("code", ""),
                client=auth.client_address(request),
                limits=auth.limits(request),
                purpose="reauth",
            )
        else:
            await run_in_threadpool(
                check_password,
                directory,
                user.login,
                fields.get("password", ""),
                client=auth.client_address(request),
                limits=auth.limits(request),
            )
            method = "password"
    except SignInLocked as exc:
        return _reauth_page(
            request,
            next_url,
            status_code=429,
            problem="locked",
            message=_locked_minutes(exc),
            headers={"Retry-After": str(exc.retry_after)},
        )
    except (SecondFactorRejected, SignInFailed):
        return _reauth_page(request, next_url, status_code=400, problem="wrong")
    await run_in_threadpool(staff_sessions.reauthenticated, directory, session, method=method)
    target = next_url or nav.lang_url(request, "/admin/account", done="reauth")
    return RedirectResponse(target, 303)


def reauth_required(request: Request, exc: ReauthRequired) -> Response:
    """A browser's answer when a route needs a recent proof of who the member is: a page is
    sent to /admin/reauth and back; a form gets the re-authentication page, which asks that
    it be sent again afterwards (the page it came from is where it returns)."""
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        reauth = nav.lang_url(request, "/admin/reauth")
        sep = "&" if "?" in reauth else "?"
        return RedirectResponse(f"{reauth}{sep}next={quote(target)}", 303)
    referer = request.headers.get("referer")
    back = urlsplit(referer) if referer else None
    came_from = None
    if back is not None and back.netloc == request.url.netloc:
        came_from = auth.safe_next(back.path + (f"?{back.query}" if back.query else ""))
    return _reauth_page(request, _reauth_next(came_from), status_code=403, resubmit=True)
