"""The privacy center: the person's own pages (usage-stop settings, withdrawal), under /center.

A person comes in through a single-use signed link that the host service asks for
(:mod:`mamori.center.access`), which opens a session held in an HttpOnly, SameSite cookie.
Pages are server-rendered, Japanese first, and work without JavaScript; every form carries the
session's CSRF token. Responses are never cached. mamori's errors on these routes become pages
in the person's language that say what to do next (ask the service for a new link, reload the
page), with the status of :data:`_PROBLEMS`.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.app import Runtime
from mamori.center import access
from mamori.center.access import COOKIE, Session
from mamori.changes.consents import person_changes
from mamori.config import Settings
from mamori.errors import (
    CenterLinkExpired,
    CenterLinkInvalid,
    CenterSessionRequired,
    CsrfRejected,
    MamoriError,
    NotStoppable,
    SubjectWithdrawn,
    UnknownItem,
    UnknownPurpose,
)
from mamori.vault.access import Caller
from mamori.vault.restrictions import set_stops, usage_settings
from mamori.web.center_forms import requested_stops, settings_page
from mamori.web.errors import headers_for, status_for
from mamori.web.i18n import LANGUAGES, Lang
from mamori.web.page_routes import page_route
from mamori.web.rendering import error_page, page, request_lang

__all__ = ["router"]

log = logging.getLogger("mamori.web.center")

# (error, status, problem): the problem names the words of the page (center/problem.html).
_PROBLEMS: tuple[tuple[type[MamoriError], int, str], ...] = (
    (CenterLinkExpired, 410, "link"),
    (CenterLinkInvalid, 400, "link"),
    (CenterSessionRequired, 401, "no_session"),
    (CsrfRejected, 403, "csrf"),
    (SubjectWithdrawn, 410, "withdrawn"),
    (NotStoppable, 400, "not_stoppable"),
    (UnknownItem, 400, "unknown_setting"),
    (UnknownPurpose, 400, "unknown_setting"),
)


_CenterRoute = page_route(lambda request, exc: _problem(request, exc))
"""The center's route class (also used by the other /center routers)."""

router = APIRouter(prefix="/center", include_in_schema=False, route_class=_CenterRoute)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Session:
    return access.current_session(
        _runtime(request).vault,
        request.cookies.get(COOKIE),
        minutes=_settings(request).center_session_minutes,
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=500)
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}


SessionDep = Annotated[Session, Depends(_session)]
FormDep = Annotated[dict[str, str], Depends(_form)]


def _url(request: Request, path: str) -> str:
    """``path`` keeping an explicit, valid ``?lang=`` of the request."""
    lang = request.query_params.get("lang")
    return f"{path}?lang={lang}" if lang in LANGUAGES else path


def _page(
    request: Request, name: str, lang: Lang, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    policy = _runtime(request).published.current().policy
    return page(
        request,
        name,
        lang,
        status_code=status_code,
        operator=policy.operator.name.get(lang),
        **context,
    )


def _set_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        path="/center",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def _clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE,
        path="/center",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def _problem(request: Request, exc: MamoriError) -> Response:
    found = next(((s, p) for kind, s, p in _PROBLEMS if isinstance(exc, kind)), None)
    if found is None:  # not the center's own: the site's error page
        status = status_for(exc)
        if status >= 500:
            log.error("request failed: %s %s: %s", request.method, request.url.path, type(exc))
        headers = headers_for(exc)
        return error_page(request, status, exc.message, headers=dict(headers) if headers else None)
    status, problem = found
    lang = request_lang(request, strict=False)
    response = _page(request, "center/problem.html", lang, status_code=status, problem=problem)
    if isinstance(exc, CenterSessionRequired) and COOKIE in request.cookies:
        _clear_cookie(request, response)
    return response


# -- entering and leaving ------------------------------------------------------------------


@router.get("/enter")
def enter(request: Request, token: str | None = None) -> Response:
    """Follow a signed link: spend it, open a session, and leave the token's address (303)."""
    entered = access.enter(
        _runtime(request).vault,
        token,
        minutes=_settings(request).center_session_minutes,
        replacing=request.cookies.get(COOKIE),
    )
    response = RedirectResponse(_url(request, "/center"), status_code=303)
    _set_cookie(request, response, entered.cookie)
    return response


@router.post("/logout")
def logout(request: Request, form: FormDep) -> Response:
    try:
        session: Session | None = _session(request)
    except CenterSessionRequired:
        session = None  # signed out already: nothing to end
    if session is not None:
        access.check_csrf(session, form.get("csrf_token"))
        access.end_session(_runtime(request).vault, session)
    response = RedirectResponse(_url(request, "/center/signed-out"), status_code=303)
    _clear_cookie(request, response)
    return response


@router.get("/signed-out", response_class=HTMLResponse)
def signed_out(request: Request) -> HTMLResponse:
    return _page(request, "center/signed_out.html", request_lang(request))


# -- usage-stop settings -------------------------------------------------------------------


def _home(request: Request, session: Session, *, saved: bool) -> HTMLResponse:
    lang = request_lang(request)
    runtime = _runtime(request)
    view = usage_settings(runtime.vault, session.subject_id)
    policy = runtime.published.current().policy
    changes = person_changes(runtime.vault, session.subject_id)
    return _page(
        request,
        "center/home.html",
        lang,
        csrf_token=session.csrf_token,
        settings=settings_page(view, lang),
        saved=saved,
        usage_stop=policy.usage_stop.get(lang),
        usage_stop_settings=policy.requests.usage_stop_settings.get(lang),
        policy_changes=changes,
        # Purposes a pending change would add uses to: not used until the person consents.
        awaiting_purposes={purpose for c in changes.pending for _item, purpose in c.consent_uses},
        changes_words=center_changes_words(lang),
    )


def center_changes_words(lang: Lang) -> dict[str, str]:
    from mamori.web.center_changes import words

    return words(lang)


@router.get("", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    return _home(request, session, saved=False)


@router.get("/settings")
def settings_get(request: Request) -> Response:
    """The address the settings form answers at; a GET (a language switch) goes home."""
    return RedirectResponse(_url(request, "/center"), status_code=303)


@router.post("/settings", response_class=HTMLResponse)
def settings_post(request: Request, session: SessionDep, form: FormDep) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    vault = _runtime(request).vault
    stopped_items, stopped_purposes = requested_stops(
        usage_settings(vault, session.subject_id), form
    )
    set_stops(
        vault,
        Caller.person(session.subject_id),
        session.subject_id,
        stopped_items=stopped_items,
        stopped_purposes=stopped_purposes,
    )
    return _home(request, session, saved=True)


# -- withdrawal ----------------------------------------------------------------------------


def _withdraw_page(request: Request, session: Session, *, unconfirmed: bool) -> HTMLResponse:
    return _page(
        request,
        "center/withdraw.html",
        request_lang(request),
        status_code=400 if unconfirmed else 200,
        csrf_token=session.csrf_token,
        unconfirmed=unconfirmed,
    )


@router.get("/withdraw", response_class=HTMLResponse)
def withdraw_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _withdraw_page(request, session, unconfirmed=False)


@router.post("/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, session: SessionDep, form: FormDep) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    if form.get("confirm") != "yes":
        return _withdraw_page(request, session, unconfirmed=True)
    # Deletes every item, event, stop, link and session of the person, and the data key.
    _runtime(request).vault.withdraw(Caller.person(session.subject_id), session.subject_id)
    response = _page(request, "center/withdrawn.html", request_lang(request))
    _clear_cookie(request, response)
    return response
