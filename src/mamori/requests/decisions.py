"""What accepting a request does to the vault, before the decision is recorded.

Each effect goes through the vault's own audited calls, as the staff member (``staff:<id>``)
who decided: a correction writes the proposed values, a usage stop adds the person's stops
(:mod:`mamori.vault.restrictions`), an erasure deletes the items or shreds the subject
(:meth:`mamori.vault.core.Vault.withdraw`), a provision stop is recorded on the request (the
provision ledger reads :func:`provision_stops`), a mail opt-out records the address in the mail
opt-outs. A refusal, "no data held" and a substitute measure change nothing in the vault.

The connected databases are reached through the built-in parts: a correction and an erasure
are written there first (their rows are found by the vault's values); a usage or provision
stop is recorded there for the host to honour, after the vault's stop, and the datasets
holding the items are named in the effects (:data:`STOP_PLACES`), for the notice.

The effect commits before the decision does (the vault opens its own transaction). Applying
the same decision twice is harmless: writes, stops and deletions are idempotent, and a subject
already shredded counts as erased.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from mamori.errors import SubjectWithdrawn
from mamori.requests import storage
from mamori.requests.model import Outcome, Request, RequestType
from mamori.requests.workflow import Decision
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.access import Caller
from mamori.vault.restrictions import set_stops, usage_settings

if TYPE_CHECKING:
    from mamori.requests.context import RequestContext

__all__ = ["STOP_PLACES", "apply", "provision_stops", "stop_places"]

Effects = dict[str, str | int | bool | None]

STOP_PLACES = "stop_datasets"
"""The effect naming, comma-separated, the connected datasets where the host honours a stop."""


def _accepted(request: Request, decision: Decision) -> list[str]:
    return list(decision.accepted_items or request.items)


def stop_places(
    ctx: RequestContext, request: Request, decision: Decision, *, actor: str | None = None
) -> list[str]:
    """The connected datasets that hold the items a granted usage or provision stop stops
    for the person, where the host is to honour it; recorded there when ``actor`` is given
    (none: a preview, nothing recorded)."""
    if (
        decision.outcome not in (Outcome.fulfilled, Outcome.partly_fulfilled)
        or decision.substitute
        or request.type not in (RequestType.usage_stop, RequestType.provision_stop)
        or not request.subject_id
    ):
        return []
    items = _accepted(request, decision)
    found: list[str] = []
    for part in ctx.request_stops:
        found.extend(part.apply(ctx, request.subject_id, items, request.id, actor))
    return list(dict.fromkeys(found))


def _stopped(effects: Effects, places: list[str]) -> Effects:
    if places:
        effects[STOP_PLACES] = ",".join(places)
    return effects


def apply(ctx: RequestContext, request: Request, decision: Decision, *, actor: str) -> Effects:
    """Carry out ``decision`` (already checked); returns codes for the audit entry."""
    if decision.outcome not in (Outcome.fulfilled, Outcome.partly_fulfilled):
        return {}
    if decision.substitute:
        return {"effect": "substitute"}
    caller = Caller(actor_id=actor)
    vault = ctx.vault
    subject = request.subject_id
    kind = request.type
    if kind is RequestType.correction and subject:
        proposed = cast(dict[str, Any], request.details.get("corrections") or {})
        values = {k: v for k, v in proposed.items() if k in _accepted(request, decision)}
        # Elsewhere first: a connected table is found by the values the vault still holds.
        connected = sum(part.apply(ctx, subject, values, actor) for part in ctx.corrections)
        vault.write_items(caller, subject, values)
        effects: Effects = {"effect": "corrected", "items": len(values)}
        if connected:
            effects["connected_rows"] = connected
        return effects
    if kind is RequestType.usage_stop and subject:
        current = usage_settings(vault, subject)
        stopped = set(current.stopped_items) | set(_accepted(request, decision))
        set_stops(
            vault,
            caller,
            subject,
            stopped_items=stopped,
            stopped_purposes=current.stopped_purposes,
        )
        # Recorded elsewhere once the vault accepts the stop (an item it refuses to stop is
        # recorded nowhere); an unreachable database stops the decision, and deciding again
        # sets the same stops.
        places = stop_places(ctx, request, decision, actor=actor)
        return _stopped({"effect": "stopped", "items": len(_accepted(request, decision))}, places)
    if kind is RequestType.erasure and subject:
        if decision.withdraw:
            # The connected databases first: their rows are found by the vault's values.
            connected = sum(part.apply(ctx, request.id, (), actor) for part in ctx.request_erasures)
            # Shredded already: a decision applied twice, or a withdrawal meanwhile.
            with contextlib.suppress(SubjectWithdrawn):
                vault.withdraw(caller, subject)
            shredded: Effects = {"effect": "shredded"}
            if connected:
                shredded["connected_rows"] = connected
            return shredded
        items = _accepted(request, decision)
        # The columns holding the items in the connected databases first, by the vault's values.
        # No items is a withdrawal's whole erasure to the parts: never for a decision like this.
        rows = (
            sum(part.apply(ctx, request.id, items, actor) for part in ctx.request_erasures)
            if items
            else 0
        )
        vault.write_items(caller, subject, dict.fromkeys(items))
        erased: Effects = {"effect": "erased", "items": len(items)}
        if rows:
            erased["connected_rows"] = rows
        return erased
    if kind is RequestType.provision_stop:
        places = stop_places(ctx, request, decision, actor=actor)
        return _stopped({"effect": "provision_stopped"}, places)
    if kind is RequestType.mail_opt_out:
        email = str(request.details.get("email", ""))
        from mamori.mail import optout
        from mamori.vault.addresses import address_hash

        target = optout.Optout(address_hash(vault.system_keys, email), subject)
        with db.write(ctx.engine) as conn:
            optout.opt_out(
                conn, ctx.audit, target, source="staff", actor=actor, now=ctx.clock.now()
            )
        return {"effect": "opted_out"}
    if kind is RequestType.disclosure:
        return {"effect": "download" if request.delivery == "electronic" else "post"}
    return {}


def provision_stops(
    conn: Connection, subject_ids: Sequence[str]
) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """subject id -> (request id, items) of every accepted provision stop of that person (the
    people without one left out); empty items mean all the items provided. For the
    third-party provision gate to consult."""
    return storage.accepted_provision_stops(conn, subject_ids)
