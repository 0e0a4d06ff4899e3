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
import hashlib
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from mamori.errors import PermissionDenied, UserInputError
from mamori.policy.dimensions import group_of
from mamori.policy.model import ValueKind
from mamori.policy.rules import Rules
from mamori.policy.statistics import TOKENISED, Derive
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault import crypto
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.normalize import kind_of
from mamori.vault.storage import aggregate as storage
from mamori.vault.storage import groups as group_storage

__all__ = [
    "Person",
    "check",
    "events",
    "grouped",
    "grouped_with_people",
    "people",
    "population",
    "population_tokens",
]


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


def population_tokens(
    vault: Vault,
    caller: Caller,
    purpose: str,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    events: bool = False,
    holding: str | None = None,
    conn: Connection,
) -> list[bytes]:
    """The people :func:`population` gives, as the sorted 8-byte tokens of their ids (the first
    16 hex digits of an id of 32 random ones; an id of another form is hashed): what a query log
    keeps to compare queries. Two people share one with odds of about n²/2^65. Fetched as one
    string, on ``conn``'s transaction."""
    rules = vault.rules()
    check(rules, caller, purpose)
    stream = rules.event_item()
    if events and (stream is None or stream.id not in rules.allowed[purpose]):
        raise UserInputError(f"purpose '{purpose}' does not use usage events")
    found = storage.population_prefixes(
        conn,
        purpose=purpose,
        types=_types(rules, purpose),
        since=since,
        until=until,
        event_item=stream.id if events and stream is not None else None,
        consent_gates=_gates(rules, purpose),
        holding=holding,
    )
    try:
        joined = bytes.fromhex(found)
    except ValueError:  # an id that is not hexadecimal: one by one
        ids = population(
            vault,
            caller,
            purpose,
            since=since,
            until=until,
            events=events,
            holding=holding,
            conn=conn,
        )
        return sorted(_token(subject_id) for subject_id in ids)
    return sorted(joined[i : i + 8] for i in range(0, len(joined), 8))


def _token(subject_id: str) -> bytes:
    try:
        return bytes.fromhex(subject_id[:16].ljust(16, "0"))
    except ValueError:
        return hashlib.sha256(subject_id.encode()).digest()[:8]


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


def grouped(
    vault: Vault,
    caller: Caller,
    purpose: str,
    dims: Sequence[tuple[str, Derive]],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    batch: int = 2000,
) -> dict[tuple[str | None, ...], int]:
    """The number of people ``purpose`` may use who arrived in [since, until), per group of
    each dimension (item, derivation; a tokenised derivation of an item of the purpose).

    Counted in the database by the items' group tokens (:mod:`mamori.vault.groups`), each
    distinct token decrypted once; a person not holding an item, or who stopped it, is in the
    group None, as :func:`people` would give. The people whose item has no token are read and
    decrypted here, page by page, and their tokens written, so the next count finds them (on
    their own write transactions, each token only while its item is as it was read).
    """
    rules = vault.rules()
    check(rules, caller, purpose)
    vault.group_tokens  # noqa: B018 - its key is created outside the transactions below
    keyed = _keyed(rules, purpose, dims)
    types, gates = _types(rules, purpose), _gates(rules, purpose)
    counts: dict[tuple[str | None, ...], int] = {}
    with db.read(vault.engine, snapshot=True) as conn:
        storage.without_jit(conn)
        rows, _ = storage.grouped_counts(
            conn,
            purpose=purpose,
            types=types,
            dims=keyed,
            since=since,
            until=until,
            consent_gates=gates,
        )
        if _fold(vault, dims, rows, counts):
            for page in storage.stale_people(
                conn,
                purpose=purpose,
                types=types,
                dims=keyed,
                batch=batch,
                since=since,
                until=until,
                consent_gates=gates,
            ):
                healed = _count_stale(vault, rules, dims, page, counts)
                with db.write(vault.engine) as writing:
                    group_storage.heal_groups(writing, healed)
    return counts


def grouped_with_people(
    vault: Vault,
    caller: Caller,
    purpose: str,
    dims: Sequence[tuple[str, Derive]],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    conn: Connection,
) -> tuple[dict[tuple[str | None, ...], int], list[bytes]] | None:
    """:func:`grouped`'s counts and :func:`population_tokens`'s people from one scan, on
    ``conn``'s transaction; None when some item has no token (or an id is not hexadecimal):
    :func:`grouped` then decrypts, on transactions of its own."""
    rules = vault.rules()
    check(rules, caller, purpose)
    keyed = _keyed(rules, purpose, dims)
    storage.without_jit(conn)
    rows, prefixes = storage.grouped_counts(
        conn,
        purpose=purpose,
        types=_types(rules, purpose),
        dims=keyed,
        since=since,
        until=until,
        consent_gates=_gates(rules, purpose),
        with_people=True,
    )
    counts: dict[tuple[str | None, ...], int] = {}
    if _fold(vault, dims, rows, counts):
        return None
    try:
        joined = bytes.fromhex(prefixes or "")
    except ValueError:
        return None
    return counts, sorted(joined[i : i + 8] for i in range(0, len(joined), 8))


def _keyed(rules: Rules, purpose: str, dims: Sequence[tuple[str, Derive]]) -> list[tuple[str, str]]:
    """The dimensions as (item, derivation name), each checked against the purpose."""
    for item_id, derive in dims:
        rules.item(item_id)
        if item_id not in rules.allowed[purpose]:
            raise UserInputError(f"purpose '{purpose}' may not use item '{item_id}'")
        if derive not in TOKENISED:
            raise UserInputError(f"derivation '{derive}' is not counted by tokens")
    return [(item_id, derive.value) for item_id, derive in dims]


def _fold(
    vault: Vault,
    dims: Sequence[tuple[str, Derive]],
    rows: Sequence[tuple[tuple[int, ...], tuple[bytes | None, ...], int]],
    counts: dict[tuple[str | None, ...], int],
) -> int:
    """Add grouped rows to ``counts`` by group (each distinct token decrypted once); the number
    of people left out because an item of theirs has no token."""
    tokens = vault.group_tokens
    stale = 0
    for states, found, people in rows:
        if storage.STALE in states:
            stale += people
            continue
        key = tuple(
            tokens.group(item_id, derive, token)
            if state == storage.HELD and token is not None
            else None
            for (item_id, derive), state, token in zip(dims, states, found, strict=True)
        )
        counts[key] = counts.get(key, 0) + people
    return stale


def _count_stale(
    vault: Vault,
    rules: Rules,
    dims: Sequence[tuple[str, Derive]],
    page: Sequence[storage.StaleRow],
    counts: dict[tuple[str | None, ...], int],
) -> list[group_storage.GroupRow]:
    """Decrypt a page of people without matching tokens, count them, and give their tokens."""
    tokens = vault.group_tokens
    healed: list[group_storage.GroupRow] = []
    for subject_id, wrapped, held in page:
        cipher = vault.cipher(subject_id, wrapped)
        key: list[str | None] = []
        for (item_id, derive), (ciphertext, updated_at) in zip(dims, held, strict=True):
            if ciphertext is None or updated_at is None:
                key.append(None)
                continue
            value = orjson.loads(
                crypto.decrypt(cipher, ciphertext, subject_id=subject_id, item_id=item_id)
            )
            kinds = rules.item(item_id).value_kinds
            if len(kinds) > 1:
                value = kind_of(kinds, value)[1]
            group = group_of(derive, value, today=vault.today(), at=None, zone=vault.time_zone)
            key.append(group)
            healed.append(
                group_storage.GroupRow(
                    subject_id,
                    item_id,
                    derive.value,
                    tokens.token(item_id, derive, group),
                    updated_at,
                )
            )
        counts[tuple(key)] = counts.get(tuple(key), 0) + 1
    return healed


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
