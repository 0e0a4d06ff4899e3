"""The privacy center's cookie settings: the banner's choices as a form, recorded with the
signed-in person (``GET``/``POST /center/cookies``)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.center import access
from mamori.web.center import common
from mamori.web.consent import FormDep, consent_of, form_context, record_form, set_cookie
from mamori.web.rendering import page, request_lang

__all__ = ["router"]

# The page shares the center's sessions and its error pages.
router = common.router()


@router.get("/cookies", response_class=HTMLResponse)
def center_cookies(
    request: Request, session: common.SessionDep, saved: bool = False
) -> HTMLResponse:
    lang = request_lang(request)
    consent = consent_of(request)
    response = page(
        request,
        "center/cookies.html",
        lang,
        operator=consent.current().policy.operator.name.get(lang),
        action="/center/cookies",
        csrf_token=session.csrf_token,
        saved=saved,
        **form_context(request, consent, lang, subject_id=session.subject_id),
    )
    response.headers["Vary"] = "Accept-Language, Sec-GPC, Cookie"
    return response


@router.post("/cookies")
def center_cookies_post(request: Request, session: common.SessionDep, form: FormDep) -> Response:
    access.check_csrf(session, form.get("csrf_token"))
    current, consent_id, choice = record_form(
        request, form, source="center", subject_id=session.subject_id
    )
    lang = form.get("lang") if form.get("lang") in ("ja", "en") else "ja"
    response = RedirectResponse(f"/center/cookies?saved=1&lang={lang}", status_code=303)
    set_cookie(request, response, current, consent_id, choice, consent_of(request).days)
    return response
