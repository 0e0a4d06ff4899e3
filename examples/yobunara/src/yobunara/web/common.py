"""What every page shares: the service, the language, rendering, the couple's session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer

from yobunara import words
from yobunara.people import People
from yobunara.settings import Settings
from yobunara.storage import Account, Store
from yobunara.words import Lang

__all__ = ["Service", "account", "lang", "redirect", "render", "service"]

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
SESSION = "yobunara_session"
SESSION_DAYS = 14


@dataclass
class Service:
    settings: Settings
    store: Store
    people: People

    @property
    def signer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.settings.session_secret, salt="yobunara")


def service(request: Request) -> Service:
    found: Service = request.app.state.yobunara
    return found


def lang(request: Request) -> Lang:
    return "en" if request.query_params.get("lang") == "en" else "ja"


def with_lang(path: str, language: Lang) -> str:
    if language == "ja":
        return path
    return f"{path}{'&' if '?' in path else '?'}lang=en"


def redirect(path: str, request: Request) -> RedirectResponse:
    return RedirectResponse(with_lang(path, lang(request)), status_code=303)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    language = lang(request)
    other: Lang = "ja" if language == "en" else "en"
    query = dict(request.query_params)
    query.pop("lang", None)
    switch = request.url.path + ("?lang=en" if other == "en" else "")
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "lang": language,
            "_": lambda key, **values: words.t(language, key, **values),
            "refusal": lambda reason: words.refusal(language, reason),
            "url": lambda path: with_lang(path, language),
            "switch_url": switch,
            "mamori": service(request).settings.browser_mamori_url,
            **context,
        },
        status_code=status,
    )


def sign_in(response: RedirectResponse, request: Request, account_id: str) -> RedirectResponse:
    token = service(request).signer.dumps(account_id)
    response.set_cookie(SESSION, token, max_age=SESSION_DAYS * 86400, httponly=True, samesite="lax")
    return response


def account(request: Request) -> Account | None:
    """The signed-in couple's account; None when signed out or the account is gone."""
    token = request.cookies.get(SESSION)
    if not token:
        return None
    try:
        account_id = service(request).signer.loads(token, max_age=SESSION_DAYS * 86400)
    except BadSignature:
        return None
    return service(request).store.account(str(account_id))
