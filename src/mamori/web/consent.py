"""Cookie consent over HTTP: the banner script, its settings, receipts, and the forms without JS.

- ``GET /consent/banner.js``, ``GET /consent/banner.css``: the script sites include (async) and
  its style; static, cached, no dependencies.
- ``GET /consent/config?lang=ja``: what the banner shows (built from the published policy's
  cookie registry), the version and hashes, the Consent Mode mapping, and whether the request
  carried ``Sec-GPC: 1`` (read here, before anything is shown).
- ``POST /consent/receipts``: one choice, as JSON (sent as ``text/plain`` so that no CORS
  preflight is needed); 201 once the receipt is durable.
- ``GET``/``POST /consent``: the same banner as a server-rendered form, for browsers without
  JavaScript; ``GET``/``POST /center/cookies``: the privacy center's cookie settings (the choice
  recorded with the signed-in subject).
- ``GET /consent/demo``: a host page to try the banner with (a blocked script, a video).
- ``GET /api/v1/consent/receipts``: every receipt as JSON Lines (service key with ``read``).

Sites other than mamori's own origin may read the settings and post receipts only when listed in
``MAMORI_CONSENT_ORIGINS``.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from mamori.app import Runtime
from mamori.center import access
from mamori.center.access import Session
from mamori.config import Settings
from mamori.consent.banner import Lang
from mamori.consent.choice import COOKIE, Choice, choice_from_cookie, decode_cookie, encode_cookie
from mamori.consent.service import Consent, Current
from mamori.errors import ConsentChoiceInvalid, ConsentOriginRefused, ValueTooLarge
from mamori.vault.service_keys import ServiceAccount
from mamori.web import center
from mamori.web.auth import require_operation
from mamori.web.rendering import page, request_lang

__all__ = ["api_router", "center_router", "consent_of", "router"]

STATIC = Path(__file__).parent / "static" / "consent"
MAX_BODY = 16 * 1024

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["consent"])
# The privacy-center page shares the center's sessions and its error pages.
center_router = APIRouter(
    prefix="/center", include_in_schema=False, route_class=center._CenterRoute
)

_DEMO_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src https://www.youtube-nocookie.com https://www.youtube.com; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_created = threading.Lock()

_PAGE_WORDS: dict[str, dict[Lang, str]] = {
    "title": {"ja": "クッキーの設定", "en": "Cookie settings"},
    "saved": {
        "ja": "クッキーの設定を保存しました。",
        "en": "Your cookie settings are saved.",
    },
    "current": {"ja": "現在の設定", "en": "Your current choice"},
    "none": {"ja": "まだ選択されていません。", "en": "You have not chosen yet."},
    "on": {"ja": "有効", "en": "On"},
    "off": {"ja": "無効", "en": "Off"},
    "demo_title": {"ja": "クッキーバナーの確認用ページ", "en": "Cookie banner test page"},
    "demo_body": {
        "ja": "このページは、サイトに組み込んだクッキーバナーの動作を確かめるためのものです。"
        "分析と広告のスクリプトは同意の後にだけ動き、動画は同意の後にだけ読み込まれます。",
        "en": "This page shows the cookie banner as a site includes it. The analytics and "
        "advertising scripts run only after consent, and the video loads only after consent.",
    },
    "demo_video": {"ja": "招待状の動画", "en": "Invitation video"},
    "demo_open": {"ja": "クッキーの設定を変更する", "en": "Change cookie settings"},
}


def _words(lang: Lang) -> dict[str, str]:
    return {key: value[lang] for key, value in _PAGE_WORDS.items()}


def consent_of(request: Request) -> Consent:
    """The process's :class:`Consent` (one per app: its receipts share one group commit)."""
    state = request.app.state
    found: Consent | None = getattr(state, "consent", None)
    if found is None:
        with _created:
            found = getattr(state, "consent", None)
            if found is None:
                runtime: Runtime = state.runtime
                settings: Settings = state.settings
                found = Consent(
                    runtime.engine, runtime.audit, runtime.published, days=settings.consent_days
                )
                state.consent = found
    return found


def _gpc(request: Request) -> bool:
    return request.headers.get("sec-gpc", "").strip() == "1"


def _own_origin(request: Request) -> str:
    settings: Settings = request.app.state.settings
    if settings.public_url:
        scheme, _, rest = settings.public_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
    return f"{request.url.scheme}://{request.url.netloc}"


def _allowed_origin(request: Request) -> str | None:
    """The request's ``Origin`` when it may use the banner; ``None`` when it sent none.

    Raises :class:`ConsentOriginRefused` for any other origin.
    """
    origin = request.headers.get("origin")
    if origin is None:
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise ConsentOriginRefused()
        return None
    settings: Settings = request.app.state.settings
    if origin == _own_origin(request) or origin in settings.consent_origins:
        return origin
    raise ConsentOriginRefused()


def _cors(response: Response, origin: str | None) -> Response:
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin, Sec-GPC, Accept-Language"
    return response


# -- the script, its style and its settings -------------------------------------------------


@cache
def _asset(name: str, compressed: bool = False) -> bytes:
    raw = (STATIC / name).read_bytes()
    return gzip.compress(raw, 9, mtime=0) if compressed else raw


def _accepts_gzip(request: Request) -> bool:
    for coding in request.headers.get("accept-encoding", "").lower().split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


def _static(request: Request, name: str, media_type: str) -> Response:
    """The asset, gzip-compressed (once, ahead) for every browser that accepts it: what the
    size budget counts is what goes over the wire."""
    compressed = _accepts_gzip(request)
    headers = {
        "Cache-Control": "public, max-age=3600",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Vary": "Accept-Encoding",
    }
    if compressed:
        headers["Content-Encoding"] = "gzip"
    return Response(_asset(name, compressed), media_type=media_type, headers=headers)


@router.get("/consent/banner.js")
def banner_js(request: Request) -> Response:
    return _static(request, "banner.js", "text/javascript; charset=utf-8")


@router.get("/consent/banner.css")
def banner_css(request: Request) -> Response:
    return _static(request, "banner.css", "text/css; charset=utf-8")


def _config(consent: Consent, current: Current, lang: Lang, gpc: bool) -> dict[str, Any]:
    shown = consent.banner(current.version, lang, gpc=gpc)
    config: dict[str, Any] = {
        "version": current.version,
        "section": current.section[:16],
        "days": consent.days,
        "gpc": gpc,
        "hash": shown.text_hash,
        "text": shown.content,
        "modes": {c.id: list(c.consent_mode) for c in current.policy.cookies.categories},
    }
    alt = consent.banner(current.version, lang, gpc=True)
    if not gpc and alt.text_hash != shown.text_hash:  # the signal may be seen only in the page
        config["alt"] = {
            "hash": alt.text_hash,
            "text": {k: alt.content[k] for k in ("accept", "gpc_notice", "categories")},
        }
    return config


@router.get("/consent/config")
def config(request: Request) -> Response:
    origin = _allowed_origin(request)
    consent = consent_of(request)
    body = _config(consent, consent.current(), request_lang(request), _gpc(request))
    response = Response(orjson.dumps(body), media_type="application/json")
    response.headers["Cache-Control"] = "no-cache"
    return _cors(response, origin)


# -- receipts --------------------------------------------------------------------------------


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConsentChoiceInvalid(f"{name}: give true or false")
    return value


def _map(value: object, name: str) -> dict[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConsentChoiceInvalid(f"{name}: give an object of id: true or false")
    return value


async def _limited_body(request: Request) -> bytes:
    """The body, read no further than :data:`MAX_BODY` (a larger one is refused as it comes)."""
    too_large = ValueTooLarge(f"the choice is larger than {MAX_BODY} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise too_large
    return bytes(raw)


@router.post("/consent/receipts", status_code=201)
async def receipts(request: Request) -> Response:
    origin = _allowed_origin(request)
    raw = await _limited_body(request)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ConsentChoiceInvalid("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ConsentChoiceInvalid("the body must be a JSON object")
    version, consent_id, text_hash = body.get("version"), body.get("consent_id"), body.get("hash")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConsentChoiceInvalid("version: give the policy version the banner showed")
    if consent_id is not None and not isinstance(consent_id, str):
        raise ConsentChoiceInvalid("consent_id: give a string")
    if not isinstance(text_hash, str):
        raise ConsentChoiceInvalid("hash: give the banner text hash from /consent/config")
    consent = consent_of(request)
    receipt, _ = await run_in_threadpool(
        consent.record,
        consent_id=consent_id,
        version=version,
        lang=str(body.get("lang")),
        text_hash=text_hash,
        gpc=_bool(body.get("gpc", False), "gpc") or _gpc(request),
        method=str(body.get("method")),
        source="banner",
        categories=_map(body.get("categories"), "categories"),
        services=_map(body.get("services"), "services"),
    )
    response = Response(
        orjson.dumps(
            {
                "consent_id": receipt.consent_id,
                "receipt": receipt.seq,
                "expires_at": receipt.expires_at.isoformat(),
            }
        ),
        status_code=201,
        media_type="application/json",
    )
    return _cors(response, origin)


@api_router.get(
    "/consent/receipts",
    summary="Every consent receipt, as JSON Lines",
    response_class=StreamingResponse,
)
def export_receipts(
    request: Request,
    account: Annotated[ServiceAccount, Depends(require_operation("read"))],
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> StreamingResponse:
    """Receipts after sequence number ``after``, oldest first, one JSON object per line."""
    receipts = consent_of(request).receipts.export(actor=f"service:{account.id}", after=after)
    first = next(receipts, None)  # the audit entry is written before the response starts

    def lines() -> Iterator[bytes]:
        if first is not None:
            yield orjson.dumps(first.to_json()) + b"\n"
            for receipt in receipts:
                yield orjson.dumps(receipt.to_json()) + b"\n"

    return StreamingResponse(iterate_in_threadpool(lines()), media_type="application/x-ndjson")


# -- the forms without JavaScript ------------------------------------------------------------


def _stored_choice(
    request: Request, current: Current, days: int
) -> tuple[str | None, Choice | None]:
    stored = decode_cookie(
        request.cookies.get(COOKIE),
        section=current.section,
        days=days,
        now=request.app.state.runtime.clock.now(),
    )
    if stored is None:
        return None, None
    return stored.consent_id, (
        choice_from_cookie(current.policy.cookies, stored) if stored.valid else None
    )


def _form_context(request: Request, consent: Consent, lang: Lang) -> dict[str, Any]:
    current = consent.current()
    gpc = _gpc(request)
    banner = consent.banner(current.version, lang, gpc=gpc)
    _, choice = _stored_choice(request, current, consent.days)
    return {
        "banner": banner.content,
        "text_hash": banner.text_hash,
        "version": current.version,
        "gpc": banner.gpc,
        "choice": choice,
        "w": _words(lang),
    }


def _form_choice(form: dict[str, str]) -> tuple[str, dict[str, object], dict[str, object]]:
    method = form.get("method", "")
    categories: dict[str, object] = {}
    services: dict[str, object] = {}
    for name in form:
        kind, _, ident = name.partition(".")
        if kind == "category":
            categories[ident] = True
        elif kind == "service":
            services[ident] = True
    return method, categories, services


def _record_form(
    request: Request, form: dict[str, str], *, source: str, subject_id: str | None
) -> tuple[Current, str, Choice]:
    consent = consent_of(request)
    try:
        version = int(form.get("version", ""))
    except ValueError:
        raise ConsentChoiceInvalid("version: give the policy version the form showed") from None
    current = consent.version(version)
    method, categories, services = _form_choice(form)
    if method == "custom":  # a box not ticked is not sent: every service not named is refused
        for service in current.policy.cookies.services:
            services.setdefault(service.id, False)
    consent_id, _ = _stored_choice(request, current, consent.days)
    receipt, choice = consent.record(
        consent_id=consent_id,
        version=version,
        lang=form.get("lang", ""),
        text_hash=form.get("hash", ""),
        gpc=_gpc(request),
        method=method,
        source=source,
        categories=categories,
        services=services,
        subject_id=subject_id,
    )
    return current, receipt.consent_id, choice


def _set_cookie(
    request: Request,
    response: Response,
    current: Current,
    consent_id: str,
    choice: Choice,
    days: int,
) -> None:
    now = request.app.state.runtime.clock.now()
    response.set_cookie(
        COOKIE,
        encode_cookie(current.policy.cookies, consent_id, current.section, now, choice),
        max_age=days * 86400,
        path="/",
        secure=request.url.scheme == "https",
        httponly=False,  # the banner script on this origin reads it
        samesite="lax",
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=500)
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}


FormDep = Annotated[dict[str, str], Depends(_form)]


@router.get("/consent", response_class=HTMLResponse)
def consent_page(request: Request, saved: bool = False) -> HTMLResponse:
    lang = request_lang(request)
    consent = consent_of(request)
    operator = consent.current().policy.operator.name.get(lang)
    response = page(
        request,
        "consent/page.html",
        lang,
        operator=operator,
        action="/consent",
        csrf_token=None,
        saved=saved,
        **_form_context(request, consent, lang),
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Sec-GPC, Cookie"
    return response


@router.post("/consent")
def consent_post(request: Request, form: FormDep) -> Response:
    _allowed_origin(request)
    current, consent_id, choice = _record_form(request, form, source="form", subject_id=None)
    lang = form.get("lang") if form.get("lang") in ("ja", "en") else "ja"
    response = RedirectResponse(f"/consent?saved=1&lang={lang}", status_code=303)
    _set_cookie(request, response, current, consent_id, choice, consent_of(request).days)
    return response


@center_router.get("/cookies", response_class=HTMLResponse)
def center_cookies(
    request: Request, session: Annotated[Session, Depends(center._session)], saved: bool = False
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
        **_form_context(request, consent, lang),
    )
    response.headers["Vary"] = "Accept-Language, Sec-GPC, Cookie"
    return response


@center_router.post("/cookies")
def center_cookies_post(
    request: Request, session: Annotated[Session, Depends(center._session)], form: FormDep
) -> Response:
    access.check_csrf(session, form.get("csrf_token"))
    current, consent_id, choice = _record_form(
        request, form, source="center", subject_id=session.subject_id
    )
    lang = form.get("lang") if form.get("lang") in ("ja", "en") else "ja"
    response = RedirectResponse(f"/center/cookies?saved=1&lang={lang}", status_code=303)
    _set_cookie(request, response, current, consent_id, choice, consent_of(request).days)
    return response


@router.get("/consent/demo", response_class=HTMLResponse)
def demo(request: Request) -> HTMLResponse:
    lang = request_lang(request)
    consent = consent_of(request)
    response = page(
        request,
        "consent/demo.html",
        lang,
        operator=consent.current().policy.operator.name.get(lang),
        w=_words(lang),
    )
    response.headers["Content-Security-Policy"] = _DEMO_CSP
    return response
