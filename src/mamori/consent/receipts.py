"""Consent receipts: every cookie choice, stored, hash-chained and anchored in the audit log.

A receipt holds IDs and codes only: the random consent ID of the person's cookie, the subject
ID when the choice was made signed in to the privacy center, the policy version and the hash of
its cookie section, the language and the SHA-256 of the exact banner text shown (the text is
kept in ``consent_texts``), whether Global Privacy Control was on, how the choice was made, the
categories and services chosen, and when it was made and expires.

**Tamper evidence.** Receipts form a chain of their own: ``receipt_hash = SHA-256(prev_hash ||
canonical JSON of the receipt)``, the first ``prev_hash`` being 32 zero bytes. Every transaction
that stores receipts also appends one ``consent.record`` entry to the audit log naming the
receipts' range and the chain head after them, so that the receipts cannot be rewritten, nor the
newest removed, without breaking the audit chain too. :meth:`ReceiptLog.verify` checks both.

**Speed.** A receipt is durable before :meth:`ReceiptLog.record` returns, but the commit is
shared: concurrent callers queue their receipt and the first to find no commit in progress
stores every queued one in one transaction (the leader-follower group commit of
:mod:`mamori.audit.group`). Writers serialise on the audit log's lock (PostgreSQL advisory lock,
SQLite ``BEGIN IMMEDIATE``), under which the chain head is read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from mamori.audit.log import AuditLog
from mamori.consent import storage
from mamori.consent.banner import Banner, canonical
from mamori.errors import ConsentReceiptsTampered
from mamori.store import db
from mamori.store.db import Connection, Engine
from mamori.store.group_commit import GroupCommit

__all__ = [
    "GENESIS",
    "MAX_BATCH",
    "NewReceipt",
    "Receipt",
    "ReceiptLog",
    "Verified",
    "for_subject",
]

GENESIS: Final = bytes(32)
MAX_BATCH: Final = 500
_PAGE: Final = 2000


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class NewReceipt:
    """A choice to store (what the person sent, checked, with what they were shown)."""

    consent_id: str
    subject_id: str | None
    policy_version: int
    section_hash: str
    language: str
    text_hash: str
    gpc: bool
    method: str
    source: str
    categories: Mapping[str, bool]
    services: Mapping[str, bool]


@dataclass(frozen=True)
class Receipt(NewReceipt):
    seq: int
    created_at: dt.datetime
    expires_at: dt.datetime
    prev_hash: bytes
    receipt_hash: bytes

    def to_json(self) -> dict[str, Any]:
        """The receipt as exported (JSON Lines, the disclosure package)."""
        return _fields(self) | {
            "prev_hash": self.prev_hash.hex(),
            "receipt_hash": self.receipt_hash.hex(),
        }


def _fields(r: Receipt) -> dict[str, Any]:
    """The hashed fields of a receipt."""
    return {
        "seq": r.seq,
        "consent_id": r.consent_id,
        "subject_id": r.subject_id,
        "policy_version": r.policy_version,
        "section_hash": r.section_hash,
        "language": r.language,
        "text_hash": r.text_hash,
        "gpc": r.gpc,
        "method": r.method,
        "source": r.source,
        "categories": dict(r.categories),
        "services": dict(r.services),
        "created_at": _ts(r.created_at),
        "expires_at": _ts(r.expires_at),
    }


def _hash(prev: bytes, receipt: Receipt) -> bytes:
    return hashlib.sha256(prev + canonical(_fields(receipt))).digest()


def _receipt(row: storage.ReceiptRow) -> Receipt:
    return Receipt(
        consent_id=row.consent_id,
        subject_id=row.subject_id,
        policy_version=row.policy_version,
        section_hash=row.section_hash,
        language=row.language,
        text_hash=row.text_hash,
        gpc=bool(row.gpc),
        method=row.method,
        source=row.source,
        categories=orjson.loads(row.categories),
        services=orjson.loads(row.services),
        seq=row.seq,
        created_at=row.created_at,
        expires_at=row.expires_at,
        prev_hash=bytes(row.prev_hash),
        receipt_hash=bytes(row.receipt_hash),
    )


@dataclass(frozen=True)
class Verified:
    receipts: int
    anchors: int
    texts: int


class ReceiptLog:
    """The receipts in ``engine``'s database; one per process (its group commit is shared)."""

    def __init__(self, engine: Engine, audit: AuditLog, *, days: int) -> None:
        self.engine = engine
        self.audit = audit
        self.days = days
        self._group: GroupCommit[tuple[NewReceipt, Banner], Receipt] = GroupCommit(
            self._commit, max_batch=MAX_BATCH, name="consent_receipts"
        )
        self._texts: set[str] = set()

    # -- writing -------------------------------------------------------------------------------

    def record(self, receipt: NewReceipt, banner: Banner) -> Receipt:
        """Store ``receipt`` (made with ``banner`` shown); returns once it is durable."""
        if banner.text_hash != receipt.text_hash:
            raise ValueError("the receipt's text hash is not the banner's")
        return self._group.submit((receipt, banner))

    def _commit(self, batch: list[tuple[NewReceipt, Banner]]) -> list[Receipt]:
        """One transaction for the batch: a banner text not kept yet, the receipts, one anchor."""
        new_texts = {b.text_hash: b for _, b in batch if b.text_hash not in self._texts}
        with db.write(self.engine) as conn:
            stored = self._append(conn, [r for r, _ in batch], new_texts)
        self._texts.update(new_texts)
        return stored

    def _append(
        self, conn: Connection, receipts: list[NewReceipt], texts: Mapping[str, Banner]
    ) -> list[Receipt]:
        db.lock(conn, "audit")  # the chain head is read under the audit log's writers' lock
        head = storage.head(conn)
        seq, prev = head if head is not None else (0, GENESIS)
        now = self.audit.clock.now()
        expires = now + dt.timedelta(days=self.days)
        if texts:
            storage.insert_texts(
                conn,
                (storage.BannerText(h, b.version, b.lang, b.gpc, b.text) for h, b in texts.items()),
                now,
            )
        first = seq + 1
        rows: list[storage.ReceiptRow] = []
        stored: list[Receipt] = []
        for new in receipts:
            seq += 1
            draft = Receipt(
                **{k: getattr(new, k) for k in NewReceipt.__dataclass_fields__},
                seq=seq,
                created_at=now,
                expires_at=expires,
                prev_hash=prev,
                receipt_hash=b"",
            )
            digest = _hash(prev, draft)
            receipt = Receipt(**{**draft.__dict__, "receipt_hash": digest})
            fields = _fields(receipt)
            stored_fields = fields | {
                "categories": canonical(fields["categories"]).decode(),
                "services": canonical(fields["services"]).decode(),
                "created_at": now,
                "expires_at": expires,
                "prev_hash": prev,
                "receipt_hash": digest,
            }
            rows.append(storage.ReceiptRow(**stored_fields))
            stored.append(receipt)
            prev = digest
        storage.insert_receipts(conn, rows)
        self.audit.append(
            conn,
            actor="system:consent",
            action="consent.record",
            targets=[f"consent-receipts:{first}-{seq}"],
            details={"count": len(rows), "first": first, "last": seq, "head": prev.hex()},
        )
        return stored

    # -- reading -------------------------------------------------------------------------------

    def latest(self, consent_id: str) -> Receipt | None:
        """The newest receipt of a consent ID."""
        with db.read(self.engine) as conn:
            row = storage.latest(conn, consent_id)
        return _receipt(row) if row is not None else None

    def count(self) -> int:
        with db.read(self.engine) as conn:
            return storage.count(conn)

    def export(self, *, actor: str, after: int = 0) -> Iterator[Receipt]:
        """Every receipt after ``after``, oldest first; the export is audited (``consent.export``)
        before the first receipt is read."""
        with db.write(self.engine) as conn:
            self.audit.append(
                conn,
                actor=actor,
                action="consent.export",
                targets=["consent-receipts"],
                details={"after": after},
            )
        while True:
            with db.read(self.engine) as conn:
                page = [_receipt(row) for row in storage.page(conn, after=after, limit=_PAGE)]
            yield from page
            if len(page) < _PAGE:
                return
            after = page[-1].seq

    def text(self, text_hash: str) -> str | None:
        """The banner text (canonical JSON) with this hash, as kept."""
        with db.read(self.engine) as conn:
            return storage.text(conn, text_hash)

    # -- verification --------------------------------------------------------------------------

    def verify(self) -> Verified:
        """Recompute the chain, check every audit anchor and every kept text.

        Raises :class:`~mamori.errors.ConsentReceiptsTampered` naming the first receipt (by
        its sequence number) that was edited, removed or moved, or the anchor that no longer
        matches.
        """
        anchors: dict[int, str] = {}
        with db.read(self.engine, snapshot=True) as conn:
            for details in storage.anchor_details(conn):
                parsed = orjson.loads(details)
                anchors[int(parsed["last"])] = str(parsed["head"])
            prev, expected, checked = GENESIS, 1, 0
            while True:
                rows = storage.page(conn, after=expected - 1, limit=_PAGE)
                page = [_receipt(row) for row in rows]
                for receipt in page:
                    if receipt.seq != expected:
                        raise ConsentReceiptsTampered(
                            f"consent receipt {expected} is missing (the next is {receipt.seq})"
                        )
                    if receipt.prev_hash != prev or _hash(prev, receipt) != receipt.receipt_hash:
                        raise ConsentReceiptsTampered(
                            f"consent receipt {receipt.seq} was changed: its hash does not match"
                        )
                    head = anchors.get(receipt.seq)
                    if head is not None and head != receipt.receipt_hash.hex():
                        raise ConsentReceiptsTampered(
                            f"consent receipt {receipt.seq} does not match the chain head the "
                            "audit log recorded for it"
                        )
                    prev = receipt.receipt_hash
                    expected += 1
                    checked += 1
                if len(page) < _PAGE:
                    break
            beyond = [last for last in anchors if last >= expected]
            if beyond:
                raise ConsentReceiptsTampered(
                    f"the audit log records consent receipts up to {max(beyond)}, but the "
                    f"receipts end at {expected - 1}"
                )
            texts = 0
            for text_hash, text in storage.texts(conn):
                if hashlib.sha256(text.encode("utf-8")).hexdigest() != text_hash:
                    raise ConsentReceiptsTampered(
                        f"the kept banner text {text_hash[:16]}... was changed"
                    )
                texts += 1
        return Verified(checked, len(anchors), texts)


def for_subject(conn: Connection, subject_id: str) -> Iterator[Mapping[str, object]]:
    """The receipts of choices ``subject_id`` made signed in, oldest first (for the disclosure
    package), read on the caller's connection."""
    for row in storage.for_subject(conn, subject_id):
        yield _receipt(row).to_json()
