"""Public pages: the start page, the privacy policy and its earlier versions, the health check."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from mamori import __version__
from mamori.errors import PolicyNotPublished
from mamori.policy.loader import parse_policy
from mamori.policy.model import Policy
from mamori.policy.render import render_policy
from mamori.publication import records, versions
from mamori.web import deps, ways_in
from mamori.web.i18n import Lang
from mamori.web.rendering import page, request_lang

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=32)
def _policy(source_yaml: str, name: str) -> Policy:
    return parse_policy(source_yaml, name)


@lru_cache(maxsize=64)
def _article(content_hash: str, source_yaml: str, version: int, lang: Lang) -> str:
    policy = _policy(source_yaml, f"policy version {version}")
    return render_policy(
        policy, lang=lang, fmt="html", version=version, mechanisms=ways_in.mechanisms(lang)
    )


def _history(request: Request) -> dict[str, Any]:
    """Every published version, newest first, with what each changed (the revision history)."""
    engine = deps.runtime(request).engine
    return {
        "history": list(reversed(versions.versions(engine))),
        "changes": {r.version: r for r in records.records(engine)},
    }


def _show(request: Request, version: versions.PolicyVersion, current: int) -> HTMLResponse:
    lang = request_lang(request)
    policy = _policy(version.source_yaml, f"policy version {version.version}")
    article = _article(version.content_hash, version.source_yaml, version.version, lang)
    return page(
        request,
        "privacy.html",
        lang,
        title=policy.title.get(lang),
        operator=policy.operator.name.get(lang),
        article=Markup(article),  # rendered by mamori.policy.render with autoescape on
        version=version,
        current=current,
        **_history(request),
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    lang = request_lang(request)
    current = versions.current(deps.runtime(request).engine)
    operator = None
    if current is not None:
        operator = _policy(current.source_yaml, f"policy version {current.version}").operator
    return page(
        request,
        "index.html",
        lang,
        current=current,
        operator=operator.name.get(lang) if operator else None,
        mamori_version=__version__,
    )


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request) -> HTMLResponse:
    current = versions.current(deps.runtime(request).engine)
    if current is None:
        raise PolicyNotPublished()
    return _show(request, current, current.version)


@router.get("/privacy/versions", response_class=HTMLResponse)
def privacy_versions(request: Request) -> HTMLResponse:
    lang = request_lang(request)
    engine = deps.runtime(request).engine
    published = versions.versions(engine)
    if not published:
        raise PolicyNotPublished()
    return page(
        request,
        "versions.html",
        lang,
        versions=list(reversed(published)),
        current=published[-1].version,
        changes={r.version: r for r in records.records(engine)},
    )


@router.get("/privacy/versions/{number}", response_class=HTMLResponse)
def privacy_version(request: Request, number: int) -> HTMLResponse:
    engine = deps.runtime(request).engine
    version = versions.get(engine, number)
    current = versions.current(engine)
    return _show(request, version, current.version if current else number)


_ALIVE = orjson.dumps({"status": "ok", "version": __version__})


@router.get("/healthz")
async def healthz() -> Response:
    """Liveness: the process answers (on the event loop, no database, no thread). Whether it
    can serve (the database, the schema, the keys, a published policy) is ``/readyz``'s."""
    return Response(_ALIVE, media_type="application/json")
