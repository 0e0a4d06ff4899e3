"""The vault: subjects and their encrypted items, released only as the policy and the person allow.

Every call is one transaction with its audit entry (IDs and codes only): either both commit or
neither does. Values are normalised, then encrypted under the subject's data key, which is
wrapped by the master key; e-mail addresses and phone numbers also get a truncated blind index
so that they can be found without storing them in clear. The purpose-gated reads are in
:mod:`mamori.vault.reads`, the queries in :mod:`mamori.vault.storage`; other domains reach a
person's data through the public store API here (:meth:`Vault.load`, :meth:`Vault.data_key`,
:meth:`Vault.cipher`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from mamori.audit.group import GroupCommitter
from mamori.audit.log import AuditLog
from mamori.clock import SYSTEM, Clock, local_date
from mamori.errors import Conflict, SubjectNotFound, SubjectWithdrawn, UserInputError, ValueTooLarge
from mamori.policy.model import DataItem, ValueKind
from mamori.policy.rules import Rules
from mamori.store import db
from mamori.store.db import Connection, Engine
from mamori.vault import crypto, reads
from mamori.vault.access import Caller, ReadResult
from mamori.vault.blind_index import blind_index, index_bits
from mamori.vault.groups import KEY_NAME as GROUPS_KEY
from mamori.vault.groups import GroupTokens
from mamori.vault.limits import Limits
from mamori.vault.normalize import index_form, kind_of, normalise_item
from mamori.vault.shred_log import ShredLog
from mamori.vault.storage import groups as group_storage
from mamori.vault.storage import subjects as storage
from mamori.vault.storage.subjects import SubjectState
from mamori.vault.system_keys import SystemKeys

__all__ = ["Entrustment", "Erasure", "Limits", "Subject", "SubjectState", "Vault"]

Entrustment = Callable[[Connection, str, dt.date], bool]
"""Whether the entrustment to contractor ``recipient_id`` is suspended on a day (the operator's
calendar day): ``suspended(conn, recipient_id, today)``. The register of contractors owns the
answer (:func:`mamori.contractors.register.suspended`, wired in :data:`mamori.app.parts.BUILT_IN`);
a contractor's key reads nothing while it is suspended."""


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
class Erasure:
    """A step of withdrawal that another domain owns: ``erase(conn, subject_id)`` deletes what
    it holds of the person inside the withdrawal's transaction and returns how many rows went;
    the count is audited as ``deleted.<name>``. The built-in ones are listed in
    :data:`mamori.app.parts.BUILT_IN`."""

    name: str
    erase: Callable[[Connection, str], int]


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
        erasures: Sequence[Erasure] = (),
        entrustment: Entrustment | None = None,
        time_zone: str = "Asia/Tokyo",
        shred_log: ShredLog | None = None,
    ) -> None:
        self.engine = engine
        self.shred_log = shred_log
        """Where each withdrawal is also written, outside the database (:mod:`.shred_log`)."""
        self.clock = clock
        self.entrustment = entrustment
        self.time_zone = time_zone
        """The operator's time zone (MAMORI_TIME_ZONE): whose calendar day is "today"."""
        self.audit = audit
        self.keys = keys
        self.rules = rules
        self.limits = limits or Limits()
        self.erasures = tuple(erasures)
        self.system_keys = SystemKeys(engine, keys, clock=clock)
        self.committer = GroupCommitter(audit)
        self._group_tokens: GroupTokens | None = None

    def close(self) -> None:
        self.committer.close()

    @staticmethod
    def bits_for(population: int) -> int:
        return index_bits(population)

    def today(self) -> dt.date:
        """The operator's calendar day now (:func:`mamori.clock.local_date`)."""
        return local_date(self.clock.now(), self.time_zone)

    def entrustment_suspended(self, recipient_id: str) -> bool:
        """Whether the entrustment to contractor ``recipient_id`` is suspended today (False
        when no register is wired)."""
        if self.entrustment is None:
            return False
        with db.read(self.engine) as conn:
            return self.entrustment(conn, recipient_id, self.today())

    # -- the public store API: what other domains use to reach a person's data ------------------

    def load(self, conn: Connection, subject_id: str) -> SubjectState:
        """The subject's type, status and wrapped data key; :class:`SubjectNotFound` if none."""
        found = storage.state(conn, subject_id)
        if found is None:
            raise SubjectNotFound(f"no subject '{subject_id}'")
        return found

    def data_key(self, subject_id: str, wrapped: bytes | None) -> bytes:
        """The subject's data key, unwrapped; :class:`SubjectWithdrawn` once it is destroyed."""
        if wrapped is None:
            raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
        return crypto.unwrap_key(self.keys, wrapped, context=f"subject:{subject_id}")

    def cipher(self, subject_id: str, wrapped: bytes | None) -> Any:
        """An AES-GCM cipher of the subject's data key, for decrypting many values at once."""
        if wrapped is None:
            raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
        return crypto.unwrap_cipher(self.keys, wrapped, context=f"subject:{subject_id}")

    def stops(self, conn: Connection, subject_id: str) -> tuple[frozenset[str], frozenset[str]]:
        """(stopped items, stopped purposes) of the subject."""
        return storage.stops(conn, subject_id)

    @property
    def index_key(self) -> bytes:
        """The blind-index key (created on first use, outside any caller's transaction)."""
        return self.system_keys.get("blind-index")

    @property
    def group_tokens(self) -> GroupTokens:
        """The tokens of statistics groups (:mod:`.groups`; their key is created on first use,
        outside any caller's transaction)."""
        tokens = self._group_tokens
        if tokens is None:
            tokens = self._group_tokens = GroupTokens(self.system_keys.get(GROUPS_KEY))
        return tokens

    def _keys_before_writing(self, rules: Rules) -> None:
        """Create the keys a write may need before its transaction: creating one takes a write
        transaction of its own, which must not nest inside the caller's."""
        self.system_keys.get("blind-index")
        if rules.grouped:
            self.group_tokens  # noqa: B018 - created here, used inside the transaction

    # -- helpers -----------------------------------------------------------------------------

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
        normal = normalise_item(
            item.value_kinds,
            value,
            item_id=item_id,
            max_document_bytes=self.limits.max_document_bytes,
        )
        encoded = orjson.dumps(normal)
        limit = self.limits.max_value_bytes
        if ValueKind.document in item.value_kinds:
            limit = self.limits.max_document_bytes * 4 // 3 + 1024
        if len(encoded) > limit:
            raise ValueTooLarge(
                f"item '{item_id}' is {len(encoded)} bytes; the limit is {limit} bytes"
            )
        return encoded

    @staticmethod
    def _expires(item: DataItem, start: dt.datetime) -> dt.datetime | None:
        days = item.retention.days
        return start + dt.timedelta(days=days) if days else None

    def _store_items(
        self,
        conn: Connection,
        rules: Rules,
        subject_id: str,
        data_key: bytes,
        encoded: Mapping[str, bytes],
        now: dt.datetime,
        *,
        replacing: bool = True,
    ) -> None:
        """Store the encoded items with their blind-index entries and group tokens
        (``replacing``: the person may hold earlier ones)."""
        for item_id, plaintext in encoded.items():
            item = rules.item(item_id)
            storage.upsert_item(
                conn,
                subject_id=subject_id,
                item_id=item_id,
                ciphertext=crypto.encrypt(
                    data_key, plaintext, subject_id=subject_id, item_id=item_id
                ),
                source=item.source.value,
                now=now,
                expires_at=self._expires(item, now),
            )
            if rules.indexed(item_id):
                form = index_form(item.kind, orjson.loads(plaintext))
                # The key was fetched before the transaction began: creating it on first use
                # takes a write transaction of its own, which must not nest inside this one.
                digest = (
                    blind_index(self.index_key, item_id, form, self.limits.blind_index_bits)
                    if form is not None
                    else None
                )
                storage.replace_index(conn, subject_id, item_id, digest)
            tokens: list[tuple[str, bytes]] = []
            derives = rules.grouped.get(item_id)
            if derives:
                value = orjson.loads(plaintext)
                if len(item.value_kinds) > 1:
                    value = kind_of(item.value_kinds, value)[1]
                tokens = [
                    (d.value, t) for d, t in self.group_tokens.tokens(item_id, derives, value)
                ]
            if tokens or replacing:
                group_storage.replace_groups(conn, subject_id, item_id, tokens, replacing=replacing)

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
        self._keys_before_writing(rules)
        now = self.clock.now()
        with db.write(self.engine) as conn:
            if ref is not None:
                taken = storage.external_ref_owner(conn, type, ref)
                if taken is not None:
                    raise Conflict(
                        f"a subject of type '{type}' with this external id exists: '{taken}'"
                    )
            storage.insert_subject(
                conn,
                subject_id=subject_id,
                type=type,
                external_ref=ref,
                wrapped_key=wrapped,
                master_version=self.keys.current_version,
                now=now,
            )
            self._store_items(conn, rules, subject_id, data_key, encoded, now, replacing=False)
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
        self._keys_before_writing(rules)
        with db.write(self.engine) as conn:
            loaded = self.load(conn, subject_id)
            if loaded.status == "withdrawn":
                raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
            encoded = {
                k: self._encode(rules, loaded.type, k, v) for k, v in items.items() if v is not None
            }
            removed = sorted(k for k, v in items.items() if v is None)
            for item_id in removed:
                rules.item(item_id)
                storage.delete_item(conn, subject_id, item_id)
            data_key = self.data_key(subject_id, loaded.wrapped_key)
            self._store_items(conn, rules, subject_id, data_key, encoded, now)
            storage.touch(conn, subject_id, now)
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

    # -- reads (mamori.vault.reads) ----------------------------------------------------------

    def read(
        self, caller: Caller, subject_id: str, purpose: str, item_ids: Sequence[str] | None = None
    ) -> ReadResult:
        """Release each item the policy allows for ``purpose`` and the person has not stopped
        (without ``item_ids``: every item the purpose allows for the person's type)."""
        return reads.read(self, caller, subject_id, purpose, item_ids)

    def read_by(
        self, caller: Caller, item_id: str, value: Any, purpose: str, item_ids: Sequence[str]
    ) -> dict[str, ReadResult]:
        """Find people by an indexed item (e-mail, phone) and read items of each, in one go."""
        return reads.read_by(self, caller, item_id, value, purpose, item_ids)

    def lookup(self, caller: Caller, item_id: str, value: Any) -> list[str]:
        """Subjects whose ``item_id`` equals ``value``, found through the blind index."""
        return reads.lookup(self, caller, item_id, value)

    def find_external(self, caller: Caller, subject_type: str, external_id: str) -> str | None:
        """The subject the host service knows by ``external_id``, if any."""
        return reads.find_external(self, caller, subject_type, external_id)

    def bulk_read(
        self,
        caller: Caller,
        purpose: str,
        item_id: str,
        *,
        batch: int = 500,
        keep: reads.Keep | None = None,
        on_page: reads.OnPage | None = None,
    ) -> Generator[tuple[str, Any], None, None]:
        """(subject id, value) of ``item_id`` for every person it may be used for ``purpose``
        (and ``keep`` keeps; see :func:`mamori.vault.reads.bulk_read`)."""
        return reads.bulk_read(
            self, caller, purpose, item_id, batch=batch, keep=keep, on_page=on_page
        )

    def get_subject(self, subject_id: str) -> Subject:
        with db.read(self.engine) as conn:
            found = storage.record(conn, subject_id)
        if found is None:
            raise SubjectNotFound(f"no subject '{subject_id}'")
        return Subject(found.id, found.type, found.status, found.created_at, found.withdrawn_at)

    def contact_address(self, subject_id: str) -> str | None:
        """The person's e-mail address (their first item of kind ``email``), for the notices
        mamori sends them itself, such as the confirmation of their withdrawal, which must be
        read before the withdrawal destroys it; ``None`` when they hold none."""
        email_items = [i.id for i in self.rules().items.values() if i.kind is ValueKind.email]
        with db.read(self.engine) as conn:
            wrapped = storage.wrapped_key(conn, subject_id)
            held = storage.items_of_people(conn, [subject_id], email_items).get(subject_id)
        if wrapped is None or not held:
            return None
        cipher = self.cipher(subject_id, wrapped)
        item = held[0]
        value = orjson.loads(
            crypto.decrypt(cipher, item.ciphertext, subject_id=subject_id, item_id=item.item_id)
        )
        return str(value)

    # -- withdrawal --------------------------------------------------------------------------

    def withdraw(self, caller: Caller, subject_id: str) -> None:
        """Withdrawal (退会): delete every item and event, destroy the data key; keep the id.

        Without its data key nothing encrypted for the person can be decrypted again, wherever a
        copy of a row survives. The subject row stays, holding only its id, type, status and
        dates, so that reads can say the person withdrew and ledgers can point to the id. What
        other domains hold of the person goes in the same transaction (:class:`Erasure`).
        """
        caller.require("delete")
        now = self.clock.now()
        with db.write(self.engine) as conn:
            loaded = self.load(conn, subject_id)
            if loaded.status == "withdrawn":
                raise SubjectWithdrawn(f"subject '{subject_id}' has already withdrawn")
            counts = storage.delete_subject_data(conn, subject_id)
            for erasure in self.erasures:
                counts[erasure.name] = erasure.erase(conn, subject_id)
            storage.mark_withdrawn(conn, subject_id, now)
            self.audit.append(
                conn,
                actor=caller.actor_id,
                action="subject.withdraw",
                targets=[f"subject:{subject_id}"],
                details={f"deleted.{k}": v for k, v in counts.items()},
            )
            if self.shred_log is not None:  # last before the commit: a failure undoes it all
                self.shred_log.append(subject_id, now)

    def replay_withdrawal(self, subject_id: str, at: dt.datetime, *, actor: str) -> bool:
        """Withdraw again a person the shred log says withdrew at ``at`` (after a restore from a
        backup older than the withdrawal); False when they are already withdrawn or unknown.

        The same steps as :meth:`withdraw` (other domains' erasures too), audited as
        ``subject.withdraw.replay``; the shred log already holds the line.
        """
        with db.write(self.engine) as conn:
            loaded = storage.state(conn, subject_id)
            if loaded is None or loaded.status == "withdrawn":
                return False
            counts = storage.delete_subject_data(conn, subject_id)
            for erasure in self.erasures:
                counts[erasure.name] = erasure.erase(conn, subject_id)
            storage.mark_withdrawn(conn, subject_id, at)
            self.audit.append(
                conn,
                actor=actor,
                action="subject.withdraw.replay",
                targets=[f"subject:{subject_id}"],
                details={f"deleted.{k}": v for k, v in counts.items()},
            )
        return True
