"""Who is using the admin console: sign-in and sign-out, the session cookie, roles and CSRF.

**Session cookie.** ``mamori_admin`` holds a random token (its SHA-256 is stored, see
:mod:`mamori.staff.sessions`): HttpOnly, SameSite=Strict, Path=/admin, and Secure when
MAMORI_PUBLIC_URL (or the request) is https. Sessions end after
MAMORI_ADMIN_SESSION_IDLE_MINUTES without activity and MAMORI_ADMIN_SESSION_MAX_HOURS after
sign-in, whichever comes first.

**Dependencies.** Every route under /admin but the sign-in and sign-out names the one
permission it needs with ``need(Permission.X)`` (the table of roles and permissions is
:mod:`mamori.staff.permissions`): it gives the signed-in :class:`StaffUser`, refuses a role
without the permission with 403 (:class:`~mamori.errors.StaffRoleRequired`) before anything
is read or changed, and then, for any method but GET/HEAD/OPTIONS, checks the CSRF token (form
field ``csrf_token`` or header ``X-CSRF-Token``) itself, so an action cannot forget it. Without
a session, a page asked for by a browser answers 303 to ``/admin/login?next=...``; anything
else answers 401. Templates ask ``admin_user(request).may(Permission.X)`` (or a flag the route
computes that way) before showing a form or a link.

**CSRF.** Every form carries ``{{ csrf_field(request) }}``: the session's random token, compared
in constant time by :func:`check_csrf`. The sign-in form, which has no session yet, carries a
token that must equal the one in its own short-lived cookie (double submit).

**Sign-in.** :func:`mamori.staff.begin_sign_in`: the same answer for an unknown login ID, a
wrong password and a disabled account; lockout per login ID and per client address (the address
is ``request.client``: behind a proxy run uvicorn with ``--proxy-headers`` and
``--forwarded-allow-ips``). Audited by staff id or ``unknown``, never the typed login. A right
password leads, through the short-lived ``mamori_admin_pending`` cookie, to the code page or,
for a member without an authenticator while MAMORI_ADMIN_REQUIRE_TOTP is on, to enrolment
(:mod:`mamori.web.admin.second_factor`); only then is there a session.

**Re-authentication.** ``need(Permission.X, recent=True)`` (or :func:`need_recent`) also asks
that the member proved who they are within MAMORI_ADMIN_REAUTH_MINUTES; otherwise it raises
:class:`~mamori.errors.ReauthRequired`, which sends a browser to /admin/reauth (a GET comes back
to its page afterwards; a form is to be sent again).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from mamori.errors import (
    CsrfRejected,
    ReauthRequired,
    SignInFailed,
    SignInLocked,
    StaffRoleRequired,
    StaffSessionRequired,
)
from mamori.staff import Limits, Pending, Role, StaffDirectory, begin_sign_in, sessions
from mamori.staff import storage as staff_storage
from mamori.staff.permissions import PERMISSIONS, Permission
from mamori.staff.sessions import Session
from mamori.store import db
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.forms import read_form
from mamori.web.rendering import templates

__all__ = [
    "COOKIE",
    "LOGIN_COOKIE",
    "PENDING_COOKIE",
    "Need",
    "StaffUser",
    "check_csrf",
    "csrf_field",
    "directory",
    "limits",
    "login_csrf_ok",
    "need",
    "need_recent",
    "router",
]

COOKIE: Final = "mamori_admin"
LOGIN_COOKIE: Final = "mamori_admin_login"
"""Holds the sign-in form's CSRF token until the form is sent."""
PENDING_COOKIE: Final = "mamori_admin_pending"
"""Holds the token of a half-finished sign-in (waiting for a code or for enrolment)."""
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

router = APIRouter(prefix="/admin", include_in_schema=False)


@dataclass(frozen=True)
class StaffUser:
    """The signed-in staff member (any page may show these; audit entries use ``actor``)."""

    id: str
    login: str
    display_name: str
    role: Role

    @property
    def actor(self) -> str:
        return f"staff:{self.id}"

    def may(self, permission: Permission) -> bool:
        """Whether this member's role holds ``permission``."""
        return permission in PERMISSIONS[self.role]


def directory(request: Request) -> StaffDirectory:
    """The staff accounts of the running mamori."""
    runtime = deps.runtime(request)
    return StaffDirectory(
        runtime.engine, runtime.audit, runtime.vault.system_keys, clock=runtime.clock
    )


def _session(request: Request) -> Session:
    """The request's live session (looked up once per request)."""
    cached: Session | None = getattr(request.state, "admin_session", None)
    if cached is not None:
        return cached
    settings = deps.settings(request)
    session = sessions.current(
        directory(request),
        request.cookies.get(COOKIE),
        now=deps.runtime(request).clock.now(),
        idle=dt.timedelta(minutes=settings.admin_session_idle_minutes),
    )
    request.state.admin_session = session
    return session


def _user(session: Session) -> StaffUser:
    a = session.account
    return StaffUser(a.id, a.login, a.display_name, a.role)


@dataclass(frozen=True)
class Need:
    """Dependency of a route under /admin (see :func:`need`); ``permission`` is what it needs,
    which the test of every route against every role reads."""

    permission: Permission
    recent: bool = False
    """Also ask for a recent proof of who the member is (MAMORI_ADMIN_REAUTH_MINUTES)."""

    async def __call__(self, request: Request) -> StaffUser:
        user = _user(await run_in_threadpool(_session, request))
        if not user.may(self.permission):
            raise StaffRoleRequired(
                f"your staff role ({user.role}) does not allow this: it needs the permission"
                f" '{self.permission.value}'",
                permission=self.permission.value,
            )
        if request.method not in SAFE_METHODS:
            token = request.headers.get("x-csrf-token")
            if token is None:
                form = await read_form(request, max_fields=300)
                value = form.get("csrf_token")
                token = value if isinstance(value, str) else None
            check_csrf(request, token)
        if self.recent:
            session = _session(request)
            age = dt.timedelta(minutes=deps.settings(request).admin_reauth_minutes)
            if not session.authenticated_within(age, deps.runtime(request).clock.now()):
                raise ReauthRequired()
        return user


def need(permission: Permission, *, recent: bool = False) -> Need:
    """Dependency of a route under /admin: the signed-in member, when their role holds
    ``permission``; for a method that may change something, with a valid CSRF token; with
    ``recent``, having proved who they are within MAMORI_ADMIN_REAUTH_MINUTES."""
    return Need(permission, recent)


def need_recent(permission: Permission) -> Need:
    """:func:`need` with ``recent``: for sensitive actions (managing staff, exports, ...)."""
    return Need(permission, True)


def check_csrf(request: Request, token: str | None) -> None:
    """Raise :class:`CsrfRejected` unless ``token`` is the CSRF token of the request's session."""
    expected = _session(request).csrf_token.encode("ascii")
    if not hmac.compare_digest((token or "").encode("utf-8", "replace"), expected):
        raise CsrfRejected()


def csrf_field(request: Request) -> Markup:
    """The hidden form field with the CSRF token (template global ``csrf_field(request)``)."""
    session: Session | None = getattr(request.state, "admin_session", None)
    token = session.csrf_token if session is not None else request.state.admin_login_csrf
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(token))


def _admin_user(request: Request) -> StaffUser | None:
    session: Session | None = getattr(request.state, "admin_session", None)
    return _user(session) if session is not None else None


templates.env.globals["csrf_field"] = csrf_field
templates.env.globals["admin_user"] = _admin_user

ViewerDep = Annotated[StaffUser, Depends(need(Permission.console_view))]
"""The member, for a page every role may see (counts and lists without personal values)."""


# -- cookies -------------------------------------------------------------------------------


def _secure(request: Request) -> bool:
    public = deps.settings(request).public_url or ""
    return public.startswith("https:") or request.url.scheme == "https"


def _set_cookie(request: Request, response: Response, name: str, value: str, **kw: int) -> None:
    response.set_cookie(
        name,
        value,
        path="/admin",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
        **kw,  # type: ignore[arg-type]
    )


def _clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path="/admin", secure=_secure(request), httponly=True, samesite="strict"
    )


# -- signing in and out --------------------------------------------------------------------


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path inside the console (never another site), else ``None``."""
    return _safe_next(target)


def _safe_next(target: str | None) -> str | None:
    """``target`` when it is a path inside the console (never another site), else ``None``."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or target.startswith("//"):
        return None
    if parts.path != "/admin" and not parts.path.startswith("/admin/"):
        return None
    if parts.path.startswith(("/admin/login", "/admin/logout")):
        return None
    return target


def _login_page(
    request: Request,
    *,
    status_code: int = 200,
    problem: str | None = None,
    message: str | None = None,
    login: str = "",
    next_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return public_page(
        request,
        "admin/login.html",
        status_code=status_code,
        headers=headers,
        problem=problem or request.query_params.get("problem"),
        message=message,
        login=login,
        next_url=next_url or "",
        signed_out=request.query_params.get("signed_out") == "1",
        no_account=_no_account(request),
    )


def _no_account(request: Request) -> bool:
    """Whether no staff account exists yet (the sign-in page then says how to make one)."""
    with db.read(deps.runtime(request).engine) as conn:
        return staff_storage.count_all(conn) == 0


def public_page(
    request: Request,
    name: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: object,
) -> HTMLResponse:
    """A page of the sign-in steps (no session yet): its forms carry a fresh double-submit
    CSRF token, also set in the ``mamori_admin_login`` cookie."""
    token = secrets.token_urlsafe(32)
    request.state.admin_login_csrf = token
    response = nav.render(request, name, status_code=status_code, headers=headers, **context)
    _set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


def login_csrf_ok(request: Request, fields: dict[str, str]) -> bool:
    """Whether the form's CSRF token is the one of its ``mamori_admin_login`` cookie."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    given = fields.get("csrf_token", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def limits(request: Request) -> Limits:
    """The lockout limits of the settings."""
    settings = deps.settings(request)
    return Limits(
        login_failures=settings.admin_lockout_failures,
        client_failures=settings.admin_lockout_client_failures,
        minutes=settings.admin_lockout_minutes,
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_cookie(request: Request, response: Response, name: str, value: str, **kw: int) -> None:
    """Set a console cookie (HttpOnly, SameSite=Strict, Path=/admin, Secure over https)."""
    _set_cookie(request, response, name, value, **kw)


def clear_cookie(request: Request, response: Response, name: str) -> None:
    _clear_cookie(request, response, name)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    try:
        _session(request)
    except StaffSessionRequired:
        return _login_page(request, next_url=_safe_next(next))
    return RedirectResponse(_safe_next(next) or nav.lang_url(request, "/admin"), 303)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await read_form(request, max_fields=10)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    typed = fields.get("login", "")
    next_url = _safe_next(fields.get("next"))
    if not login_csrf_ok(request, fields):
        return _login_page(request, status_code=403, problem="csrf", login=typed, next_url=next_url)
    settings = deps.settings(request)
    try:
        begun = await run_in_threadpool(
            begin_sign_in,
            directory(request),
            typed,
            fields.get("password", ""),
            client=client_address(request),
            agent=request.headers.get("user-agent", ""),
            limits=limits(request),
            max_age=dt.timedelta(hours=settings.admin_session_max_hours),
            require_second_factor=settings.admin_require_totp,
        )
    except SignInLocked as exc:
        return _login_page(
            request,
            status_code=429,
            problem="locked",
            message=str(-(-exc.retry_after // 60)),
            login=typed,
            next_url=next_url,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except SignInFailed:
        return _login_page(
            request, status_code=401, problem="failed", login=typed, next_url=next_url
        )
    if isinstance(begun, Pending):
        step = "/admin/login/code" if begun.stage == "code" else "/admin/login/enrol"
        query = {"next": quote(next_url)} if next_url else {}
        response = RedirectResponse(nav.lang_url(request, step, **query), 303)
        _set_cookie(request, response, PENDING_COOKIE, begun.token, max_age=900)
        return response
    response = RedirectResponse(next_url or nav.lang_url(request, "/admin"), 303)
    _set_cookie(request, response, COOKIE, begun.token)
    _clear_cookie(request, response, LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Sign out (any role may); without a live session there is nothing to end."""
    try:
        session: Session | None = await run_in_threadpool(_session, request)
    except StaffSessionRequired:
        session = None
    if session is not None:
        form = await read_form(request, max_fields=10)
        value = form.get("csrf_token")
        check_csrf(request, value if isinstance(value, str) else None)
        await run_in_threadpool(sessions.end, directory(request), session)
    response = RedirectResponse(nav.lang_url(request, "/admin/login", signed_out="1"), 303)
    _clear_cookie(request, response, COOKIE)
    return response
