"""The privacy center's own pages: entering and leaving, the home's tiles, the usage-stop
settings (seed §5), the person's data (わたしのデータ), withdrawal. What they share is in
:mod:`mamori.web.center.common`."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.center import access
from mamori.center.access import COOKIE, Session
from mamori.changes.consents import person_changes
from mamori.errors import CenterSessionRequired
from mamori.store import db
from mamori.vault.access import Caller
from mamori.vault.own import held_items
from mamori.vault.restrictions import set_stops, usage_settings
from mamori.web import deps
from mamori.web.center import common
from mamori.web.center.data import data_rows
from mamori.web.center.forms import requested_stops, settings_page
from mamori.web.i18n import Lang
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = common.router()


# -- entering and leaving ------------------------------------------------------------------


@router.get("/enter")
def enter(request: Request, token: str | None = None) -> Response:
    """Follow a signed link: spend it, open a session, and leave the token's address (303)."""
    entered = access.enter(
        deps.runtime(request).vault,
        token,
        minutes=deps.settings(request).center_session_minutes,
        replacing=request.cookies.get(COOKIE),
    )
    response = RedirectResponse(common.url(request, "/center"), status_code=303)
    common.set_cookie(request, response, entered.cookie)
    return response


@router.post("/logout")
def logout(request: Request, form: common.FormDep) -> Response:
    try:
        session: Session | None = common.session(request)
    except CenterSessionRequired:
        session = None  # signed out already: nothing to end
    if session is not None:
        access.check_csrf(session, form.get("csrf_token"))
        access.end_session(deps.runtime(request).vault, session)
    response = RedirectResponse(common.url(request, "/center/signed-out"), status_code=303)
    common.clear_cookie(request, response)
    return response


@router.get("/signed-out", response_class=HTMLResponse)
def signed_out(request: Request) -> HTMLResponse:
    return common.page(request, "center/signed_out.html", request_lang(request))


# -- the home (tiles) and the usage-stop settings ------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(request: Request, session: common.SessionDep) -> HTMLResponse:
    lang = request_lang(request)
    runtime = deps.runtime(request)
    policy = runtime.published.current().policy
    return common.page(
        request,
        "center/home.html",
        lang,
        csrf_token=session.csrf_token,
        usage_stop=policy.usage_stop.get(lang),
        policy_changes=person_changes(runtime.vault, session.subject_id),
        # Withdrawal is offered only in a session from a key that may delete (issue 10).
        may_withdraw=session.allows("delete"),
    )


def _settings(request: Request, session: Session, *, saved: bool) -> HTMLResponse:
    lang = request_lang(request)
    runtime = deps.runtime(request)
    view = usage_settings(runtime.vault, session.subject_id)
    policy = runtime.published.current().policy
    changes = person_changes(runtime.vault, session.subject_id)
    return common.page(
        request,
        "center/settings.html",
        lang,
        csrf_token=session.csrf_token,
        settings=settings_page(view, lang),
        saved=saved,
        usage_stop_settings=policy.requests.usage_stop_settings.get(lang),
        # Purposes a pending change would add uses to: not used until the person consents.
        awaiting_purposes={purpose for c in changes.pending for _item, purpose in c.consent_uses},
    )


@router.get("/settings", response_class=HTMLResponse)
def settings_get(request: Request, session: common.SessionDep) -> HTMLResponse:
    """利用の設定: the usage-stop settings of the person's items and purposes (seed §5)."""
    return _settings(request, session, saved=False)


@router.post("/settings", response_class=HTMLResponse)
def settings_post(
    request: Request, session: common.SessionDep, form: common.FormDep
) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    vault = deps.runtime(request).vault
    stopped_items, stopped_purposes = requested_stops(
        usage_settings(vault, session.subject_id), form
    )
    set_stops(
        vault,
        Caller.person(session.subject_id),
        session.subject_id,
        stopped_items=stopped_items,
        stopped_purposes=stopped_purposes,
    )
    return _settings(request, session, saved=True)


@router.get("/data", response_class=HTMLResponse)
def my_data(request: Request, session: common.SessionDep) -> HTMLResponse:
    """わたしのデータ: every item held of the person, as they may see it."""
    lang = request_lang(request)
    held = held_items(deps.runtime(request).vault, session.subject_id)
    return common.page(request, "center/data.html", lang, rows=data_rows(held, lang))


# -- withdrawal ----------------------------------------------------------------------------


def _withdraw_page(request: Request, session: Session, *, unconfirmed: bool) -> HTMLResponse:
    return common.page(
        request,
        "center/withdraw.html",
        request_lang(request),
        status_code=400 if unconfirmed else 200,
        csrf_token=session.csrf_token,
        unconfirmed=unconfirmed,
        may_withdraw=session.allows("delete"),
    )


def _confirm_withdrawal(request: Request, address: str, lang: Lang) -> None:
    """The mail that confirms a withdrawal (template ``withdrawal_done``), to the address the
    person held; queued without their id, which names no one any more."""
    runtime = deps.runtime(request)
    public = (runtime.settings.public_url or str(request.base_url)).rstrip("/")
    operator = runtime.published.current().policy.operator.name.get(lang)
    with db.write(runtime.engine) as conn:
        runtime.mail.queue(
            conn,
            to=address,
            template="withdrawal_done",
            language=lang,
            context={"operator": operator, "policy_url": f"{public}/privacy?lang={lang}"},
            subject_id=None,
        )


@router.get("/withdraw", response_class=HTMLResponse)
def withdraw_page(request: Request, session: common.SessionDep) -> HTMLResponse:
    return _withdraw_page(request, session, unconfirmed=False)


@router.post("/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, session: common.SessionDep, form: common.FormDep) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    # Only a link from a key that may delete opens a session that may withdraw (issue 10).
    session.require("delete")
    if form.get("confirm") != "yes":
        return _withdraw_page(request, session, unconfirmed=True)
    runtime = deps.runtime(request)
    lang = request_lang(request)
    # Read before the withdrawal destroys it: the confirmation goes to the address they held.
    address = runtime.vault.contact_address(session.subject_id)
    # Deletes every item, event, stop, link and session of the person, and the data key.
    runtime.vault.withdraw(Caller.person(session.subject_id), session.subject_id)
    if address:
        _confirm_withdrawal(request, address, lang)
    response = common.page(request, "center/withdrawn.html", lang)
    common.clear_cookie(request, response)
    return response
