"""Jinja2 environment of the pages and the helpers views share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from mamori import clock, i18n
from mamori.clock import local_text
from mamori.errors import MamoriError, UnsupportedLanguage
from mamori.web import ways_in
from mamori.web.i18n import Lang, negotiate

__all__ = [
    "error_page",
    "local_date",
    "local_time",
    "page",
    "request_lang",
    "templates",
    "wants_html",
]

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
i18n.install(templates.env)  # {{ _("key") }} in the page's language (the context's lang)


@pass_context
def local_time(context: Mapping[str, Any], value: dt.datetime | None) -> str:
    """``{{ when | local_time }}``: a stored (UTC) time in the operator's time zone
    (MAMORI_TIME_ZONE), to the minute, with the zone's abbreviation (``2026-12-02 19:54 JST``)."""
    if value is None:
        return ""
    request = context.get("request")
    name = request.app.state.settings.time_zone if request is not None else "Asia/Tokyo"
    return local_text(value, name)


@pass_context
def local_date(context: Mapping[str, Any], value: dt.datetime | None) -> str:
    """``{{ when | local_date }}``: the calendar day a stored (UTC) time falls on in the
    operator's time zone (``2026-12-03``)."""
    if value is None:
        return ""
    request = context.get("request")
    name = request.app.state.settings.time_zone if request is not None else "Asia/Tokyo"
    return clock.local_date(value, name).isoformat()


templates.env.filters["local_time"] = local_time
templates.env.filters["local_date"] = local_date
templates.env.globals["ways_in"] = ways_in  # the header and footer links (base.html)


def request_lang(request: Request, *, strict: bool = True) -> Lang:
    """The page language: ``?lang=``, then Accept-Language, then MAMORI_DEFAULT_LANGUAGE."""
    default: Lang = request.app.state.settings.default_language
    try:
        return negotiate(
            request.query_params.get("lang"), request.headers.get("accept-language"), default
        )
    except ValueError:
        if not strict:
            return default
        raise UnsupportedLanguage() from None


def wants_html(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/healthz", "/openapi.json")):
        return False
    return "text/html" in request.headers.get("accept", "")


def page(
    request: Request,
    name: str,
    lang: Lang,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        name,
        {"lang": lang, "other_lang": "en" if lang == "ja" else "ja", **context},
        status_code=status_code,
        headers=headers,
    )
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language"
    return response


_STATUS_WORDS: dict[int, str] = {
    400: i18n.N_("error.status_400"),
    401: i18n.N_("error.status_401"),
    403: i18n.N_("error.status_403"),
    404: i18n.N_("error.status_404"),
    405: i18n.N_("error.status_405"),
    409: i18n.N_("error.status_409"),
    410: i18n.N_("error.status_410"),
    413: i18n.N_("error.status_413"),
    415: i18n.N_("error.status_415"),
    422: i18n.N_("error.status_422"),
    429: i18n.N_("error.status_429"),
    500: i18n.N_("error.status_500"),
    503: i18n.N_("error.status_503"),
}
"""What the error page says for each status, in the page's language."""
_OTHER = i18n.N_("error.status_other")
_ERROR_WORDS: tuple[tuple[type[MamoriError], str], ...] = (
    (UnsupportedLanguage, i18n.N_("error.unsupported_language")),
)
"""Errors whose words say more than their status's."""


def error_page(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    error: MamoriError | None = None,
) -> HTMLResponse:
    """The site's error page: what happened and what to do, in the page's language. The
    error's own message (English, as the API answers it) is shown on English pages; a
    Japanese page says it in Japanese, by the error's kind or its status. Staff in the admin
    console also get the precise reason (which field, what to give), marked as English."""
    lang = request_lang(request, strict=False)
    staff = request.url.path.startswith("/admin")
    key = next((k for kind, k in _ERROR_WORDS if isinstance(error, kind)), None)
    words = i18n.t(lang, key or _STATUS_WORDS.get(status, _OTHER))
    return page(
        request,
        "error.html",
        lang,
        status_code=status,
        headers=headers,
        status=status,
        message=words,
        detail=message if lang == "en" or staff else "",
        detail_lang="en" if lang != "en" else None,
    )
