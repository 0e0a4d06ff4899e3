"""The vault: subjects and their encrypted items, released only as the policy and the person allow.

Every call is one transaction with its audit entry (IDs and codes only): either both commit or
neither does. Values are normalised, then encrypted under the subject's data key, which is
wrapped by the master key; e-mail addresses and phone numbers also get a truncated blind index
so that they can be found without storing them in clear.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from mamori.audit.group import GroupCommitter
from mamori.audit.log import AuditLog
from mamori.clock import SYSTEM, Clock
from mamori.errors import (
    SubjectNotFound,
    SubjectWithdrawn,
    UserInputError,
    ValueTooLarge,
)
from mamori.policy.model import DataItem, ValueKind
from mamori.policy.rules import Rules
from mamori.store import db
from mamori.store.tables import (
    BlindIndexRow,
    CenterLinkRow,
    CenterSessionRow,
    MailOptoutRow,
    PolicyConsentRow,
    RestrictionRow,
    SubjectItemRow,
    SubjectRow,
    UsageEventRow,
)
from mamori.vault import crypto
from mamori.vault.access import Caller, ReadResult
from mamori.vault.blind_index import blind_index, index_bits
from mamori.vault.normalize import index_form, normalise
from mamori.vault.system_keys import SystemKeys

__all__ = ["Limits", "Subject", "Vault"]

subjects = cast(sa.Table, SubjectRow.__table__)
optouts_t = cast(sa.Table, MailOptoutRow.__table__)
items_t = cast(sa.Table, SubjectItemRow.__table__)
blind_t = cast(sa.Table, BlindIndexRow.__table__)
events_t = cast(sa.Table, UsageEventRow.__table__)
stops_t = cast(sa.Table, RestrictionRow.__table__)
links_t = cast(sa.Table, CenterLinkRow.__table__)
sessions_t = cast(sa.Table, CenterSessionRow.__table__)
consents_t = cast(sa.Table, PolicyConsentRow.__table__)


_READ_BY_SQL = (
    "SELECT s.id, s.type, s.status, s.wrapped_key, i.item_id, i.ciphertext,"
    " (SELECT 1 FROM restrictions r WHERE r.subject_id = s.id AND r.scope = 'item'"
    "  AND r.target = i.item_id) AS item_stopped,"
    " (SELECT 1 FROM restrictions r WHERE r.subject_id = s.id AND r.scope = 'purpose'"
    "  AND r.target = {p}) AS purpose_stopped"
    " FROM blind_indexes b JOIN subjects s ON s.id = b.subject_id"
    " LEFT JOIN subject_items i ON i.subject_id = s.id AND i.item_id IN ({items})"
    " WHERE b.item_id = {p} AND b.digest = {p}"
)
_READ_SQL = (  # k 0: the subject; 1: a stop (scope, target); 2: an item (id, ciphertext)
    "SELECT 0 AS k, s.type AS a, s.status AS b, s.wrapped_key AS c FROM subjects s"
    " WHERE s.id = {p}"
    " UNION ALL SELECT 1, r.scope, r.target, NULL FROM restrictions r WHERE r.subject_id = {p}"
    " UNION ALL SELECT 2, i.item_id, NULL, i.ciphertext FROM subject_items i"
    " WHERE i.subject_id = {p} AND i.item_id IN ({items})"
    " ORDER BY 1"
)


class _ReadRow(NamedTuple):
    k: int
    a: Any
    b: Any
    c: Any


class _ByRow(NamedTuple):
    id: str
    type: str
    status: str
    wrapped_key: bytes | None
    item_id: str | None
    ciphertext: bytes | None
    item_stopped: int | None
    purpose_stopped: int | None


@dataclass(frozen=True)
class Limits:
    max_value_bytes: int = 64 * 1024
    max_document_bytes: int = 5 * 1024 * 1024
    blind_index_bits: int = 19


@dataclass(frozen=True)
class Subject:
    id: str
    type: str
    status: str
    created_at: dt.datetime
    withdrawn_at: dt.datetime | None

    @property
    def withdrawn(self) -> bool:
        return self.status == "withdrawn"


@dataclass(frozen=True)
class _Loaded:
    type: str
    status: str
    wrapped_key: bytes | None


class Vault:
    """Purpose-gated access to personal data. Thread-safe; share one per process."""

    def __init__(
        self,
        engine: Engine,
        audit: AuditLog,
        keys: crypto.MasterKeySource,
        rules: Callable[[], Rules],
        limits: Limits | None = None,
        *,
        clock: Clock = SYSTEM,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.audit = audit
        self.keys = keys
        self.rules = rules
        self.limits = limits or Limits()
        self.system_keys = SystemKeys(engine, keys, clock=clock)
        self.committer = GroupCommitter(audit)

    def close(self) -> None:
        self.committer.close()

    @staticmethod
    def bits_for(population: int) -> int:
        return index_bits(population)

    # -- helpers -----------------------------------------------------------------------------

    def _load(self, conn: Connection, subject_id: str) -> _Loaded:
        row = conn.execute(
            sa.select(subjects.c.type, subjects.c.status, subjects.c.wrapped_key).where(
                subjects.c.id == subject_id
            )
        ).one_or_none()
        if row is None:
            raise SubjectNotFound(f"no subject '{subject_id}'")
        return _Loaded(row.type, row.status, row.wrapped_key)

    @staticmethod
    def _wrapped(subject_id: str, wrapped: bytes | None) -> bytes:
        if wrapped is None:
            raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
        return wrapped

    def _data_key(self, subject_id: str, wrapped: bytes | None) -> bytes:
        if wrapped is None:
            raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
        return crypto.unwrap_key(self.keys, wrapped, context=f"subject:{subject_id}")

    def _encode(self, rules: Rules, subject_type: str, item_id: str, value: Any) -> bytes:
        item = rules.item(item_id)
        if item_id not in rules.subject_type(subject_type):
            raise UserInputError(
                f"item '{item_id}' is not held for subjects of type '{subject_type}'"
            )
        if item.kind is ValueKind.events:
            raise UserInputError(
                f"item '{item_id}' holds usage events: send them to the events endpoint"
            )
        normal = normalise(
            item.kind, value, item_id=item_id, max_document_bytes=self.limits.max_document_bytes
        )
        encoded = orjson.dumps(normal)
        limit = self.limits.max_value_bytes
        if item.kind is ValueKind.document:
            limit = self.limits.max_document_bytes * 4 // 3 + 1024
        if len(encoded) > limit:
            raise ValueTooLarge(
                f"item '{item_id}' is {len(encoded)} bytes; the limit is {limit} bytes"
            )
        return encoded

    def _expires(self, item: DataItem, start: dt.datetime) -> dt.datetime | None:
        days = item.retention.days
        return start + dt.timedelta(days=days) if days else None

    @property
    def _index_key(self) -> bytes:
        return self.system_keys.get("blind-index")

    def _store_items(
        self,
        conn: Connection,
        rules: Rules,
        subject_id: str,
        data_key: bytes,
        encoded: Mapping[str, bytes],
        now: dt.datetime,
    ) -> None:
        for item_id, plaintext in encoded.items():
            item = rules.item(item_id)
            ciphertext = crypto.encrypt(data_key, plaintext, subject_id=subject_id, item_id=item_id)
            updated = conn.execute(
                items_t.update()
                .where(items_t.c.subject_id == subject_id, items_t.c.item_id == item_id)
                .values(ciphertext=ciphertext, updated_at=now, expires_at=self._expires(item, now))
            ).rowcount
            if not updated:
                conn.execute(
                    items_t.insert().values(
                        subject_id=subject_id,
                        item_id=item_id,
                        ciphertext=ciphertext,
                        source=item.source.value,
                        collected_at=now,
                        updated_at=now,
                        expires_at=self._expires(item, now),
                    )
                )
            if rules.indexed(item_id):
                self._reindex(conn, rules, subject_id, item_id, orjson.loads(plaintext))

    def _reindex(
        self, conn: Connection, rules: Rules, subject_id: str, item_id: str, value: Any
    ) -> None:
        conn.execute(
            blind_t.delete().where(blind_t.c.subject_id == subject_id, blind_t.c.item_id == item_id)
        )
        form = index_form(rules.item(item_id).kind, value)
        if form is None:
            return
        # The key was fetched before the transaction began: creating it on first use takes a
        # write transaction of its own, which must not nest inside this one (SQLite would wait).
        digest = blind_index(self._index_key, item_id, form, self.limits.blind_index_bits)
        conn.execute(blind_t.insert().values(item_id=item_id, digest=digest, subject_id=subject_id))

    # -- writes ------------------------------------------------------------------------------

    def create_subject(
        self,
        caller: Caller,
        *,
        type: str,
        external_id: str | None = None,
        items: Mapping[str, Any] | None = None,
    ) -> str:
        """Store a new person with their items; returns the new subject id."""
        caller.require("write")
        rules = self.rules()
        rules.subject_type(type)
        encoded = {k: self._encode(rules, type, k, v) for k, v in (items or {}).items()}
        subject_id = secrets.token_hex(16)
        data_key = crypto.new_data_key()
        wrapped = crypto.wrap_key(self.keys, data_key, context=f"subject:{subject_id}")
        ref = self.system_keys.external_ref(type, external_id) if external_id else None
        self.system_keys.get("blind-index")  # created outside the write transaction below
        now = self.clock.now()
        with db.write(self.engine) as conn:
            if ref is not None:
                taken = conn.execute(
                    sa.select(subjects.c.id).where(
                        subjects.c.type == type, subjects.c.external_ref == ref
                    )
                ).first()
                if taken is not None:
                    from mamori.errors import Conflict

                    raise Conflict(
                        f"a subject of type '{type}' with this external id exists: '{taken.id}'"
                    )
            conn.execute(
                subjects.insert().values(
                    id=subject_id,
                    type=type,
                    external_ref=ref,
                    status="active",
                    wrapped_key=wrapped,
                    master_version=self.keys.current_version,
                    created_at=now,
                    updated_at=now,
                )
            )
            self._store_items(conn, rules, subject_id, data_key, encoded, now)
            self.audit.append(
                conn,
                actor=caller.actor_id,
                action="subject.create",
                targets=[f"subject:{subject_id}"],
                details={"type": type, **{f"item.{k}": "written" for k in sorted(encoded)}},
            )
        return subject_id

    def write_items(self, caller: Caller, subject_id: str, items: Mapping[str, Any | None]) -> None:
        """Set items (a None value deletes the item). One transaction, audited."""
        caller.require("write")
        if any(v is None for v in items.values()):
            caller.require("delete")
        rules = self.rules()
        now = self.clock.now()
        self.system_keys.get("blind-index")  # created outside the write transaction below
        with db.write(self.engine) as conn:
            loaded = self._load(conn, subject_id)
            if loaded.status == "withdrawn":
                raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
            encoded = {
                k: self._encode(rules, loaded.type, k, v) for k, v in items.items() if v is not None
            }
            removed = sorted(k for k, v in items.items() if v is None)
            for item_id in removed:
                rules.item(item_id)
                conn.execute(
                    items_t.delete().where(
                        items_t.c.subject_id == subject_id, items_t.c.item_id == item_id
                    )
                )
                conn.execute(
                    blind_t.delete().where(
                        blind_t.c.subject_id == subject_id, blind_t.c.item_id == item_id
                    )
                )
            data_key = self._data_key(subject_id, loaded.wrapped_key)
            self._store_items(conn, rules, subject_id, data_key, encoded, now)
            conn.execute(
                subjects.update().where(subjects.c.id == subject_id).values(updated_at=now)
            )
            details: dict[str, str | int | bool | None] = {
                f"item.{k}": "written" for k in sorted(encoded)
            }
            details.update({f"item.{k}": "deleted" for k in removed})
            self.audit.append(
                conn,
                actor=caller.actor_id,
                action="subject.write",
                targets=[f"subject:{subject_id}"],
                details=details,
            )

    # -- reads -------------------------------------------------------------------------------

    def read(
        self, caller: Caller, subject_id: str, purpose: str, item_ids: Sequence[str]
    ) -> ReadResult:
        """Release each item the policy allows for ``purpose`` and the person has not stopped."""
        caller.require("read")
        rules = self.rules()
        wanted = rules.wanted(purpose, item_ids)
        # Only items the policy and the key allow for the purpose are fetched: a refused
        # document is never read from the database at all.
        fetch = [i for i in wanted if i in rules.purpose(purpose).items]
        if caller.purposes is not None and purpose not in caller.purposes:
            fetch = []
        marks = ", ".join(["{p}"] * len(fetch)) if fetch else "NULL"
        # The hot path of every read by id: one statement through the driver, one round trip.
        rows = [
            _ReadRow(*r)
            for r in db.query(
                self.engine,
                _READ_SQL.replace("{items}", marks),
                (subject_id, subject_id, subject_id, *fetch),
            )
        ]
        if not rows or rows[0].k != 0:
            raise SubjectNotFound(f"no subject '{subject_id}'")
        loaded = _Loaded(rows[0].a, rows[0].b, rows[0].c)
        awaiting: frozenset[str] = frozenset()
        if rules.consent_gates(purpose):
            with db.read(self.engine) as conn:
                awaiting = self._awaiting(conn, rules, [subject_id], purpose).get(
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
        )
        allowed = [i for i in wanted if i not in refused]
        values: dict[str, Any] = {}
        held = [r for r in rows if r.k == 2 and r.a not in refused]
        if held:
            cipher = crypto.unwrap_cipher(
                self.keys,
                self._wrapped(subject_id, loaded.wrapped_key),
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
        self.committer.append(
            actor=caller.actor_id,
            action="subject.read",
            targets=[f"subject:{subject_id}"],
            details=details,
        )
        ordered = {i: values[i] for i in wanted if i in values}
        return ReadResult(items=ordered, refused=refused, missing=missing)

    def read_by(
        self,
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
        rules = self.rules()
        item = rules.item(item_id)
        wanted = rules.wanted(purpose, item_ids)
        if not rules.indexed(item_id):
            raise UserInputError(
                f"item '{item_id}' cannot be searched: only e-mail and phone items are indexed"
            )
        form = index_form(item.kind, normalise(item.kind, value, item_id=item_id))
        if form is None:
            return {}
        digest = blind_index(self._index_key, item_id, form, self.limits.blind_index_bits)
        # One statement through the driver: this is the hot path of every host-service read.
        # Only the searched item and the wanted ones: a person may hold many more (documents).
        fetched = list(dict.fromkeys([item_id, *wanted]))
        sql = _READ_BY_SQL.replace("{items}", ", ".join(["{p}"] * len(fetched)))
        params = (purpose, *fetched, item_id, digest)
        rows = [_ByRow(*r) for r in db.query(self.engine, sql, params)]
        wanted_set = set(wanted)
        by_subject: dict[str, list[Any]] = {}
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
            with db.read(self.engine) as conn:
                awaiting = self._awaiting(conn, rules, list(by_subject), purpose)
        for subject_id, subject_rows in by_subject.items():
            head = subject_rows[0]
            if head.wrapped_key is None:
                continue
            searched = next((r for r in subject_rows if r.item_id == item_id), None)
            if searched is None:
                continue
            cipher = crypto.unwrap_cipher(
                self.keys, head.wrapped_key, context=f"subject:{subject_id}"
            )
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
                if r.item_id is not None and r.item_id != item_id and r.item_id in wanted_set
            }
            plain[item_id] = found
            # Stops of items this person does not hold are unknown here and do not matter:
            # nothing is released for them either way (they are reported as missing).
            stopped_items = frozenset(r.item_id for r in subject_rows if r.item_stopped)
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
            )
            released = {i: plain[i] for i in wanted if i not in refused and i in plain}
            missing = tuple(i for i in wanted if i not in refused and i not in released)
            results[subject_id] = ReadResult(released, refused, missing)
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
        self.committer.append(
            actor=caller.actor_id,
            action="subject.read",
            targets=[f"subject:{s}" for s in sorted(results)],
            details=details,
        )
        return results

    def _awaiting(
        self, conn: Connection, rules: Rules, subject_ids: Sequence[str], purpose: str
    ) -> dict[str, frozenset[str]]:
        """subject id -> items whose use for ``purpose`` waits for that person's consent to a
        policy change. No query unless a published change gates this purpose."""
        if not rules.consent_gates(purpose):
            return {}
        created = dict(
            conn.execute(
                sa.select(subjects.c.id, subjects.c.created_at).where(
                    subjects.c.id.in_(subject_ids)
                )
            ).all()
        )
        consented: dict[str, set[int]] = {}
        for row in conn.execute(
            sa.select(consents_t.c.subject_id, consents_t.c.version).where(
                consents_t.c.subject_id.in_(subject_ids)
            )
        ):
            consented.setdefault(row.subject_id, set()).add(row.version)
        return {
            s: rules.awaiting_consent(purpose, created[s], frozenset(consented.get(s, ())))
            for s in subject_ids
            if s in created
        }

    def _consent_conditions(
        self, rules: Rules, purpose: str, item_id: str
    ) -> list[sa.ColumnElement[bool]]:
        """For a bulk read: leave out people who have yet to consent to a change gating it."""
        conditions: list[sa.ColumnElement[bool]] = []
        for change in rules.consent_gates(purpose):
            if (item_id, purpose) not in change.uses:
                continue
            consented = sa.exists().where(
                consents_t.c.subject_id == subjects.c.id, consents_t.c.version == change.version
            )
            conditions.append(sa.or_(subjects.c.created_at >= change.published_at, consented))
        return conditions

    def _without_opted_out(
        self, rules: Rules, purpose: str, item_id: str, released: list[tuple[str, Any]]
    ) -> list[tuple[str, Any]]:
        """For a bulk read for a marketing purpose: drop e-mail addresses that opted out of
        marketing mail (seed §10(3)); people who opted out are left out by the query already."""
        if not rules.purposes[purpose].marketing or rules.item(item_id).kind is not ValueKind.email:
            return released
        from mamori.vault.addresses import address_hash

        hashes = [address_hash(self.system_keys, value) for _, value in released]
        with db.read(self.engine) as conn:
            out = set(
                conn.execute(
                    sa.select(optouts_t.c.address_hash).where(optouts_t.c.address_hash.in_(hashes))
                ).scalars()
            )
        return [pair for pair, h in zip(released, hashes, strict=True) if h not in out]

    def _stops(self, conn: Connection, subject_id: str) -> tuple[frozenset[str], frozenset[str]]:
        rows = conn.execute(
            sa.select(stops_t.c.scope, stops_t.c.target).where(stops_t.c.subject_id == subject_id)
        ).all()
        return (
            frozenset(r.target for r in rows if r.scope == "item"),
            frozenset(r.target for r in rows if r.scope == "purpose"),
        )

    def get_subject(self, subject_id: str) -> Subject:
        with db.read(self.engine) as conn:
            row = conn.execute(
                sa.select(
                    subjects.c.id,
                    subjects.c.type,
                    subjects.c.status,
                    subjects.c.created_at,
                    subjects.c.withdrawn_at,
                ).where(subjects.c.id == subject_id)
            ).one_or_none()
        if row is None:
            raise SubjectNotFound(f"no subject '{subject_id}'")
        return Subject(row.id, row.type, row.status, row.created_at, row.withdrawn_at)

    def lookup(self, caller: Caller, item_id: str, value: Any) -> list[str]:
        """Subjects whose ``item_id`` equals ``value``, found through the blind index.

        The truncated index returns a few false candidates by design; each is decrypted and
        compared, and only true matches are returned. The caller's key must be granted a purpose
        that uses the item.
        """
        caller.require("read")
        rules = self.rules()
        item = rules.item(item_id)
        if not rules.indexed(item_id):
            raise UserInputError(
                f"item '{item_id}' cannot be searched: only e-mail and phone items are indexed"
            )
        if caller.purposes is not None and not (
            set(rules.purposes_of_item.get(item_id, ())) & caller.purposes
        ):
            from mamori.errors import PermissionDenied

            raise PermissionDenied(
                f"'{caller.actor_id}' holds no purpose that uses item '{item_id}'"
            )
        form = index_form(item.kind, normalise(item.kind, value, item_id=item_id))
        if form is None:
            return []
        digest = blind_index(
            self.system_keys.get("blind-index"), item_id, form, self.limits.blind_index_bits
        )
        matches: list[str] = []
        with db.read(self.engine) as conn:
            rows = conn.execute(
                sa.select(subjects.c.id, subjects.c.wrapped_key, items_t.c.ciphertext)
                .select_from(
                    blind_t.join(subjects, subjects.c.id == blind_t.c.subject_id).join(
                        items_t,
                        sa.and_(
                            items_t.c.subject_id == blind_t.c.subject_id,
                            items_t.c.item_id == blind_t.c.item_id,
                        ),
                    )
                )
                .where(blind_t.c.item_id == item_id, blind_t.c.digest == digest)
            ).all()
            for row in rows:
                data_key = self._data_key(row.id, row.wrapped_key)
                stored = orjson.loads(
                    crypto.decrypt(data_key, row.ciphertext, subject_id=row.id, item_id=item_id)
                )
                if index_form(item.kind, stored) == form:
                    matches.append(row.id)
        self.committer.append(
            actor=caller.actor_id,
            action="subject.lookup",
            targets=[f"subject:{m}" for m in matches],
            details={"item": item_id, "candidates": len(rows), "matches": len(matches)},
        )
        return matches

    def find_external(self, caller: Caller, subject_type: str, external_id: str) -> str | None:
        """The subject the host service knows by ``external_id``, if any."""
        caller.require("read")
        self.rules().subject_type(subject_type)
        ref = self.system_keys.external_ref(subject_type, external_id)
        with db.read(self.engine) as conn:
            row = conn.execute(
                sa.select(subjects.c.id).where(
                    subjects.c.type == subject_type, subjects.c.external_ref == ref
                )
            ).first()
        found = row.id if row else None
        self.committer.append(
            actor=caller.actor_id,
            action="subject.lookup",
            targets=[f"subject:{found}"] if found else [],
            details={"item": "external_id", "matches": 1 if found else 0},
        )
        return found

    def bulk_read(
        self, caller: Caller, purpose: str, item_id: str, *, batch: int = 500
    ) -> Generator[tuple[str, Any], None, None]:
        """(subject id, value) of ``item_id`` for every person it may be used for ``purpose``.

        Leaves out withdrawn people and everyone who stopped the item or the purpose. Streams in
        constant memory (keyset pagination by subject id); one audit entry records the run with
        its counts, also when the consumer stops early.
        """
        caller.require("read")
        rules = self.rules()
        rules.purpose(purpose)
        rules.item(item_id)
        if item_id not in rules.allowed[purpose]:
            raise UserInputError(f"purpose '{purpose}' may not use item '{item_id}'")
        if caller.purposes is not None and purpose not in caller.purposes:
            from mamori.errors import PermissionDenied

            raise PermissionDenied(f"'{caller.actor_id}' is not granted purpose '{purpose}'")
        if rules.purposes[purpose].statistics_only:
            raise UserInputError(
                f"purpose '{purpose}' uses data only as statistics; values are not released"
            )
        types = [t for t, held in rules.subject_types.items() if item_id in held]
        stopped = sa.exists().where(
            stops_t.c.subject_id == subjects.c.id,
            sa.or_(
                sa.and_(stops_t.c.scope == "item", stops_t.c.target == item_id),
                sa.and_(stops_t.c.scope == "purpose", stops_t.c.target == purpose),
            ),
        )
        # Marketing: people who opted out of marketing mail are left out (seed §10(3)).
        opted_out = (
            [~sa.exists().where(optouts_t.c.subject_id == subjects.c.id)]
            if rules.purposes[purpose].marketing
            else []
        )
        released = 0
        after = ""
        try:
            while True:
                with db.read(self.engine) as conn:
                    rows = conn.execute(
                        sa.select(subjects.c.id, subjects.c.wrapped_key, items_t.c.ciphertext)
                        .select_from(subjects.join(items_t, items_t.c.subject_id == subjects.c.id))
                        .where(
                            items_t.c.item_id == item_id,
                            subjects.c.status == "active",
                            subjects.c.type.in_(types),
                            subjects.c.id > after,
                            ~stopped,
                            *self._consent_conditions(rules, purpose, item_id),
                            *opted_out,
                        )
                        .order_by(subjects.c.id)
                        .limit(batch)
                    ).all()
                if not rows:
                    return
                batch_values = [
                    (
                        row.id,
                        orjson.loads(
                            crypto.decrypt(
                                self._data_key(row.id, row.wrapped_key),
                                row.ciphertext,
                                subject_id=row.id,
                                item_id=item_id,
                            )
                        ),
                    )
                    for row in rows
                ]
                for subject_id, value in self._without_opted_out(
                    rules, purpose, item_id, batch_values
                ):
                    released += 1
                    yield subject_id, value
                after = rows[-1].id
        finally:
            with db.write(self.engine) as conn:
                self.audit.append(
                    conn,
                    actor=caller.actor_id,
                    action="subject.bulk_read",
                    targets=[f"purpose:{purpose}", f"item:{item_id}"],
                    details={"purpose": purpose, "item": item_id, "released": released},
                )

    # -- withdrawal --------------------------------------------------------------------------

    def withdraw(self, caller: Caller, subject_id: str) -> None:
        """Withdrawal (退会): delete every item and event, destroy the data key; keep the id.

        Without its data key nothing encrypted for the person can be decrypted again, wherever a
        copy of a row survives. The subject row stays, holding only its id, type, status and
        dates, so that reads can say the person withdrew and ledgers can point to the id.
        """
        caller.require("delete")
        now = self.clock.now()
        with db.write(self.engine) as conn:
            loaded = self._load(conn, subject_id)
            if loaded.status == "withdrawn":
                raise SubjectWithdrawn(f"subject '{subject_id}' has already withdrawn")
            counts = {}
            for name, table in (
                ("items", items_t),
                ("indexes", blind_t),
                ("events", events_t),
                ("stops", stops_t),
                ("links", links_t),
                ("sessions", sessions_t),
            ):
                counts[name] = conn.execute(
                    table.delete().where(table.c.subject_id == subject_id)
                ).rowcount
            conn.execute(
                subjects.update()
                .where(subjects.c.id == subject_id)
                .values(
                    status="withdrawn",
                    wrapped_key=None,
                    master_version=None,
                    external_ref=None,
                    updated_at=now,
                    withdrawn_at=now,
                )
            )
            self.audit.append(
                conn,
                actor=caller.actor_id,
                action="subject.withdraw",
                targets=[f"subject:{subject_id}"],
                details={f"deleted.{k}": v for k, v in counts.items()},
            )
