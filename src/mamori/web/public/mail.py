"""Mail opt-out pages (seed §10(3), RFC 8058): /mail/unsubscribe/<token>.

``POST /mail/unsubscribe/<token>`` is the one-click unsubscribe that mail clients send
(``List-Unsubscribe=One-Click``) and the preference page's form: the signed token alone
authorises it (no cookie, no CSRF token; RFC 8058 section 3). ``GET`` shows the preference page,
Japanese first, with a form to stop (or resume) marketing mail; it changes nothing, so a link
scanner that follows the link opts nobody out. ``POST .../resume`` undoes an opt-out.
Responses are never cached and set no cookie.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.errors import MamoriError, UnsubscribeLinkInvalid
from mamori.i18n import t
from mamori.mail.optout import Source
from mamori.web import deps
from mamori.web.forms import read_form
from mamori.web.page_routes import page_route
from mamori.web.rendering import page, request_lang

__all__ = ["router"]


def _invalid_link(request: Request, exc: MamoriError) -> Response:
    if isinstance(exc, UnsubscribeLinkInvalid):
        return _page(request, status_code=400, state="invalid")
    raise exc


router = APIRouter(prefix="/mail", include_in_schema=False, route_class=page_route(_invalid_link))


def _page(request: Request, *, state: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = request_lang(request, strict=False)
    operator = deps.runtime(request).mail.operator(lang)
    return page(
        request,
        "mail/preferences.html",
        lang,
        status_code=status_code,
        operator=operator,
        receiving=t(lang, "optout.receiving", operator=operator),
        state=state,
        **context,
    )


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def preferences(request: Request, token: str) -> HTMLResponse:
    """The preference page: what is sent, and a form to stop or resume it. Changes nothing."""
    _, opted_out = deps.runtime(request).mail.read_unsubscribe(token)
    return _page(request, state="stopped" if opted_out else "receiving", token=token)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe(request: Request, token: str) -> HTMLResponse:
    """One-click unsubscribe (RFC 8058) and the preference page's stop button."""
    form = await read_form(request, max_fields=10)
    source: Source = "page" if form.get("from") == "page" else "one-click"
    mail = deps.runtime(request).mail
    await to_thread.run_sync(lambda: mail.unsubscribe(token, source=source))
    return _page(request, state="stopped", just="stopped", token=token)


@router.post("/unsubscribe/{token}/resume", response_class=HTMLResponse)
def resume(request: Request, token: str) -> HTMLResponse:
    """Undo an opt-out from the preference page."""
    deps.runtime(request).mail.resubscribe(token)
    return _page(request, state="receiving", just="resumed", token=token)


@router.get("/unsubscribe/{token}/resume")
def resume_get(request: Request, token: str) -> Response:
    """A GET here (the page's language switch) goes to the preference page."""
    lang = request.query_params.get("lang")
    query = f"?lang={lang}" if lang in ("ja", "en") else ""
    return RedirectResponse(f"/mail/unsubscribe/{token}{query}", status_code=303)
