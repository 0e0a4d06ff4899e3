"""The vault's purpose-gated reads: by id, by an indexed value, lookups, and bulk reads.

Each read releases an item only for a purpose the policy allows, the caller's key holds, the
person has not stopped and (after a policy change that needs it) the person has consented to;
every read is audited with IDs and reason codes only, and released once its entry is durable.
A contractor's key (:attr:`Caller.contractor`) is further limited to the items the policy
entrusts to that contractor for the purpose (``not_entrusted``), and reads nothing while the
register suspends the entrustment (``entrustment_suspended``): a read by id answers that code
per item, the searches and the bulk read refuse the call (:class:`EntrustmentSuspended`).
:class:`~mamori.vault.core.Vault` exposes these as its methods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Generator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from mamori.errors import (
    EntrustmentSuspended,
    PermissionDenied,
    SubjectNotFound,
    SubjectWithdrawn,
    UserInputError,
)
from mamori.policy.model import ValueKind
from mamori.policy.rules import Rules
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault import crypto
from mamori.vault.access import Caller, ReadResult
from mamori.vault.addresses import address_hash
from mamori.vault.blind_index import blind_index
from mamori.vault.limits import Limits
from mamori.vault.normalize import index_form, kind_of, normalise
from mamori.vault.storage import subjects as storage

if TYPE_CHECKING:
    from mamori.audit.group import GroupCommitter
    from mamori.audit.log import AuditLog
    from mamori.store.db import Engine
    from mamori.vault.system_keys import SystemKeys

__all__ = ["Keep", "Vault", "bulk_read", "find_external", "lookup", "read", "read_by"]


class Vault(Protocol):
    """What the reads use of :class:`mamori.vault.core.Vault` (which calls them)."""

    engine: Engine
    audit: AuditLog
    keys: crypto.MasterKeySource
    rules: Callable[[], Rules]
    system_keys: SystemKeys
    committer: GroupCommitter

    limits: Limits

    @property
    def index_key(self) -> bytes: ...

    def data_key(self, subject_id: str, wrapped: bytes | None) -> bytes: ...

    def entrustment_suspended(self, recipient_id: str) -> bool: ...


def _wrapped(subject_id: str, wrapped: bytes | None) -> bytes:
    if wrapped is None:
        raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
    return wrapped


def _entrustment(
    vault: Vault, caller: Caller, rules: Rules, purpose: str
) -> tuple[frozenset[str] | None, bool]:
    """(items entrusted for ``purpose``, suspended) of a contractor's key; (None, False) for
    any other caller."""
    if caller.contractor is None:
        return None, False
    entrusted = rules.entrusted(caller.contractor, purpose)
    return entrusted, vault.entrustment_suspended(caller.contractor)


def _refuse_suspended(caller: Caller) -> None:
    raise EntrustmentSuspended(
        f"the entrustment to contractor '{caller.contractor}' is suspended in the register"
        " (entrustment_suspended): its key reads nothing until a contract is in force and no"
        " failed check stands"
    )


def _contractor_search(vault: Vault, caller: Caller, rules: Rules, item_id: str) -> None:
    """A contractor's key searches only by an item entrusted to it for one of its purposes,
    and not at all while suspended."""
    contractor = caller.contractor
    if contractor is None:
        return
    if vault.entrustment_suspended(contractor):
        _refuse_suspended(caller)
    if not any(item_id in rules.entrusted(contractor, p) for p in caller.purposes or ()):
        raise PermissionDenied(
            f"'{caller.actor_id}' may not search by item '{item_id}': the policy does not"
            f" entrust it to contractor '{contractor}' (not_entrusted)"
        )


def read(
    vault: Vault,
    caller: Caller,
    subject_id: str,
    purpose: str,
    item_ids: Sequence[str] | None = None,
) -> ReadResult:
    """Release each item the policy allows for ``purpose`` and the person has not stopped.

    Without ``item_ids``: every item the policy allows for the purpose and holds for the
    person's type (in the purpose's order; usage events are read as events), each decided
    and audited as if it had been named.
    """
    caller.require("read")
    rules = vault.rules()
    every = item_ids is None
    if item_ids is None:
        wanted = [
            i for i in rules.purpose(purpose).items if rules.item(i).kind is not ValueKind.events
        ]
    else:
        wanted = rules.wanted(purpose, item_ids)
    entrusted, suspended = _entrustment(vault, caller, rules, purpose)
    # Only items the policy and the key allow for the purpose are fetched: a refused
    # document is never read from the database at all.
    fetch = [i for i in wanted if i in rules.purpose(purpose).items]
    if caller.purposes is not None and purpose not in caller.purposes:
        fetch = []
    if entrusted is not None:
        fetch = [] if suspended else [i for i in fetch if i in entrusted]
    # The hot path of every read by id: one statement through the driver, one round trip.
    rows = storage.read_rows(vault.engine, subject_id, fetch)
    if not rows or rows[0].k != 0:
        raise SubjectNotFound(f"no subject '{subject_id}'")
    loaded = storage.SubjectState(rows[0].a, rows[0].b, rows[0].c)
    if every:
        held_for_type = rules.subject_type(loaded.type)
        wanted = [i for i in wanted if i in held_for_type]
    awaiting: frozenset[str] = frozenset()
    if rules.consent_gates(purpose):
        with db.read(vault.engine) as conn:
            awaiting = _awaiting(vault, conn, rules, [subject_id], purpose).get(
                subject_id, frozenset()
            )
    refused = rules.refusals(
        subject_type=loaded.type,
        purpose_id=purpose,
        item_ids=wanted,
        granted=caller.purposes,
        stopped_items=frozenset(r.b for r in rows if r.k == 1 and r.a == "item"),
        stopped_purposes=frozenset(r.b for r in rows if r.k == 1 and r.a == "purpose"),
        withdrawn=loaded.status == "withdrawn",
        awaiting_consent=awaiting,
        entrusted=entrusted,
        suspended=suspended,
    )
    allowed = [i for i in wanted if i not in refused]
    values: dict[str, Any] = {}
    held = [r for r in rows if r.k == 2 and r.a not in refused]
    if held:
        cipher = crypto.unwrap_cipher(
            vault.keys,
            _wrapped(subject_id, loaded.wrapped_key),
            context=f"subject:{subject_id}",
        )
        for row in held:
            plain = crypto.decrypt(cipher, row.c, subject_id=subject_id, item_id=row.a)
            values[row.a] = orjson.loads(plain)
    missing = tuple(i for i in allowed if i not in values)
    details: dict[str, str | int | bool | None] = {"purpose": purpose}
    for item_id in wanted:
        if item_id in refused:
            details[f"item.{item_id}"] = refused[item_id].value
        else:
            details[f"item.{item_id}"] = "released" if item_id in values else "not_held"
    # Released only once the entry is durable (group commit shares the flush).
    vault.committer.append(
        actor=caller.actor_id,
        action="subject.read",
        targets=[f"subject:{subject_id}"],
        details=details,
    )
    ordered, kinds = _with_kinds(rules, {i: values[i] for i in wanted if i in values})
    return ReadResult(items=ordered, refused=refused, missing=missing, kinds=kinds)


def _with_kinds(rules: Rules, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Released values as read back (with its kind, for an item of several) and their kinds."""
    out: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for item_id, value in values.items():
        kind, out[item_id] = kind_of(rules.item(item_id).value_kinds, value)
        kinds[item_id] = kind.value
    return out, kinds


def read_by(
    vault: Vault,
    caller: Caller,
    item_id: str,
    value: Any,
    purpose: str,
    item_ids: Sequence[str],
) -> dict[str, ReadResult]:
    """Find people by an indexed item (e-mail, phone) and read items of each, in one go.

    One read transaction (blind-index candidates joined with their items and stops), the
    false candidates dropped after decryption, one audit entry for the lookup and the reads.
    Returns subject id -> result; an empty mapping when nobody matches.
    """
    caller.require("read")
    rules = vault.rules()
    item = rules.item(item_id)
    wanted = rules.wanted(purpose, item_ids)
    if not rules.indexed(item_id):
        raise UserInputError(
            f"item '{item_id}' cannot be searched: only e-mail and phone items are indexed"
        )
    entrusted, suspended = _entrustment(vault, caller, rules, purpose)
    if suspended:
        _refuse_suspended(caller)
    if entrusted is not None and item_id not in entrusted:
        raise PermissionDenied(
            f"'{caller.actor_id}' may not search by item '{item_id}' for '{purpose}': the"
            f" policy does not entrust it to contractor '{caller.contractor}' (not_entrusted)"
        )
    form = index_form(item.kind, normalise(item.kind, value, item_id=item_id))
    if form is None:
        return {}
    digest = blind_index(vault.index_key, item_id, form, vault.limits.blind_index_bits)
    # One statement through the driver: this is the hot path of every host-service read.
    # Only the searched item and the wanted ones: a person may hold many more (documents).
    fetched = list(
        dict.fromkeys([item_id, *(w for w in wanted if entrusted is None or w in entrusted)])
    )
    rows = storage.read_by_rows(
        vault.engine, purpose=purpose, item_id=item_id, digest=digest, item_ids=fetched
    )
    wanted_set = set(wanted)
    by_subject: dict[str, list[storage.ByRow]] = {}
    for row in rows:
        by_subject.setdefault(row.id, []).append(row)
    results: dict[str, ReadResult] = {}
    details: dict[str, str | int | bool | None] = {
        "purpose": purpose,
        "lookup": item_id,
        "candidates": len(by_subject),
    }
    awaiting: dict[str, frozenset[str]] = {}
    if by_subject and rules.consent_gates(purpose):
        with db.read(vault.engine) as conn:
            awaiting = _awaiting(vault, conn, rules, list(by_subject), purpose)
    for subject_id, subject_rows in by_subject.items():
        head = subject_rows[0]
        if head.wrapped_key is None:
            continue
        searched = next((r for r in subject_rows if r.item_id == item_id), None)
        if searched is None or searched.ciphertext is None:
            continue
        cipher = crypto.unwrap_cipher(vault.keys, head.wrapped_key, context=f"subject:{subject_id}")
        found = orjson.loads(
            crypto.decrypt(cipher, searched.ciphertext, subject_id=subject_id, item_id=item_id)
        )
        if index_form(item.kind, found) != form:
            continue  # a false candidate of the truncated index: nothing else decrypted
        plain = {
            r.item_id: orjson.loads(
                crypto.decrypt(cipher, r.ciphertext, subject_id=subject_id, item_id=r.item_id)
            )
            for r in subject_rows
            if r.item_id is not None
            and r.ciphertext is not None
            and r.item_id != item_id
            and r.item_id in wanted_set
        }
        plain[item_id] = found
        # Stops of items this person does not hold are unknown here and do not matter:
        # nothing is released for them either way (they are reported as missing).
        stopped_items = frozenset(
            r.item_id for r in subject_rows if r.item_stopped and r.item_id is not None
        )
        stopped_purposes = frozenset({purpose} if head.purpose_stopped else ())
        refused = rules.refusals(
            subject_type=head.type,
            purpose_id=purpose,
            item_ids=wanted,
            granted=caller.purposes,
            stopped_items=stopped_items,
            stopped_purposes=stopped_purposes,
            withdrawn=head.status == "withdrawn",
            awaiting_consent=awaiting.get(subject_id, frozenset()),
            entrusted=entrusted,
        )
        released = {i: plain[i] for i in wanted if i not in refused and i in plain}
        missing = tuple(i for i in wanted if i not in refused and i not in released)
        values, kinds = _with_kinds(rules, released)
        results[subject_id] = ReadResult(values, refused, missing, kinds)
    for n, (_subject, result) in enumerate(sorted(results.items())):
        for wanted_id in wanted:
            code = (
                result.refused[wanted_id].value
                if wanted_id in result.refused
                else "released"
                if wanted_id in result.items
                else "not_held"
            )
            details[f"s{n}.{wanted_id}"] = code
    vault.committer.append(
        actor=caller.actor_id,
        action="subject.read",
        targets=[f"subject:{s}" for s in sorted(results)],
        details=details,
    )
    return results


def _awaiting(
    vault: Vault, conn: Connection, rules: Rules, subject_ids: Sequence[str], purpose: str
) -> dict[str, frozenset[str]]:
    """subject id -> items whose use for ``purpose`` waits for that person's consent to a
    policy change. No query unless a published change gates this purpose."""
    if not rules.consent_gates(purpose):
        return {}
    created = storage.created_at(conn, subject_ids)
    consented = storage.consented_versions(conn, subject_ids)
    return {
        s: rules.awaiting_consent(purpose, created[s], frozenset(consented.get(s, ())))
        for s in subject_ids
        if s in created
    }


def _consent_gates(rules: Rules, purpose: str, item_id: str) -> list[tuple[int, dt.datetime]]:
    """For a bulk read: the changes (version, published at) that gate ``item_id`` for
    ``purpose`` until each person who was there before consents."""
    return [
        (change.version, change.published_at)
        for change in rules.consent_gates(purpose)
        if (item_id, purpose) in change.uses
    ]


def _without_opted_out(
    vault: Vault,
    rules: Rules,
    purpose: str,
    item_id: str,
    released: list[tuple[str, Any]],
    conn: Connection | None = None,
) -> list[tuple[str, Any]]:
    """For a bulk read for a marketing purpose: drop e-mail addresses that opted out of
    marketing mail (seed §10(3)); people who opted out are left out by the query already.
    On ``conn``'s transaction when given."""
    if not rules.purposes[purpose].marketing or rules.item(item_id).kind is not ValueKind.email:
        return released
    hashes = [address_hash(vault.system_keys, value) for _, value in released]
    if conn is not None:
        out = storage.opted_out(conn, hashes)
    else:
        with db.read(vault.engine) as own:
            out = storage.opted_out(own, hashes)
    return [pair for pair, h in zip(released, hashes, strict=True) if h not in out]


def lookup(vault: Vault, caller: Caller, item_id: str, value: Any) -> list[str]:
    """Subjects whose ``item_id`` equals ``value``, found through the blind index.

    The truncated index returns a few false candidates by design; each is decrypted and
    compared, and only true matches are returned. The caller's key must be granted a purpose
    that uses the item.
    """
    caller.require("read")
    rules = vault.rules()
    item = rules.item(item_id)
    if not rules.indexed(item_id):
        raise UserInputError(
            f"item '{item_id}' cannot be searched: only e-mail and phone items are indexed"
        )
    if caller.purposes is not None and not (
        set(rules.purposes_of_item.get(item_id, ())) & caller.purposes
    ):
        raise PermissionDenied(f"'{caller.actor_id}' holds no purpose that uses item '{item_id}'")
    _contractor_search(vault, caller, rules, item_id)
    form = index_form(item.kind, normalise(item.kind, value, item_id=item_id))
    if form is None:
        return []
    digest = blind_index(
        vault.system_keys.get("blind-index"), item_id, form, vault.limits.blind_index_bits
    )
    matches: list[str] = []
    with db.read(vault.engine) as conn:
        rows = storage.index_candidates(conn, item_id, digest)
    for candidate, wrapped, ciphertext in rows:
        data_key = vault.data_key(candidate, wrapped)
        stored = orjson.loads(
            crypto.decrypt(data_key, ciphertext, subject_id=candidate, item_id=item_id)
        )
        if index_form(item.kind, stored) == form:
            matches.append(candidate)
    vault.committer.append(
        actor=caller.actor_id,
        action="subject.lookup",
        targets=[f"subject:{m}" for m in matches],
        details={"item": item_id, "candidates": len(rows), "matches": len(matches)},
    )
    return matches


def find_external(vault: Vault, caller: Caller, subject_type: str, external_id: str) -> str | None:
    """The subject the host service knows by ``external_id``, if any."""
    caller.require("read")
    vault.rules().subject_type(subject_type)
    if caller.contractor is not None and vault.entrustment_suspended(caller.contractor):
        _refuse_suspended(caller)
    ref = vault.system_keys.external_ref(subject_type, external_id)
    with db.read(vault.engine) as conn:
        found = storage.external_ref_owner(conn, subject_type, ref)
    vault.committer.append(
        actor=caller.actor_id,
        action="subject.lookup",
        targets=[f"subject:{found}"] if found else [],
        details={"item": "external_id", "matches": 1 if found else 0},
    )
    return found


Keep = Callable[[Connection, list[str]], Collection[str]]
"""Which of a page's people a bulk read may release (the others are left out unread)."""
OnPage = Callable[[Connection, list[tuple[str, Any]]], None]
"""What a bulk read does with a page's (subject id, value) pairs in the page's transaction,
before it yields them."""


def bulk_read(
    vault: Vault,
    caller: Caller,
    purpose: str,
    item_id: str,
    *,
    batch: int = 500,
    keep: Keep | None = None,
    on_page: OnPage | None = None,
) -> Generator[tuple[str, Any], None, None]:
    """(subject id, value) of ``item_id`` for every person it may be used for ``purpose``.

    Leaves out withdrawn people and everyone who stopped the item or the purpose, and, with
    ``keep``, everyone of a page that ``keep`` leaves out (asked in the page's transaction,
    before anything is decrypted). With ``on_page``, each page is read, decrypted and handed
    to it in one write transaction, before any of its values is yielded (a streamed
    provision records its page there). Streams in constant memory (keyset pagination by
    subject id); one audit entry records the run with its counts, also when the consumer stops
    early.
    """
    caller.require("read")
    rules = vault.rules()
    rules.purpose(purpose)
    rules.item(item_id)
    if item_id not in rules.allowed[purpose]:
        raise UserInputError(f"purpose '{purpose}' may not use item '{item_id}'")
    if caller.purposes is not None and purpose not in caller.purposes:
        raise PermissionDenied(f"'{caller.actor_id}' is not granted purpose '{purpose}'")
    if rules.purposes[purpose].statistics_only:
        raise UserInputError(
            f"purpose '{purpose}' uses data only as statistics; values are not released"
        )
    if rules.purposes[purpose].pseudonymised is not None:
        raise UserInputError(
            f"purpose '{purpose}' uses data only as pseudonymised information (APPI 41); values"
            " are not released: export it with `mamori statistics export`"
        )
    entrusted, suspended = _entrustment(vault, caller, rules, purpose)
    if suspended:
        _refuse_suspended(caller)
    if entrusted is not None and item_id not in entrusted:
        raise PermissionDenied(
            f"'{caller.actor_id}' may not read '{item_id}' for '{purpose}': the policy does not"
            f" entrust it to contractor '{caller.contractor}' (not_entrusted)"
        )
    types = [t for t, held in rules.subject_types.items() if item_id in held]
    kinds = rules.item(item_id).value_kinds
    several = len(kinds) > 1
    gates = _consent_gates(rules, purpose, item_id)
    # Marketing: people who opted out of marketing mail are left out (seed §10(3)).
    marketing = rules.purposes[purpose].marketing
    released = 0
    after = ""

    def page(conn: Connection) -> list[tuple[str, Any]] | None:
        nonlocal after
        rows = storage.bulk_page(
            conn,
            item_id=item_id,
            purpose=purpose,
            types=types,
            after=after,
            limit=batch,
            consent_gates=gates,
            leave_out_opted_out=marketing,
        )
        if not rows:
            return None
        after = rows[-1][0]
        if keep is not None:
            kept = keep(conn, [row[0] for row in rows])
            rows = [row for row in rows if row[0] in kept]
        return [(subject_id, (wrapped, ciphertext)) for subject_id, wrapped, ciphertext in rows]

    def decrypted(rows: list[tuple[str, Any]], conn: Connection | None) -> list[tuple[str, Any]]:
        values = [
            (
                subject_id,
                orjson.loads(
                    crypto.decrypt(
                        vault.data_key(subject_id, wrapped),
                        ciphertext,
                        subject_id=subject_id,
                        item_id=item_id,
                    )
                ),
            )
            for subject_id, (wrapped, ciphertext) in rows
        ]
        if several:  # each value with its kind, also one stored before the item had several
            values = [(s, kind_of(kinds, v)[1]) for s, v in values]
        return _without_opted_out(vault, rules, purpose, item_id, values, conn)

    try:
        while True:
            if on_page is None:
                with db.read(vault.engine) as conn:
                    rows = page(conn)
                if rows is None:
                    return
                batch_values = decrypted(rows, None)
            else:
                # The page, its decryption and what on_page writes: one write transaction.
                with db.write(vault.engine) as conn:
                    rows = page(conn)
                    if rows is None:
                        return
                    batch_values = decrypted(rows, conn)
                    on_page(conn, batch_values)
            for subject_id, value in batch_values:
                released += 1
                yield subject_id, value
    finally:
        with db.write(vault.engine) as conn:
            vault.audit.append(
                conn,
                actor=caller.actor_id,
                action="subject.bulk_read",
                targets=[f"purpose:{purpose}", f"item:{item_id}"],
                details={"purpose": purpose, "item": item_id, "released": released},
            )


# -- withdrawal --------------------------------------------------------------------------
