"""People's requests in the privacy center, under /center/requests (no JavaScript needed).

A person chooses a type, fills in its form and sends it. Signed in to the privacy center (the
host service's signed link), they are known: the request is verified at once. Anyone else gets
a 6-digit code by e-mail, and entering it opens a short session for that one request (cookie
``mamori_request``, HttpOnly, Path=/center/requests/<id>, so that sessions of several requests
live side by side in one browser; only its hash is stored). The status page
and the package download need that session, or the privacy-center session of the request's
subject. Forms outside a center session carry a double-submit CSRF token (cookie
``mamori_request_form`` equal to the form field).
"""

from __future__ import annotations

import hmac
import secrets
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mamori.center import access
from mamori.center.access import COOKIE as CENTER_COOKIE
from mamori.center.access import Session
from mamori.errors import (
    CenterSessionRequired,
    CodeLocked,
    CodeRejected,
    CsrfRejected,
    DownloadUnavailable,
    MamoriError,
    NotFound,
    RateLimited,
    RequestSessionRequired,
    UserInputError,
)
from mamori.i18n import N_
from mamori.requests import labels, package, service
from mamori.requests.intake import check_intake, correctable
from mamori.requests.model import (
    GROUNDS_OF,
    OPERATION_OF,
    Agent,
    Delivery,
    RequestType,
    Verification,
)
from mamori.requests.model import Request as DataRequest
from mamori.web import deps
from mamori.web.center import common
from mamori.web.errors import for_error, status_for
from mamori.web.forms import MAX_FORM_BYTES, read_form
from mamori.web.i18n import Lang
from mamori.web.page_routes import page_route
from mamori.web.rendering import request_lang

__all__ = ["FORM_COOKIE", "SESSION_COOKIE", "router"]

SESSION_COOKIE: Final = "mamori_request"
FORM_COOKIE: Final = "mamori_request_form"
PATH: Final = "/center/requests"

PROBLEMS: tuple[tuple[type[MamoriError], str], ...] = (
    (CodeLocked, "problem_locked"),
    (CodeRejected, "problem_code"),
    (RateLimited, "problem_rate"),
    (RequestSessionRequired, "problem_session"),
    (DownloadUnavailable, "problem_download"),
    (CsrfRejected, "problem_csrf"),
)
"""(error, problem) of the request pages (center/requests/problem.html); statuses come from
the one table (:func:`mamori.web.errors.status_for`)."""

_PROBLEM_WORDS = (  # the messages center/requests/problem.html looks up by the problem's name
    N_("req.problem_locked"),
    N_("req.problem_code"),
    N_("req.problem_rate"),
    N_("req.problem_session"),
    N_("req.problem_download"),
    N_("req.problem_csrf"),
    N_("req.problem_input"),
)


router = APIRouter(
    prefix=PATH,
    include_in_schema=False,
    route_class=page_route(lambda request, exc: _problem(request, exc)),
)


def _base_url(request: Request) -> str:
    return deps.runtime(request).settings.public_url or str(request.base_url).rstrip("/")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _center_session(request: Request) -> Session | None:
    try:
        return access.current_session(
            deps.runtime(request).vault,
            request.cookies.get(CENTER_COOKIE),
            minutes=deps.runtime(request).settings.center_session_minutes,
        )
    except CenterSessionRequired:
        return None


CenterDep = Annotated[Session | None, Depends(_center_session)]


def _page(
    request: Request, name: str, lang: Lang, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A center page with the request labels."""
    return common.page(request, name, lang, status_code=status_code, labels=labels, **context)


def _problem(request: Request, exc: MamoriError) -> Response:
    lang = request_lang(request, strict=False)
    key = next((k for kind, k in PROBLEMS if isinstance(exc, kind)), None)
    if key is None and isinstance(exc, UserInputError) and not isinstance(exc, NotFound):
        key = "problem_input"
    if key is None:
        return for_error(request, exc)
    status = status_for(exc)
    request_id = request.path_params.get("request_id")
    response = _page(
        request,
        "center/requests/problem.html",
        lang,
        status_code=status,
        problem=key,
        detail=exc.message if key == "problem_input" else "",
        request_id=request_id,
        form_token=_form_token(request),
    )
    return _keep_form_token(request, response)


# -- CSRF for forms outside a center session (double submit) ---------------------------------


def _form_token(request: Request) -> str:
    token = request.cookies.get(FORM_COOKIE)
    if token and 20 <= len(token) <= 64:
        return token
    fresh: str | None = getattr(request.state, "form_token", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        request.state.form_token = fresh
    return fresh


def _keep_form_token(request: Request, response: Response) -> Response:
    fresh: str | None = getattr(request.state, "form_token", None)
    if fresh is not None:
        response.set_cookie(
            FORM_COOKIE,
            fresh,
            path=PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
    return response


def _check_form(request: Request, center: Session | None, submitted: str | None) -> None:
    if center is not None and submitted == center.csrf_token:
        return
    cookie = request.cookies.get(FORM_COOKIE) or ""
    given = (submitted or "").encode("utf-8", "replace")
    if not cookie or not hmac.compare_digest(given, cookie.encode("utf-8", "replace")):
        raise CsrfRejected()


# -- the list of types and the forms ---------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def index(request: Request, center: CenterDep) -> HTMLResponse:
    lang = request_lang(request)
    policy = deps.runtime(request).published.current().policy
    mine = service.of_subject(deps.runtime(request), center.subject_id) if center else []
    return _page(
        request,
        "center/requests/index.html",
        lang,
        types=list(RequestType),
        contact=policy.contact,
        where=policy.requests.where.get(lang),
        identity=policy.requests.identity_verification.get(lang),
        mine=mine,
    )


def _subject_type(request: Request, center: Session | None) -> str:
    """Whose items the form offers: the signed-in person's type; otherwise the type the person
    chose (``?who=``), or the policy's first (its customers)."""
    runtime = deps.runtime(request)
    if center is not None:
        return runtime.vault.get_subject(center.subject_id).type
    chosen = request.query_params.get("who")
    types = [s.id for s in runtime.published.current().policy.subjects]
    return chosen if chosen in types else types[0]


def _kind(type: str) -> RequestType:
    try:
        return RequestType(type)
    except ValueError:
        raise NotFound(f"no request type '{type}'") from None


def _form_page(
    request: Request,
    kind: RequestType,
    center: Session | None,
    *,
    status_code: int = 200,
    error: str = "",
    submitted: Mapping[str, str] | None = None,
    chosen: Sequence[str] = (),
) -> Response:
    lang = request_lang(request)
    runtime = deps.runtime(request)
    policy = runtime.published.current().policy
    rules = runtime.vault.rules()
    subject_type = _subject_type(request, center)
    held = rules.subject_types.get(subject_type, frozenset())
    items = [(i.id, i.label.get(lang)) for i in rules.items.values() if i.id in held]
    fixable = set(correctable(rules, subject_type))
    # Someone not signed in says who they are (customer by default): the form then offers the
    # items held for people like them, never a business contact's items to a customer.
    who = (
        [(s.id, s.label.get(lang)) for s in policy.subjects]
        if center is None and len(policy.subjects) > 1
        else []
    )
    response = _page(
        request,
        "center/requests/new.html",
        lang,
        status_code=status_code,
        kind=kind,
        items=items,
        corrections=[(i, label) for i, label in items if i in fixable],
        grounds=GROUNDS_OF.get(kind, ()),
        deliveries=list(Delivery),
        agents=list(Agent),
        fee=runtime.settings.request_fees.get(kind.value),
        proof_mb=runtime.settings.request_proof_max_bytes // (1024 * 1024) or 1,
        contact=policy.contact,
        policy_text=_policy_text(policy, kind, lang),
        signed_in=center is not None,
        subject_type=subject_type,
        subject_types=who,
        csrf_token=center.csrf_token if center else _form_token(request),
        error=error,
        error_field=_error_field(error),
        submitted=submitted or {},
        chosen=set(chosen),
    )
    return _keep_form_token(request, response) if center is None else response


_FIELDS: Final = (
    "email",
    "items",
    "ground",
    "delivery",
    "postal_address",
    "corrections",
    "message",
    "agent",
    "agent_name",
    "proof",
)


_FIX_WORDS = (  # what center/requests/new.html asks of the field an error names (req.fix_<field>)
    N_("req.fix_email"),
    N_("req.fix_items"),
    N_("req.fix_ground"),
    N_("req.fix_delivery"),
    N_("req.fix_postal_address"),
    N_("req.fix_corrections"),
    N_("req.fix_message"),
    N_("req.fix_agent"),
    N_("req.fix_agent_name"),
    N_("req.fix_proof"),
)


def _error_field(error: str) -> str:
    """The form field an intake error names (its message starts with ``field:``), if any."""
    field = error.partition(":")[0]
    return field if field in _FIELDS else ""


def _policy_text(policy: Any, kind: RequestType, lang: str) -> str:
    texts = policy.requests
    chosen = {
        RequestType.disclosure: texts.disclosure,
        RequestType.correction: texts.correction_and_stop,
        RequestType.usage_stop: texts.correction_and_stop,
        RequestType.erasure: texts.erasure,
        RequestType.provision_stop: texts.correction_and_stop,
        RequestType.mail_opt_out: texts.mail_opt_out,
        RequestType.inquiry: policy.contact.text,
    }[kind]
    return str(chosen.get(lang))


@router.get("/new/{type}", response_class=HTMLResponse)
def new(request: Request, type: str, center: CenterDep) -> Response:
    return _form_page(request, _kind(type), center)


async def _read_proof(upload: UploadFile, limit: int) -> bytes | None:
    data = await upload.read(limit + 1)
    return data or None


@router.post("/new/{type}")
async def file(request: Request, type: str) -> Response:
    kind = _kind(type)
    runtime = deps.runtime(request)
    center = await run_in_threadpool(_center_session, request)
    limit = runtime.settings.request_proof_max_bytes
    form = await read_form(
        request,
        max_files=1,
        max_fields=200,
        max_part_size=limit + 1024,
        max_bytes=limit + MAX_FORM_BYTES,
    )
    try:
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        items = [v for v in form.getlist("items") if isinstance(v, str)]
        upload = form.get("proof")
        proof = await _read_proof(upload, limit) if isinstance(upload, UploadFile) else None
        proof_type = upload.content_type if isinstance(upload, UploadFile) else None
    finally:
        await form.close()
    _check_form(request, center, fields.get("csrf_token"))
    lang = request_lang(request)
    corrections = {
        name.removeprefix("correction."): value
        for name, value in fields.items()
        if name.startswith("correction.") and value.strip()
    }
    try:
        subject_type = await run_in_threadpool(_subject_type, request, center)
        intake = check_intake(
            runtime.vault.rules(),
            type=kind.value,
            subject_type=subject_type,
            language=lang,
            email=fields.get("email", ""),
            items=items,
            ground=fields.get("ground") or None,
            delivery=fields.get("delivery") or None,
            agent=fields.get("agent") or None,
            message=fields.get("message"),
            corrections=corrections or None,
            agent_name=fields.get("agent_name"),
            postal_address=fields.get("postal_address"),
            proof=proof,
            proof_type=proof_type,
            max_proof_bytes=limit,
        )
    except UserInputError as exc:
        # The form comes back filled in as it was sent (except the file), with what to fix.
        message = exc.message
        return await run_in_threadpool(
            lambda: _form_page(
                request,
                kind,
                center,
                status_code=400,
                error=message,
                submitted={k: v for k, v in fields.items() if k != "csrf_token"},
                chosen=items,
            )
        )
    # The session vouches for the person only as far as the key behind its link could act;
    # beyond that the request is confirmed by a code sent to the address, like anyone's.
    needed = OPERATION_OF[kind]
    vouched = center if center and (needed is None or center.allows(needed)) else None
    filed = await run_in_threadpool(
        service.file_request,
        runtime,
        intake,
        actor=f"subject:{center.subject_id}" if center else "system:center",
        client=_client(request),
        base_url=_base_url(request),
        subject_id=vouched.subject_id if vouched else None,
        verified_by=Verification.session if vouched else None,
    )
    target = f"{PATH}/{filed.id}" if vouched else f"{PATH}/{filed.id}/verify"
    return RedirectResponse(f"{target}?lang={lang}&filed=1", status_code=303)


# -- identity by code ------------------------------------------------------------------------


def _verify_page(
    request: Request,
    request_id: str,
    *,
    status_code: int = 200,
    sent: bool = False,
    filed: bool = False,
    problem: str = "",
) -> Response:
    """The code form: the request's number, the tries its code has left, and, after a wrong
    code, what went wrong next to the field (the form stays, with a way to get a new code)."""
    lang = request_lang(request)
    wait = service.code_wait(deps.runtime(request), request_id)
    response = _page(
        request,
        "center/requests/verify.html",
        lang,
        status_code=status_code,
        request_id=request_id,
        r=wait.request,
        tries_left=wait.tries_left,
        csrf_token=_form_token(request),
        sent=sent,
        filed=filed,
        problem=problem,
    )
    return _keep_form_token(request, response)


@router.get("/{request_id}/verify", response_class=HTMLResponse)
def verify_page(request: Request, request_id: str, sent: int = 0, filed: int = 0) -> Response:
    return _verify_page(request, request_id, sent=bool(sent), filed=bool(filed))


@router.post("/{request_id}/verify")
async def verify(request: Request, request_id: str) -> Response:
    form = await read_form(request, max_fields=10)
    token = form.get("csrf_token")
    _check_form(request, None, token if isinstance(token, str) else None)
    code = form.get("code")
    try:
        verified = await run_in_threadpool(
            lambda: service.verify_code(
                deps.runtime(request),
                request_id,
                code if isinstance(code, str) else "",
                base_url=_base_url(request),
            )
        )
    except (CodeRejected, CodeLocked) as exc:
        problem = "problem_locked" if isinstance(exc, CodeLocked) else "problem_code"
        status = status_for(exc)
        return await run_in_threadpool(
            lambda: _verify_page(request, request_id, status_code=status, problem=problem)
        )
    lang = request_lang(request)
    response = RedirectResponse(f"{PATH}/{request_id}?lang={lang}&verified=1", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        verified.session,
        path=f"{PATH}/{request_id}",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/{request_id}/code")
async def resend(request: Request, request_id: str) -> Response:
    form = await read_form(request, max_fields=10)
    token = form.get("csrf_token")
    _check_form(request, None, token if isinstance(token, str) else None)
    await run_in_threadpool(
        service.send_code,
        deps.runtime(request),
        request_id,
        client=_client(request),
        base_url=_base_url(request),
    )
    lang = request_lang(request)
    return RedirectResponse(f"{PATH}/{request_id}/verify?lang={lang}&sent=1", status_code=303)


# -- the status page and the download ---------------------------------------------------------


def _mine(request: Request, request_id: str, center: Session | None) -> DataRequest:
    return service.session_request(
        deps.runtime(request),
        request_id,
        token=request.cookies.get(SESSION_COOKIE),
        center_subject=center.subject_id if center else None,
    )


@router.get("/{request_id}", response_class=HTMLResponse)
def status(
    request: Request, request_id: str, center: CenterDep, verified: int = 0, filed: int = 0
) -> HTMLResponse:
    lang = request_lang(request)
    found = _mine(request, request_id, center)
    now = deps.runtime(request).clock.now()
    can_download = (
        found.download_until is not None and found.download_until > now and found.downloads_left > 0
    )
    return _page(
        request,
        "center/requests/status.html",
        lang,
        r=found,
        reason=str(found.details.get("reason", "")),
        can_download=can_download,
        verified=bool(verified),
        filed=bool(filed),
    )


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    try:
        handle.seek(0)
        while chunk := handle.read(1 << 16):
            yield chunk
    finally:
        handle.close()


@router.get("/{request_id}/package")
def download(request: Request, request_id: str, center: CenterDep) -> Response:
    runtime = deps.runtime(request)
    found = _mine(request, request_id, center)
    found = service.open_download(runtime, found)
    if found.subject_id is None:
        raise DownloadUnavailable("no person is linked to this request")
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _chunks once streamed)
    try:
        package.build(runtime, found.subject_id, handle, language=found.language)
    except BaseException:
        handle.close()
        raise
    return StreamingResponse(
        _chunks(handle),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="disclosure-{found.id}.zip"'},
    )
