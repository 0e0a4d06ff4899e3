"""The guests' pages: the invitation (with mamori's banner; the video and the tags wait for
consent), the answer (RSVP) with the dietary item behind its own consent, and the way into
the privacy center."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature

from mamori.errors import ApiError
from yobunara.storage import Invitation, new_id
from yobunara.web.common import lang, redirect, render, service
from yobunara.web.couple import _device

__all__ = ["router"]

router = APIRouter()
GUEST = "yobunara_guest"
Text = Annotated[str, Form(max_length=2000)]


def _guests(request: Request) -> dict[str, str]:
    """Invitation slug -> the guest's subject id, for the answers this browser sent."""
    token = request.cookies.get(GUEST)
    if not token:
        return {}
    try:
        found = service(request).signer.loads(token, salt="guest")
    except BadSignature:
        return {}
    return {str(k): str(v) for k, v in dict(found).items()}


def _invitation(request: Request, slug: str) -> Invitation | None:
    return service(request).store.invitation_by_slug(slug)


def _not_found(request: Request) -> Response:
    return render(request, "not_found.html", 404)


def _page(request: Request, invitation: Invitation, status: int = 200, **extra: object) -> Response:
    svc = service(request)
    account = svc.store.account(invitation.account_id)
    if account is None:
        return _not_found(request)
    face = svc.people.invitation_face(account.subject_id)
    context: dict[str, object] = {
        "form": {},
        "problem": None,
        "dietary_version": svc.people.dietary_version(),
        "answered": invitation.slug in _guests(request),
    }
    context.update(extra)
    return render(request, "invitation.html", status, invitation=invitation, face=face, **context)


@router.get("/i/{slug}", response_class=HTMLResponse)
def invitation(request: Request, slug: str) -> Response:
    found = _invitation(request, slug)
    if found is None:
        return _not_found(request)
    svc = service(request)
    svc.store.count_view(found.id)
    guest = _guests(request).get(slug)
    if guest:  # a guest we know: their view is a usage event, in mamori
        try:
            svc.people.record_view(guest, _device(request), action="invitation.view")
        except ApiError as error:
            if error.status not in (404, 409):  # withdrawn since
                raise
    return _page(request, found)


@router.post("/i/{slug}/rsvp", response_class=HTMLResponse)
def answer(
    request: Request,
    slug: str,
    attending: Annotated[str, Form(pattern=r"^(yes|no)$")],
    name: Text,
    email: Text,
    address: Text = "",
    message: Text = "",
    dietary: Text = "",
    dietary_consent: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    found = _invitation(request, slug)
    if found is None:
        return _not_found(request)
    svc = service(request)
    form = {
        "attending": attending,
        "name": name,
        "email": email,
        "address": address,
        "message": message,
        "dietary": dietary,
    }
    if not name.strip() or not email.strip():
        return _page(request, found, 400, form=form, problem=("required", ""))
    version = svc.people.dietary_version()
    wants_dietary = bool(dietary.strip()) and version is not None
    if wants_dietary and dietary_consent != "yes":
        # Sensitive data (要配慮個人情報) only with the guest's consent: nothing is stored.
        return _page(request, found, 400, form=form, problem=("dietary_needs_consent", ""))
    answer_id = new_id("ans")
    try:
        subject = svc.people.add_guest(
            answer_id, name=name, email=email, address=address, message=message
        )
    except ApiError as error:
        if error.status != 400:
            raise
        return _page(request, found, 400, form=form, problem=("bad_value", ""))
    if wants_dietary and version is not None:
        svc.people.store_dietary(subject, version, dietary.strip())
    svc.store.add_rsvp(found.id, subject, attending=attending == "yes")
    consent_id = request.cookies.get("mamori_consent", "").split(".")[0]
    if consent_id:
        svc.people.link_browser(subject, consent_id)
    known = _guests(request) | {slug: subject}
    response = redirect(f"/i/{slug}/thanks", request)
    response.set_cookie(
        GUEST,
        svc.signer.dumps(known, salt="guest"),
        max_age=400 * 86400,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/i/{slug}/thanks", response_class=HTMLResponse)
def thanks(request: Request, slug: str) -> Response:
    found = _invitation(request, slug)
    if found is None or slug not in _guests(request):
        return _not_found(request)
    return render(request, "thanks.html", invitation=found)


@router.post("/i/{slug}/center")
def guest_center(request: Request, slug: str) -> Response:
    """The guest's own way into the privacy center: their answer's data, their requests."""
    guest = _guests(request).get(slug)
    if guest is None:
        return _not_found(request)
    url = service(request).people.center_link(guest)
    return RedirectResponse(url + ("&lang=en" if lang(request) == "en" else ""), status_code=303)
