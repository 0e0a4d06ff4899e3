"""The request workflow end to end: file, confirm identity, review, decide, notify, close.

Every function is one use case and one transaction (two where the vault acts on a decision,
see :mod:`mamori.requests.decisions`), with its audit entries inside. The privacy center, the
admin console and the API call these and nothing lower.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from mamori.errors import (
    CodeLocked,
    CodeRejected,
    Conflict,
    DownloadUnavailable,
    RequestSessionRequired,
    UserInputError,
)
from mamori.mail.templates import Rendered
from mamori.policy.model import ValueKind
from mamori.requests import codes, decisions, notices, package, storage, store, workflow
from mamori.requests.intake import Intake
from mamori.requests.model import (
    Delivery,
    Outcome,
    Request,
    RequestType,
    Status,
    Verification,
)
from mamori.requests.store import SealKeys
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.access import Caller

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext

__all__ = [
    "CodeWait",
    "Verified",
    "close",
    "code_wait",
    "decide",
    "file_request",
    "get",
    "link_subject",
    "of_subject",
    "open_download",
    "proof",
    "queue",
    "send_code",
    "session_request",
    "start_review",
    "verify_code",
]


def _keys(ctx: RequestContext) -> SealKeys:
    return SealKeys(ctx.vault.system_keys)


def _limits(ctx: RequestContext) -> codes.Limits:
    s = ctx.settings
    return codes.Limits(s.request_codes_per_address_hour, s.request_codes_per_client_hour)


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def file_request(
    ctx: RequestContext,
    intake: Intake,
    *,
    actor: str,
    client: str,
    base_url: str,
    subject_id: str | None = None,
    verified_by: Verification | None = None,
) -> Request:
    """Store a new request. Verified at once when the person is known (center session, host
    service); otherwise a confirmation code goes to the address given (rate-limited)."""
    keys = _keys(ctx)
    settings = ctx.settings
    now = ctx.clock.now()
    request_id = secrets.token_hex(16)
    fee = settings.request_fees.get(intake.type.value)
    due = workflow.due_at(
        now, intake.type, settings.request_due_days, settings.request_default_due_days
    )
    with db.write(ctx.engine) as conn:
        storage.insert_request(
            conn,
            request_id=request_id,
            type=intake.type.value,
            status=Status.received.value,
            language=intake.language,
            subject_id=subject_id,
            agent=intake.agent.value if intake.agent else None,
            delivery=intake.delivery.value if intake.delivery else None,
            ground=intake.ground.value if intake.ground else None,
            item_ids=intake.items,
            fee=fee,
            sealed=keys.seal_details(request_id, intake.details),
            contact_ref=keys.mac("code-address", intake.email.lower()),
            proof=keys.seal(request_id, "proof", intake.proof) if intake.proof else None,
            proof_type=intake.proof_type,
            now=now,
            due_at=due,
        )
        request = store.load(conn, request_id)
        store.audit(
            ctx.audit,
            conn,
            request,
            "receive",
            actor=actor,
            agent=intake.agent.value if intake.agent else None,
            delivery=intake.delivery.value if intake.delivery else None,
            ground=intake.ground.value if intake.ground else None,
            items=len(intake.items),
            proof=intake.proof is not None,
            fee=fee,
        )
        if verified_by is not None:
            request = _verify(ctx, conn, request, verified_by, actor=actor, now=now)
            notices.received(ctx, conn, request, intake.email, base_url)
        else:
            codes.throttle(
                conn, keys, address=intake.email, client=client, now=now, limits=_limits(ctx)
            )
            code = codes.issue(conn, keys, request_id, now)
            notices.code(ctx, conn, request, intake.email, code, base_url)
            store.audit(ctx.audit, conn, request, "code", actor=actor, result="sent")
        notices.for_staff(ctx, conn, request, "request_new", base_url)
    return replace(request, details=intake.details)


def _verify(
    ctx: RequestContext,
    conn: Connection,
    request: Request,
    method: Verification,
    *,
    actor: str,
    now: dt.datetime,
) -> Request:
    status = workflow.next_status(request.status, Status.verified)
    storage.update(conn, request.id, now=now, status=status.value, verified_by=method.value)
    verified = replace(request, status=status, verified_by=method)
    store.audit(ctx.audit, conn, verified, "verify", actor=actor, method=method.value)
    return verified


def send_code(ctx: RequestContext, request_id: str, *, client: str, base_url: str) -> None:
    """A new code for ``request_id`` to the address it was filed with (to confirm identity,
    or to open a session later to read the answer or download the package)."""
    keys = _keys(ctx)
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id, keys)
        if request.status is Status.closed:
            raise UserInputError("this request is closed")
        email = str(request.details.get("email", ""))
        codes.throttle(conn, keys, address=email, client=client, now=now, limits=_limits(ctx))
        code = codes.issue(conn, keys, request_id, now)
        notices.code(ctx, conn, request, email, code, base_url)
        store.audit(ctx.audit, conn, request, "code", actor="system:center", result="sent")


@dataclass(frozen=True)
class Verified:
    request: Request
    session: str = field(repr=False)
    """The session token for the cookie (only its SHA-256 is stored)."""


@dataclass(frozen=True)
class CodeWait:
    """What the confirmation page shows: the request (for its number) and the tries left at
    the code waiting for it (``None``: no code is waiting)."""

    request: Request
    tries_left: int | None


def code_wait(ctx: RequestContext, request_id: str) -> CodeWait:
    """The request awaiting a code and how many tries its code has left."""
    with db.read(ctx.engine) as conn:
        request = store.load(conn, request_id)
        state = storage.code_state(conn, request_id)
    left = max(codes.MAX_ATTEMPTS - state.attempts, 0) if state is not None else None
    return CodeWait(request, left)


def verify_code(ctx: RequestContext, request_id: str, code: str, *, base_url: str = "") -> Verified:
    """Check a code. Right: the request is verified (if it was not; the person then gets the
    receipt mail, with the request's number and due date) and a session opens. The attempt is
    counted and committed whatever the result; then a wrong, expired or dead code raises
    :class:`CodeRejected` or :class:`CodeLocked`."""
    keys = _keys(ctx)
    now = ctx.clock.now()
    token = secrets.token_urlsafe(32)
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id)
        result = codes.check(conn, keys, request_id, code, now)
        store.audit(ctx.audit, conn, request, "code", actor="system:center", result=result)
        if result is codes.Check.ok:
            if request.status is Status.received:
                request = _verify(
                    ctx, conn, request, Verification.email_code, actor="system:center", now=now
                )
                sealed = store.load(conn, request_id, keys)
                email = str(sealed.details.get("email", ""))
                if email:
                    notices.received(ctx, conn, request, email, base_url)
            minutes = ctx.settings.center_session_minutes
            storage.update(
                conn,
                request_id,
                now=now,
                session_hash=_sha256(token),
                session_expires_at=now + dt.timedelta(minutes=minutes),
            )
    if result is codes.Check.locked:
        raise CodeLocked()
    if result is codes.Check.missing:
        raise CodeRejected("no code is waiting for this request: ask for a new code")
    if result is codes.Check.expired:
        raise CodeRejected("the confirmation code has expired: ask for a new code")
    if result is codes.Check.wrong:
        raise CodeRejected()
    if request.subject_id is None and request.verified_by is Verification.email_code:
        request = link_subject(ctx, request_id)
    return Verified(request, token)


def link_subject(ctx: RequestContext, request_id: str) -> Request:
    """Find the person a verified e-mail request is about, by the address it was filed with
    (blind index, every e-mail item of the policy). Linked only when exactly one matches."""
    keys = _keys(ctx)
    with db.read(ctx.engine) as conn:
        request = store.load(conn, request_id, keys)
    if not request.verified or request.subject_id is not None:
        return request
    email = str(request.details.get("email", ""))
    now = ctx.clock.now()
    caller = Caller.system("requests")
    rules = ctx.vault.rules()
    matches: set[str] = set()
    for item in rules.items.values():
        if item.kind is ValueKind.email:
            matches.update(ctx.vault.lookup(caller, item.id, email))
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id, keys)
        if len(matches) == 1 and request.subject_id is None:
            (subject_id,) = matches
            storage.update(conn, request_id, now=now, subject_id=subject_id)
            request = replace(request, subject_id=subject_id)
        store.audit(ctx.audit, conn, request, "link", actor="system:requests", matches=len(matches))
    return request


def session_request(
    ctx: RequestContext,
    request_id: str,
    *,
    token: str | None,
    center_subject: str | None,
) -> Request:
    """The request, with details, for a person who proved it is theirs: a session opened by a
    code for this request, or a privacy-center session of its subject."""
    keys = _keys(ctx)
    now = ctx.clock.now()
    with db.read(ctx.engine) as conn:
        request = store.load(conn, request_id, keys)
        session = storage.session_of(conn, request_id)
    if center_subject is not None and request.subject_id == center_subject and request.verified:
        return request
    if (
        token
        and session.session_hash is not None
        and session.expires_at is not None
        and session.expires_at > now
        and hmac.compare_digest(_sha256(token), session.session_hash)
    ):
        return request
    raise RequestSessionRequired()


def get(ctx: RequestContext, request_id: str, *, actor: str) -> Request:
    """The request with its details, for staff (the access is audited)."""
    keys = _keys(ctx)
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id, keys)
        store.audit(ctx.audit, conn, request, "view", actor=actor)
    return request


def of_subject(ctx: RequestContext, subject_id: str) -> list[Request]:
    """The person's own requests, newest first, for their privacy-center session."""
    with db.read(ctx.engine) as conn:
        return storage.of_subject(conn, subject_id)


def queue(ctx: RequestContext, *, include_closed: bool = False) -> list[Request]:
    with db.read(ctx.engine) as conn:
        return storage.open_requests(conn, include_closed=include_closed)


def proof(ctx: RequestContext, request_id: str, *, actor: str) -> tuple[bytes, str]:
    """The agent's proof, decrypted for staff; the download is audited."""
    keys = _keys(ctx)
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id)
        found = store.load_proof(conn, request_id, keys)
        if found is None:
            from mamori.errors import NotFound

            raise NotFound(f"request '{request_id}' has no proof")
        store.audit(ctx.audit, conn, request, "proof", actor=actor, bytes=len(found[0]))
    return found


def start_review(ctx: RequestContext, request_id: str, *, actor: str) -> Request:
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id)
        status = workflow.next_status(request.status, Status.in_review)
        storage.update(conn, request_id, now=now, status=status.value, handler=actor)
        request = replace(request, status=status, handler=actor)
        store.audit(ctx.audit, conn, request, "review", actor=actor)
    return request


def _download_window(
    ctx: RequestContext, request: Request, decision: workflow.Decision, now: dt.datetime
) -> tuple[dt.datetime | None, int]:
    """Until when, and how many times, the person may download a granted electronic
    disclosure (``None, 0`` for anything else)."""
    if (
        request.type is RequestType.disclosure
        and request.delivery is Delivery.electronic
        and decision.outcome in (Outcome.fulfilled, Outcome.partly_fulfilled)
    ):
        settings = ctx.settings
        return now + dt.timedelta(
            days=settings.request_download_days
        ), settings.request_download_max
    return None, 0


def decide(
    ctx: RequestContext,
    request_id: str,
    decision: workflow.Decision,
    *,
    actor: str,
    base_url: str,
) -> Request:
    """Record a decision, carry it out, and send the notice: decided -> notified.

    Checked before anything happens (a refusal without a reason changes nothing), carried out
    through the vault, then recorded with the notice in one transaction.
    """
    keys = _keys(ctx)
    with db.read(ctx.engine) as conn:
        request = store.load(conn, request_id, keys)
    workflow.check_decision(request, decision)
    # Read before the decision takes effect: an erasure that withdraws the person takes their
    # request's details with it, yet the person is still told the outcome (法35(7)).
    to = str(request.details.get("email", ""))
    effects = decisions.apply(ctx, request, decision, actor=actor)
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id, keys)
        workflow.check_decision(request, decision)
        reason = decision.reason.strip()
        details = dict(request.details)
        if reason:
            details["reason"] = reason
        download_until, downloads = _download_window(ctx, request, decision, now)
        storage.update(
            conn,
            request_id,
            now=now,
            status=Status.decided.value,
            outcome=decision.outcome.value,
            substitute=decision.substitute,
            decided_at=now,
            handler=actor,
            sealed=keys.seal_details(request_id, details),
            download_until=download_until,
            downloads_left=downloads,
        )
        request = replace(
            request,
            status=Status.decided,
            outcome=decision.outcome,
            substitute=decision.substitute,
            decided_at=now,
            handler=actor,
            download_until=download_until,
            downloads_left=downloads,
            details=details,
        )
        store.audit(
            ctx.audit,
            conn,
            request,
            "decide",
            actor=actor,
            outcome=decision.outcome.value,
            substitute=decision.substitute,
            reason=bool(reason),
            extra=effects,
        )
        places = str(effects.get(decisions.STOP_PLACES) or "")
        mail_id = notices.decided(
            ctx,
            conn,
            request,
            to,
            reason,
            base_url,
            stop_places=places.split(",") if places else [],
        )
        status = workflow.next_status(Status.decided, Status.notified)
        storage.update(conn, request_id, now=now, status=status.value, notified_at=now)
        request = replace(request, status=status, notified_at=now)
        store.audit(ctx.audit, conn, request, "notify", actor=actor, mail=mail_id)
    return request


def preview_decision(
    ctx: RequestContext, request_id: str, decision: workflow.Decision, *, base_url: str
) -> tuple[Request, Rendered]:
    """What :func:`decide` would send, without deciding: the request as it would stand and its
    notice, rendered. The same checks as :func:`decide` (a refusal without a reason is refused
    here too); nothing is stored."""
    with db.read(ctx.engine) as conn:
        request = store.load(conn, request_id, _keys(ctx))
    workflow.check_decision(request, decision)
    now = ctx.clock.now()
    download_until, downloads = _download_window(ctx, request, decision, now)
    decided = replace(
        request,
        status=Status.decided,
        outcome=decision.outcome,
        substitute=decision.substitute,
        download_until=download_until,
        downloads_left=downloads,
    )
    places = decisions.stop_places(ctx, request, decision)
    return decided, notices.preview(
        ctx, decided, decision.reason.strip(), base_url, stop_places=places
    )


def package_preview(ctx: RequestContext, request_id: str, *, actor: str) -> str:
    """The readable page of the disclosure package the person would receive now, for staff to
    check before they grant it (the read is audited, as the package's own build is)."""
    with db.read(ctx.engine) as conn:
        request = store.load(conn, request_id)
    if request.type is not RequestType.disclosure or request.subject_id is None:
        raise Conflict("only a disclosure about a known person has a package")
    with tempfile.TemporaryFile() as handle:
        package.build(ctx, request.subject_id, handle, language=request.language)
        handle.seek(0)
        with zipfile.ZipFile(handle) as zf:
            page = package.preview_page(zf)
    with db.write(ctx.engine) as conn:
        store.audit(ctx.audit, conn, request, "package_preview", actor=actor)
    return page


def close(ctx: RequestContext, request_id: str, *, actor: str) -> Request:
    now = ctx.clock.now()
    with db.write(ctx.engine) as conn:
        request = store.load(conn, request_id)
        status = workflow.next_status(request.status, Status.closed)
        storage.update(
            conn, request_id, now=now, status=status.value, closed_at=now, session_hash=None
        )
        request = replace(request, status=status, closed_at=now)
        store.audit(ctx.audit, conn, request, "close", actor=actor)
    return request


def open_download(ctx: RequestContext, request: Request) -> Request:
    """Spend one download of a disclosure package (in the person's verified session).

    :class:`DownloadUnavailable` unless the disclosure was granted electronically, the window
    is open and downloads are left. The count is taken in one statement, so two downloads at
    once cannot both spend the last one.
    """
    now = ctx.clock.now()
    if (
        request.type is not RequestType.disclosure
        or request.delivery is not Delivery.electronic
        or request.outcome not in (Outcome.fulfilled, Outcome.partly_fulfilled)
    ):
        raise DownloadUnavailable("this request has no package to download")
    with db.write(ctx.engine) as conn:
        spent = storage.spend_download(conn, request.id, now)
        current = store.load(conn, request.id)
        store.audit(
            ctx.audit,
            conn,
            current,
            "download",
            actor=f"subject:{request.subject_id}" if request.subject_id else "system:center",
            result="ok" if spent else "refused",
            left=current.downloads_left,
        )
    if not spent:
        raise DownloadUnavailable()
    return current
