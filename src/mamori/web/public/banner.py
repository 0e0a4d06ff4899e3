"""Cookie consent's public surface: the banner script, its settings, receipts, the form.

- ``GET /consent/banner.js``, ``GET /consent/banner.css``: the script sites include (async) and
  its style; static, cached, no dependencies.
- ``GET /consent/config?lang=ja[&id=<consent id>]``: what the banner shows (built from the
  published policy's cookie registry), the version and hashes, the Consent Mode mapping, and
  whether the request carried ``Sec-GPC: 1`` (read here, before anything is shown); with the
  site cookie's consent ID, the newest choice of the person known under it (``person``).
- ``POST /consent/receipts``: one choice, as JSON (sent as ``text/plain`` so that no CORS
  preflight is needed); 201 once the receipt is durable.
- ``GET``/``POST /consent``: the same banner as a server-rendered form, for browsers without
  JavaScript (the privacy center's own page is :mod:`mamori.web.center.cookies`).
- ``GET /consent/demo``: a host page to try the banner with (a blocked script, a video).

Sites other than mamori's own origin may read the settings and post receipts only when listed in
``MAMORI_CONSENT_ORIGINS``.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mamori.consent.service import Consent, Current
from mamori.errors import ConsentChoiceInvalid, ConsentOriginRefused, ValueTooLarge
from mamori.i18n import Lang
from mamori.web import deps
from mamori.web.consent import (
    FormDep,
    consent_of,
    form_context,
    gpc,
    person_choice,
    record_form,
    set_cookie,
)
from mamori.web.rendering import page, request_lang

__all__ = ["router"]

STATIC = Path(__file__).resolve().parents[1] / "static" / "consent"
MAX_BODY = 16 * 1024

router = APIRouter(include_in_schema=False)

_DEMO_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src https://www.youtube-nocookie.com https://www.youtube.com; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _own_origin(request: Request) -> str:
    settings = deps.settings(request)
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
    settings = deps.settings(request)
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


def _person(request: Request, current: Current, consent_id: str | None) -> dict[str, Any] | None:
    """The newest choice of the person known under the browser's consent ID, for the banner
    to adopt when it is newer than the site's cookie (:mod:`mamori.consent.person`)."""
    if consent_id is None:
        return None
    mine = person_choice(request, current, consent_id)
    if mine is None:
        return None
    granted, refused = mine.cookie_lists(current.policy.cookies)
    return {"at": int(mine.chosen_at.timestamp()), "granted": granted, "refused": refused}


@router.get("/consent/config")
def config(request: Request, id: str | None = None) -> Response:
    """The banner's settings; with ``id`` (the consent ID of the site's cookie), the newest
    choice of the person known under it. A site whose origin is not allowed gets a 403 it can
    read (``setting`` names what to change), so that the script can say so in the console."""
    try:
        origin = _allowed_origin(request)
    except ConsentOriginRefused as refused:
        body = {"error": str(refused), "status": 403, "setting": "MAMORI_CONSENT_ORIGINS"}
        response = Response(orjson.dumps(body), status_code=403, media_type="application/json")
        response.headers["Cache-Control"] = "no-store"
        return _cors(response, request.headers.get("origin"))
    consent = consent_of(request)
    current = consent.current()
    body = _config(consent, current, request_lang(request), gpc(request))
    person = _person(request, current, id)
    if person is not None:
        body["person"] = person
    response = Response(orjson.dumps(body), media_type="application/json")
    response.headers["Cache-Control"] = "no-cache" if id is None else "private, no-store"
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
        gpc=_bool(body.get("gpc", False), "gpc") or gpc(request),
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
        **form_context(request, consent, lang),
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Sec-GPC, Cookie"
    return response


@router.post("/consent")
def consent_post(request: Request, form: FormDep) -> Response:
    _allowed_origin(request)
    current, consent_id, choice = record_form(request, form, source="form", subject_id=None)
    lang = form.get("lang") if form.get("lang") in ("ja", "en") else "ja"
    response = RedirectResponse(f"/consent?saved=1&lang={lang}", status_code=303)
    set_cookie(request, response, current, consent_id, choice, consent_of(request).days)
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
    )
    response.headers["Content-Security-Policy"] = _DEMO_CSP
    return response
