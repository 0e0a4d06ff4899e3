"""Cookie consent as the web layer serves it: the process's consent service and the choice
forms that work without JavaScript, shared by the public pages (:mod:`mamori.web.public.banner`)
and the privacy center's cookie settings (:mod:`mamori.web.center.cookies`)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response

from mamori.consent.choice import COOKIE, Choice, choice_from_cookie, decode_cookie, encode_cookie
from mamori.consent.person import PersonChoice, newest_choice, person_of
from mamori.consent.service import Consent, Current
from mamori.errors import ConsentChoiceInvalid
from mamori.i18n import Lang
from mamori.web import deps
from mamori.web.forms import read_form

__all__ = [
    "FormDep",
    "consent_of",
    "form_context",
    "gpc",
    "person_choice",
    "record_form",
    "set_cookie",
]

_created = threading.Lock()


def consent_of(request: Request) -> Consent:
    """The process's :class:`Consent` (one per app: its receipts share one group commit)."""
    state = request.app.state
    found: Consent | None = getattr(state, "consent", None)
    if found is None:
        with _created:
            found = getattr(state, "consent", None)
            if found is None:
                runtime = deps.runtime(request)
                settings = deps.settings(request)
                found = Consent(
                    runtime.engine, runtime.audit, runtime.published, days=settings.consent_days
                )
                state.consent = found
    return found


def gpc(request: Request) -> bool:
    return request.headers.get("sec-gpc", "").strip() == "1"


def _stored_choice(
    request: Request, current: Current, days: int
) -> tuple[str | None, Choice | None, dt.datetime | None]:
    stored = decode_cookie(
        request.cookies.get(COOKIE),
        section=current.section,
        days=days,
        now=deps.runtime(request).clock.now(),
    )
    if stored is None:
        return None, None, None
    if not stored.valid:
        return stored.consent_id, None, None
    return stored.consent_id, choice_from_cookie(current.policy.cookies, stored), stored.chosen_at


def person_choice(
    request: Request, current: Current, consent_id: str | None, subject_id: str | None = None
) -> PersonChoice | None:
    """The newest choice of the person signed in (``subject_id``), or of the one person known
    to have made choices under ``consent_id`` (:mod:`mamori.consent.person`)."""
    runtime = deps.runtime(request)
    if subject_id is None and consent_id is not None:
        subject_id = person_of(runtime.engine, consent_id)
    if subject_id is None:
        return None
    return newest_choice(
        runtime.engine,
        subject_id,
        current.policy.cookies,
        current.section,
        runtime.clock.now(),
    )


def form_context(
    request: Request, consent: Consent, lang: Lang, *, subject_id: str | None = None
) -> dict[str, Any]:
    """What a choice form shows: the banner's words and the choice in force, the newer of this
    browser's cookie and the person's newest choice made anywhere."""
    current = consent.current()
    banner = consent.banner(current.version, lang, gpc=gpc(request))
    consent_id, choice, chosen_at = _stored_choice(request, current, consent.days)
    mine = person_choice(request, current, consent_id, subject_id)
    if mine is not None and (chosen_at is None or mine.chosen_at > chosen_at):
        choice = mine.choice
    return {
        "banner": banner.content,
        "text_hash": banner.text_hash,
        "version": current.version,
        "gpc": banner.gpc,
        "choice": choice,
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


def record_form(
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
    consent_id, _, _ = _stored_choice(request, current, consent.days)
    receipt, choice = consent.record(
        consent_id=consent_id,
        version=version,
        lang=form.get("lang", ""),
        text_hash=form.get("hash", ""),
        gpc=gpc(request),
        method=method,
        source=source,
        categories=categories,
        services=services,
        subject_id=subject_id,
    )
    return current, receipt.consent_id, choice


def set_cookie(
    request: Request,
    response: Response,
    current: Current,
    consent_id: str,
    choice: Choice,
    days: int,
) -> None:
    now = deps.runtime(request).clock.now()
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
    form = await read_form(request, max_fields=500)
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}


FormDep = Annotated[dict[str, str], Depends(_form)]
