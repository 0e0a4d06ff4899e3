"""Values for aggregation, never released one by one: what :mod:`mamori.statistics` counts for
a statistics-only purpose and exports for a pseudonymised one.

A host service never reads these values (the vault refuses its reads for such purposes with
``statistics_only`` or ``pseudonymised_only``); mamori's statistics domain receives them here
page by page, in constant memory, and lets out only aggregates that pass disclosure control or
a pseudonymised export. The people are those the purpose may use: active, not stopped the
purpose, each item only while not stopped (a withdrawn person holds nothing). The caller's key
must be granted the purpose and hold ``read``; the statistics domain audits each query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from mamori.errors import PermissionDenied, UserInputError
from mamori.policy.model import ValueKind
from mamori.policy.rules import Rules
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault import crypto
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.normalize import kind_of
from mamori.vault.storage import aggregate as storage

__all__ = ["Person", "check", "events", "people", "population"]


@dataclass(frozen=True)
class Person:
    id: str
    arrived_at: dt.datetime | None
    """When the person arrived (None unless asked for)."""
    values: dict[str, Any]
    """item id -> value, for the items asked that the person holds and has not stopped."""


def check(rules: Rules, caller: Caller, purpose: str) -> None:
    """Refuse a caller that may not aggregate for ``purpose``, or a purpose that releases values
    one by one (those are read through the vault's reads)."""
    caller.require("read")
    found = rules.purpose(purpose)
    if caller.contractor is not None:
        raise PermissionDenied(f"'{caller.actor_id}' is a contractor's key: it computes nothing")
    if caller.purposes is not None and purpose not in caller.purposes:
        raise PermissionDenied(f"'{caller.actor_id}' is not granted purpose '{purpose}'")
    if not found.statistics_only and found.pseudonymised is None:
        raise UserInputError(
            f"purpose '{purpose}' is neither statistics_only nor pseudonymised: its values are"
            " read through the vault, not aggregated"
        )


def _types(rules: Rules, purpose: str) -> list[str]:
    allowed = rules.allowed[purpose]
    return [t for t, held in rules.subject_types.items() if held & allowed]


def _gates(rules: Rules, purpose: str) -> list[tuple[int, dt.datetime]]:
    return [(c.version, c.published_at) for c in rules.consent_gates(purpose)]


def population(
    vault: Vault,
    caller: Caller,
    purpose: str,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    events: bool = False,
    holding: str | None = None,
    conn: Connection | None = None,
) -> list[str]:
    """The sorted ids of everyone a query for ``purpose`` counts (nothing decrypted): people
    who arrived in [since, until) (with ``holding``: who hold that item, not stopped), or,
    with ``events``, people with a usage event then. On ``conn``'s transaction when given."""
    rules = vault.rules()
    check(rules, caller, purpose)
    stream = rules.event_item()
    if events and (stream is None or stream.id not in rules.allowed[purpose]):
        raise UserInputError(f"purpose '{purpose}' does not use usage events")
    if conn is None:
        with db.read(vault.engine) as own:
            return population(
                vault,
                caller,
                purpose,
                since=since,
                until=until,
                events=events,
                holding=holding,
                conn=own,
            )
    return storage.population(
        conn,
        purpose=purpose,
        types=_types(rules, purpose),
        since=since,
        until=until,
        event_item=stream.id if events and stream is not None else None,
        consent_gates=_gates(rules, purpose),
        holding=holding,
    )


def people(
    vault: Vault,
    caller: Caller,
    purpose: str,
    item_ids: Sequence[str],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    batch: int = 5000,
    arrived: bool = False,
) -> Generator[list[Person], None, None]:
    """Pages of the people ``purpose`` may use who arrived in [since, until), each with the
    values of ``item_ids`` (items of the purpose) they hold and have not stopped (and, with
    ``arrived``, when they arrived)."""
    rules = vault.rules()
    check(rules, caller, purpose)
    for item_id in item_ids:
        rules.item(item_id)
        if item_id not in rules.allowed[purpose]:
            raise UserInputError(f"purpose '{purpose}' may not use item '{item_id}'")
    kinds = {i: rules.item(i).value_kinds for i in item_ids}
    types, gates = _types(rules, purpose), _gates(rules, purpose)
    after = ""
    while True:
        with db.read(vault.engine) as conn:
            rows = storage.people_page(
                conn,
                purpose=purpose,
                types=types,
                item_ids=item_ids,
                after=after,
                limit=batch,
                since=since,
                until=until,
                consent_gates=gates,
                arrived=arrived,
            )
        if not rows:
            return
        page: list[Person] = []
        current: Person | None = None
        cipher: Any = None
        for subject_id, wrapped, arrived_at, held_item, ciphertext in rows:
            if current is None or current.id != subject_id:
                current = Person(subject_id, arrived_at, {})
                page.append(current)
                cipher = None
            if held_item is None or ciphertext is None or wrapped is None:
                continue
            if cipher is None:
                cipher = vault.cipher(subject_id, wrapped)
            value = orjson.loads(
                crypto.decrypt(cipher, ciphertext, subject_id=subject_id, item_id=held_item)
            )
            if len(kinds[held_item]) > 1:
                value = kind_of(kinds[held_item], value)[1]
            current.values[held_item] = value
        after = page[-1].id
        yield page


def events(
    vault: Vault,
    caller: Caller,
    purpose: str,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    batch: int = 5000,
) -> Generator[list[tuple[str, dt.datetime, dict[str, Any]]], None, None]:
    """Pages of (subject id, occurred at, event) of the usage events in [since, until) of the
    people ``purpose`` may use; an event's fields are as stored (those of stopped items never
    were)."""
    rules = vault.rules()
    check(rules, caller, purpose)
    stream = rules.event_item()
    if stream is None or stream.id not in rules.allowed[purpose]:
        raise UserInputError(f"purpose '{purpose}' does not use usage events")
    if stream.kind is not ValueKind.events:  # pragma: no cover - event_item() guarantees it
        raise UserInputError("the policy declares no item of kind 'events'")
    types = _types(rules, purpose)
    after = 0
    while True:
        with db.read(vault.engine) as conn:
            rows = storage.event_page(
                conn,
                purpose=purpose,
                types=types,
                event_item=stream.id,
                after=after,
                limit=batch,
                since=since,
                until=until,
            )
        if not rows:
            return
        ciphers: dict[str, Any] = {}
        page = []
        for _event_id, subject_id, wrapped, occurred, ciphertext in rows:
            if wrapped is None:
                continue
            cipher = ciphers.get(subject_id)
            if cipher is None:
                cipher = ciphers[subject_id] = vault.cipher(subject_id, wrapped)
            event = orjson.loads(
                crypto.decrypt(cipher, ciphertext, subject_id=subject_id, item_id="event")
            )
            page.append((subject_id, occurred, event))
        after = rows[-1][0]
        yield page
