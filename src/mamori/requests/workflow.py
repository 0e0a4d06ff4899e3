"""The request workflow as a pure state machine, with due dates and the rules of a decision.

No I/O here: :mod:`mamori.requests.store` asks these functions before it writes anything, so
that every rule holds whatever route (privacy center, admin console, API) leads to a change::

    received -> verified -> in_review -> decided -> notified -> closed
        \\___________________________________________________/  (closed unverified: abandoned)

A request is decided only from ``in_review``, and it reaches ``in_review`` only once verified,
so an unverified request can never be fulfilled; :func:`check_decision` says so again
explicitly, for the day someone adds a shortcut.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from mamori.errors import InvalidTransition, ReasonRequired, RequestNotVerified, UserInputError
from mamori.requests.model import Outcome, Request, RequestType, Status

__all__ = [
    "DEFAULT_DUE_DAYS",
    "MAX_REASON",
    "TRANSITIONS",
    "Decision",
    "check_decision",
    "due_at",
    "needs_reminder",
    "next_status",
]

DEFAULT_DUE_DAYS: Final = 14
"""APPI 法39: the person may sue two weeks after the request arrives."""
MAX_REASON: Final = 4000

TRANSITIONS: Final[Mapping[Status, frozenset[Status]]] = {
    Status.received: frozenset({Status.verified, Status.closed}),
    Status.verified: frozenset({Status.in_review, Status.closed}),
    Status.in_review: frozenset({Status.decided}),
    Status.decided: frozenset({Status.notified}),
    Status.notified: frozenset({Status.closed}),
    Status.closed: frozenset(),
}


def next_status(current: Status, wanted: Status) -> Status:
    """``wanted`` if the workflow allows it from ``current``, else :class:`InvalidTransition`."""
    if wanted not in TRANSITIONS[current]:
        raise InvalidTransition(f"a request cannot go from '{current}' to '{wanted}'")
    return wanted


def due_at(
    created: dt.datetime,
    kind: RequestType,
    per_type: Mapping[str, int] | None = None,
    default_days: int = DEFAULT_DUE_DAYS,
) -> dt.datetime:
    """When the answer is due: ``created`` plus the days configured for ``kind``."""
    days = (per_type or {}).get(kind.value, default_days)
    return created + dt.timedelta(days=days)


def needs_reminder(request: Request, now: dt.datetime, days_before: int) -> bool:
    """Whether the handlers should be reminded now (once per request, while it is open)."""
    if request.reminded_at is not None:
        return False
    if request.status in (Status.decided, Status.notified, Status.closed):
        return False
    return now >= request.due_at - dt.timedelta(days=days_before)


@dataclass(frozen=True)
class Decision:
    """What staff decided. ``reason`` is shown to the person (法36): required for a refusal, a
    partial fulfilment and a substitute measure."""

    outcome: Outcome
    reason: str = ""
    substitute: bool = False
    accepted_items: tuple[str, ...] = ()
    """For a correction, stop or erasure: the items acted on (empty: all that were asked)."""
    withdraw: bool = False
    """For an erasure: delete everything and shred the subject's key (退会と同じ)."""


def check_decision(request: Request, decision: Decision) -> None:
    """Raise unless ``decision`` may be recorded for ``request`` now."""
    if not request.verified:
        raise RequestNotVerified(f"request '{request.id}' is not verified")
    next_status(request.status, Status.decided)
    reason = decision.reason.strip()
    if len(reason) > MAX_REASON:
        raise UserInputError(f"the reason is longer than {MAX_REASON} characters")
    if decision.outcome in (Outcome.refused, Outcome.partly_fulfilled) and not reason:
        raise ReasonRequired(f"a decision '{decision.outcome}' needs a reason for the person")
    if decision.substitute:
        if decision.outcome is not Outcome.fulfilled:
            raise UserInputError("a substitute measure is recorded with the outcome 'fulfilled'")
        if not reason:
            raise ReasonRequired("a substitute measure needs a description for the person")
        if request.type not in (
            RequestType.usage_stop,
            RequestType.erasure,
            RequestType.provision_stop,
            RequestType.correction,
        ):
            raise UserInputError(f"a substitute measure does not apply to '{request.type}'")
    if request.type is RequestType.inquiry:
        if decision.outcome is not Outcome.fulfilled:
            raise UserInputError("an inquiry is answered: record the answer as 'fulfilled'")
        if not reason:
            raise ReasonRequired("write the answer to the inquiry")
    if decision.withdraw and request.type is not RequestType.erasure:
        raise UserInputError("only an erasure request can shred the subject")
    extra = set(decision.accepted_items) - set(request.items)
    if extra and request.type is not RequestType.disclosure:
        raise UserInputError(f"item '{sorted(extra)[0]}' was not part of the request")
    if (
        decision.outcome in (Outcome.fulfilled, Outcome.partly_fulfilled)
        and request.subject_id is None
        and request.type not in (RequestType.inquiry, RequestType.mail_opt_out)
        and not decision.substitute
    ):
        raise UserInputError(
            "no subject is linked to this request: decide 'no data held', or refuse with a reason"
        )
