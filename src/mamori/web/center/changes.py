"""The privacy center's pages about policy changes: notices, consent, and the policy history.

``/center/policy-changes`` lists what changed since the person arrived: changes that need their
consent (each with a consent form) and notices they have not read (each with a "read" button).
``/center/policy-history`` lists every published version with what changed, linking to each
version's full text. Forms carry the session's CSRF token; pages work without JavaScript.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.center import access
from mamori.changes import consents
from mamori.i18n import N_
from mamori.publication import records, versions
from mamori.vault.access import Caller
from mamori.web import deps
from mamori.web.center import common
from mamori.web.center.common import FormDep, SessionDep
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = common.router()

_CHANNEL_WORDS = (  # where a consent was given (center/changes.html: changes.channel_<channel>)
    N_("changes.channel_center"),
    N_("changes.channel_api"),
)


Version = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _changes_page(
    request: Request, session: access.Session, *, done: str | None = None
) -> HTMLResponse:
    lang = request_lang(request)
    person = consents.person_changes(deps.runtime(request).vault, session.subject_id)
    return common.page(
        request,
        "center/changes.html",
        lang,
        csrf_token=session.csrf_token,
        person=person,
        done=done,
    )


@router.get("/policy-changes", response_class=HTMLResponse)
def changes_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _changes_page(request, session)


@router.post("/policy-changes/{version}/consent", response_class=HTMLResponse)
def consent(request: Request, version: Version, session: SessionDep, form: FormDep) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    subject_id = session.subject_id
    consents.consent(
        deps.runtime(request).vault,
        Caller.person(subject_id),
        subject_id,
        version,
        channel="center",
    )
    return _changes_page(request, session, done="consent")


@router.post("/policy-changes/{version}/read", response_class=HTMLResponse)
def mark_read(
    request: Request, version: Version, session: SessionDep, form: FormDep
) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    subject_id = session.subject_id
    vault = deps.runtime(request).vault
    consents.mark_read(vault, Caller.person(subject_id), subject_id, version)
    return _changes_page(request, session, done="read")


@router.get("/policy-changes/{version}/consent")
@router.get("/policy-changes/{version}/read")
def changes_get(request: Request, version: Version) -> Response:
    """The addresses the forms answer at; a GET (a language switch) goes to the list."""
    return RedirectResponse(common.url(request, "/center/policy-changes"), status_code=303)


@router.get("/policy-history", response_class=HTMLResponse)
def history(request: Request, session: SessionDep) -> HTMLResponse:
    lang = request_lang(request)
    engine = deps.runtime(request).engine
    published = versions.versions(engine)
    changes = {r.version: r for r in records.records(engine)}
    return common.page(
        request,
        "center/history.html",
        lang,
        versions=list(reversed(published)),
        changes=changes,
        current=published[-1].version if published else None,
    )
