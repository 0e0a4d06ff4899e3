"""The couple's pages: sign-up and sign-in, the invitation, the guest and shipping lists, the
account settings that lead into mamori's privacy center."""

from __future__ import annotations

import re
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.errors import ApiError
from yobunara.people import Device
from yobunara.storage import new_id
from yobunara.web.common import SESSION, account, lang, redirect, render, service, sign_in

__all__ = ["router"]

router = APIRouter()
HASHER = PasswordHasher()
DESIGNS = ("sakura", "aozora")
Text = Annotated[str, Form(max_length=2000)]
VIDEO = re.compile(
    r"^(?:https?://)?(?:www\.|m\.)?(?:youtube\.com/(?:watch\?v=|embed/|shorts/)|youtu\.be/)"
    r"([A-Za-z0-9_-]{11})"
)
ITEMS = ("name", "email", "address", "phone")


def _device(request: Request) -> Device:
    host = request.client.host if request.client else None
    return Device.of(request.headers.get("user-agent", ""), host)


def _problem_field(error: ApiError) -> str:
    """mamori names the item it refused (never the value): map it to the form's field."""
    text = str(error)
    return next((item for item in ITEMS if f"'{item}'" in text or f" {item}" in text), "")


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    if account(request):
        return redirect("/dashboard", request)
    return render(request, "home.html")


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request) -> Response:
    return render(request, "signup.html", problem=None, form={})


@router.post("/signup", response_class=HTMLResponse)
def signup(
    request: Request,
    name: Text,
    email: Text,
    address: Text,
    phone: Text,
    password: Annotated[str, Form(max_length=200)],
) -> Response:
    svc = service(request)
    form = {"name": name, "email": email, "address": address, "phone": phone}
    if not all(v.strip() for v in form.values()):
        return render(request, "signup.html", 400, problem=("required", ""), form=form)
    if len(password) < 10:
        return render(request, "signup.html", 400, problem=("short_password", ""), form=form)
    try:
        if svc.store.accounts_of(svc.people.subjects_with_email(email)):
            return render(request, "signup.html", 400, problem=("taken", ""), form=form)
        account_id = new_id("acct")
        subject = svc.people.sign_up(
            account_id, name=name, email=email, address=address, phone=phone
        )
    except ApiError as error:
        if error.status != 400:
            raise
        field = _problem_field(error)
        return render(request, "signup.html", 400, problem=("bad_value", field), form=form)
    svc.store.add_account(account_id, subject, HASHER.hash(password))
    svc.people.record_view(subject, _device(request), action="login")
    return sign_in(redirect("/dashboard", request), request, account_id)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request) -> Response:
    return render(request, "signin.html", problem=None)


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request, email: Text, password: Annotated[str, Form(max_length=200)]
) -> Response:
    svc = service(request)
    try:
        found = svc.store.accounts_of(svc.people.subjects_with_email(email))
    except ApiError as error:
        if error.status != 400:
            raise
        found = []
    for candidate in found:
        try:
            HASHER.verify(candidate.password_hash, password)
        except VerificationError:
            continue
        svc.people.record_view(candidate.subject_id, _device(request), action="login")
        return sign_in(redirect("/dashboard", request), request, candidate.id)
    return render(request, "signin.html", 400, problem="bad_sign_in")


@router.post("/signout")
def signout(request: Request) -> RedirectResponse:
    response = redirect("/", request)
    response.delete_cookie(SESSION)
    return response


def _signed_in(request: Request) -> tuple[str, str] | RedirectResponse:
    found = account(request)
    if found is None:
        return redirect("/signin", request)
    return found.id, found.subject_id


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    who = _signed_in(request)
    if isinstance(who, Response):
        return who
    svc = service(request)
    face = svc.people.invitation_face(who[1])
    invitation = svc.store.invitation_of(who[0])
    answers = svc.store.rsvps(invitation.id) if invitation else []
    attending = sum(1 for a in answers if a.attending)
    link = f"{str(request.base_url).rstrip('/')}/i/{invitation.slug}" if invitation else None
    return render(
        request,
        "dashboard.html",
        face=face,
        invitation=invitation,
        link=link,
        answers=len(answers),
        attending=attending,
    )


@router.get("/invitation/edit", response_class=HTMLResponse)
def invitation_form(request: Request) -> Response:
    who = _signed_in(request)
    if isinstance(who, Response):
        return who
    svc = service(request)
    invitation = svc.store.invitation_of(who[0])
    face = svc.people.invitation_face(who[1])
    form = {
        "event_date": invitation.event_date if invitation else "",
        "event_time": invitation.event_time if invitation else "",
        "venue": invitation.venue if invitation else "",
        "design": invitation.design if invitation else DESIGNS[0],
        "video": f"https://youtu.be/{invitation.video_id}"
        if invitation and invitation.video_id
        else "",
        "greeting": face.values.get("content", ""),
    }
    return render(request, "invitation_form.html", form=form, problem=None, designs=DESIGNS)


@router.post("/invitation/edit", response_class=HTMLResponse)
def invitation_save(
    request: Request,
    event_date: Annotated[str, Form(pattern=r"^\d{4}-\d{2}-\d{2}$")],
    event_time: Annotated[str, Form(pattern=r"^\d{2}:\d{2}$")],
    venue: Annotated[str, Form(min_length=1, max_length=200)],
    greeting: Annotated[str, Form(min_length=1, max_length=2000)],
    design: Annotated[str, Form(max_length=20)] = DESIGNS[0],
    video: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    who = _signed_in(request)
    if isinstance(who, Response):
        return who
    form = {
        "event_date": event_date,
        "event_time": event_time,
        "venue": venue,
        "design": design,
        "video": video,
        "greeting": greeting,
    }
    match = VIDEO.match(video.strip())
    if video.strip() and not match:
        return render(
            request, "invitation_form.html", 400, form=form, problem="bad_video", designs=DESIGNS
        )
    svc = service(request)
    created = svc.store.invitation_of(who[0]) is None
    svc.people.set_greeting(who[1], greeting)  # the couple's content: in mamori
    svc.store.save_invitation(
        who[0],
        event_date=event_date,
        event_time=event_time,
        venue=venue,
        design=design if design in DESIGNS else DESIGNS[0],
        video_id=match[1] if match else "",
    )
    if created:
        svc.people.record_view(who[1], _device(request), action="invitation.create")
    return redirect("/dashboard", request)


def _answers(request: Request, account_id: str) -> list[tuple[str, bool]]:
    invitation = service(request).store.invitation_of(account_id)
    if invitation is None:
        return []
    return [(a.subject_id, a.attending) for a in service(request).store.rsvps(invitation.id)]


@router.get("/guests", response_class=HTMLResponse)
def guests(request: Request) -> Response:
    who = _signed_in(request)
    if isinstance(who, Response):
        return who
    people = service(request).people
    rows = people.guest_list(_answers(request, who[0]))
    dietary = people.dietary_version() is not None
    return render(
        request, "guests.html", rows=rows, dietary=dietary, dietary_item=people.dietary_item
    )


@router.get("/shipping", response_class=HTMLResponse)
def shipping(request: Request) -> Response:
    who = _signed_in(request)
    if isinstance(who, Response):
        return who
    rows = service(request).people.shipping_list(_answers(request, who[0]))
    return render(request, "shipping.html", rows=rows)


@router.get("/account", response_class=HTMLResponse)
def account_settings(request: Request) -> Response:
    who = _signed_in(request)
    if isinstance(who, Response):
        return who
    profile = service(request).people.profile(who[1])
    return render(request, "account.html", profile=profile)


@router.post("/account/center")
def open_center(request: Request) -> Response:
    """A single-use link from mamori's API signs the couple into the privacy center."""
    who = _signed_in(request)
    if isinstance(who, Response):
        return who
    url = service(request).people.center_link(who[1])
    return RedirectResponse(url + ("&lang=en" if lang(request) == "en" else ""), status_code=303)
