"""What a person sees of their own data in the privacy center (わたしのデータ).

The person themself reads every item held of them, whatever the purpose: the policy's
purpose gates limit what the operator uses, not what people may see of themselves (APPI 法33
gives them the right to a disclosure of all of it; the formal one, with its records, is the
disclosure request). Each view is one audit entry naming the items shown, never their values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson

from mamori.policy.model import DataItem, ValueKind
from mamori.store import db
from mamori.vault import crypto
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.normalize import kind_of
from mamori.vault.storage import subjects as storage

__all__ = ["HeldItem", "held_items"]


@dataclass(frozen=True)
class HeldItem:
    """One item held of the person: its policy entry, the kind and value, and when."""

    item: DataItem
    kind: ValueKind
    value: object
    """The value itself (for an item of several kinds, without its kind)."""
    collected_at: dt.datetime
    updated_at: dt.datetime


def held_items(vault: Vault, subject_id: str) -> list[HeldItem]:
    """Every item held of the person, in the policy's order; audited as ``subject.view``."""
    caller = Caller.person(subject_id)
    rules = vault.rules()
    with db.read(vault.engine) as conn:
        loaded = vault.load(conn, subject_id)
        rows = storage.items_of(conn, subject_id) if loaded.wrapped_key is not None else []
    by_id = {row.item_id: row for row in rows if row.item_id in rules.items}
    found: list[HeldItem] = []
    if by_id:
        cipher = vault.cipher(subject_id, loaded.wrapped_key)
        for item in rules.items.values():
            row = by_id.get(item.id)
            if row is None:
                continue
            stored = orjson.loads(
                crypto.decrypt(cipher, row.ciphertext, subject_id=subject_id, item_id=item.id)
            )
            kind, value = kind_of(item.value_kinds, stored)
            if item.several_kinds and isinstance(value, dict):
                value = value["value"]
            found.append(HeldItem(item, kind, value, row.collected_at, row.updated_at))
    vault.committer.append(
        actor=caller.actor_id,
        action="subject.view",
        targets=[f"subject:{subject_id}"],
        details={f"item.{h.item.id}": "shown" for h in found},
    )
    return found
