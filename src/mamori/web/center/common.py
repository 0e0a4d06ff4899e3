"""What the privacy center's pages share: the session, the forms, the page and its problems.

A person comes in through a single-use signed link that the host service asks for
(:mod:`mamori.center.access`), which opens a session held in an HttpOnly, SameSite cookie.
Pages are server-rendered, Japanese first, and work without JavaScript; every form carries the
session's CSRF token. Responses are never cached. mamori's errors on these routes become pages
in the person's language that say what to do next (ask the service for a new link, reload the
page), with the status of the one table (:func:`mamori.web.errors.status_for`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from mamori.center import access
from mamori.center.access import COOKIE, Session
from mamori.errors import (
    CenterActionNotAllowed,
    CenterLinkInvalid,
    CenterSessionRequired,
    CsrfRejected,
    MamoriError,
    NotStoppable,
    SubjectWithdrawn,
    UnknownItem,
    UnknownPurpose,
)
from mamori.i18n import N_
from mamori.web import deps
from mamori.web.errors import for_error, status_for
from mamori.web.forms import read_form
from mamori.web.i18n import LANGUAGES, Lang
from mamori.web.page_routes import page_route
from mamori.web.rendering import page as site_page
from mamori.web.rendering import request_lang

__all__ = [
    "PROBLEMS",
    "CenterRoute",
    "FormDep",
    "SessionDep",
    "clear_cookie",
    "form",
    "page",
    "problem",
    "router",
    "session",
    "set_cookie",
    "url",
]

PROBLEMS: tuple[tuple[type[MamoriError], str], ...] = (
    (CenterActionNotAllowed, "not_allowed"),
    (CenterLinkInvalid, "link"),
    (CenterSessionRequired, "no_session"),
    (CsrfRejected, "csrf"),
    (SubjectWithdrawn, "withdrawn"),
    (NotStoppable, "not_stoppable"),
    (UnknownItem, "unknown_setting"),
    (UnknownPurpose, "unknown_setting"),
)
"""(error, problem): the problem names the words of the page (center/problem.html)."""

_PROBLEM_WORDS = (  # the messages center/problem.html looks up by the problem's name
    N_("page.center_problem_link_title"),
    N_("page.center_problem_link"),
    N_("page.center_problem_no_session_title"),
    N_("page.center_problem_csrf_title"),
    N_("page.center_problem_csrf"),
    N_("page.center_problem_withdrawn_title"),
    N_("page.center_problem_withdrawn"),
    N_("page.center_problem_not_stoppable_title"),
    N_("page.center_problem_not_stoppable"),
    N_("page.center_problem_unknown_setting_title"),
    N_("page.center_problem_unknown_setting"),
    N_("page.center_problem_not_allowed_title"),
    N_("page.center_problem_not_allowed"),
)


def session(request: Request) -> Session:
    """The person's live privacy-center session (its expiry slides forward), or a 401 page."""
    return access.current_session(
        deps.runtime(request).vault,
        request.cookies.get(COOKIE),
        minutes=deps.settings(request).center_session_minutes,
    )


async def form(request: Request) -> dict[str, str]:
    """The submitted form's text fields (no files)."""
    found = await read_form(request, max_fields=500)
    return {name: value for name, value in found.multi_items() if isinstance(value, str)}


SessionDep = Annotated[Session, Depends(session)]
FormDep = Annotated[dict[str, str], Depends(form)]


def url(request: Request, path: str) -> str:
    """``path`` keeping an explicit, valid ``?lang=`` of the request."""
    lang = request.query_params.get("lang")
    return f"{path}?lang={lang}" if lang in LANGUAGES else path


def page(
    request: Request, name: str, lang: Lang, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A center page, signed with the operator's name."""
    policy = deps.runtime(request).published.current().policy
    return site_page(
        request,
        name,
        lang,
        status_code=status_code,
        operator=policy.operator.name.get(lang),
        **context,
    )


def set_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        path="/center",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE,
        path="/center",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def problem(request: Request, exc: MamoriError) -> Response:
    """The center's page for ``exc``, or the site's error page for an error not its own."""
    found = next((p for kind, p in PROBLEMS if isinstance(exc, kind)), None)
    if found is None:
        return for_error(request, exc)
    lang = request_lang(request, strict=False)
    response = page(
        request, "center/problem.html", lang, status_code=status_for(exc), problem=found
    )
    if isinstance(exc, CenterSessionRequired) and COOKIE in request.cookies:
        clear_cookie(request, response)
    return response


CenterRoute = page_route(problem)
"""The route class of the center's pages: ``no-store``, and errors as :func:`problem` pages."""


def router() -> APIRouter:
    """A router for pages under /center (each part of the center has its own)."""
    return APIRouter(prefix="/center", include_in_schema=False, route_class=CenterRoute)
