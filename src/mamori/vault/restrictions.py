"""Usage-stop settings (seed §5): per item and per purpose, what is used, and what is stopped.

A person may stop any item that is not essential to the service, and any purpose that the
service itself does not need (marketing, statistics, advertising). Essential items stop only on
withdrawal, and say so. A change takes effect on the very next read: reads consult the
stops inside their own statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mamori.errors import NotStoppable, SubjectWithdrawn
from mamori.policy.model import PurposeGroup, Text
from mamori.store import db
from mamori.store.db import Connection
from mamori.vault.access import Caller
from mamori.vault.core import Vault
from mamori.vault.storage import subjects as storage

__all__ = [
    "ItemSetting",
    "PurposeSetting",
    "UsageSettings",
    "follow_mail_optout",
    "set_stops",
    "usage_settings",
]


@dataclass(frozen=True)
class ItemSetting:
    id: str
    label: Text
    essential: bool
    stopped: bool
    purposes: tuple[str, ...]


@dataclass(frozen=True)
class PurposeSetting:
    id: str
    label: Text
    group: PurposeGroup
    stoppable: bool
    stopped: bool
    items: tuple[str, ...]


@dataclass(frozen=True)
class UsageSettings:
    subject_id: str
    withdrawn: bool
    items: tuple[ItemSetting, ...]
    purposes: tuple[PurposeSetting, ...]

    @property
    def stopped_items(self) -> frozenset[str]:
        return frozenset(i.id for i in self.items if i.stopped)

    @property
    def stopped_purposes(self) -> frozenset[str]:
        return frozenset(p.id for p in self.purposes if p.stopped)


def usage_settings(vault: Vault, subject_id: str) -> UsageSettings:
    rules = vault.rules()
    subject = vault.get_subject(subject_id)
    with db.read(vault.engine) as conn:
        items_stopped, purposes_stopped = vault.stops(conn, subject_id)
    stopped = {("item", i) for i in items_stopped} | {("purpose", p) for p in purposes_stopped}
    held = rules.subject_types.get(subject.type, frozenset())
    items = tuple(
        ItemSetting(
            id=item.id,
            label=item.label,
            essential=item.essential,
            stopped=("item", item.id) in stopped,
            purposes=tuple(p for p in rules.purposes_of_item.get(item.id, ())),
        )
        for item in rules.items.values()
        if item.id in held
    )
    purposes = tuple(
        PurposeSetting(
            id=purpose.id,
            label=purpose.label,
            group=purpose.group,
            stoppable=rules.purpose_stoppable(purpose.id),
            stopped=("purpose", purpose.id) in stopped,
            items=tuple(i for i in purpose.items if i in held),
        )
        for purpose in rules.purposes.values()
        if any(i in held for i in purpose.items)
    )
    return UsageSettings(subject_id, subject.withdrawn, items, purposes)


def set_stops(
    vault: Vault,
    caller: Caller,
    subject_id: str,
    *,
    stopped_items: Iterable[str],
    stopped_purposes: Iterable[str],
) -> UsageSettings:
    """Replace the person's stops with these sets. One transaction, audited."""
    caller.require("write")
    rules = vault.rules()
    items = sorted(set(stopped_items))
    purposes = sorted(set(stopped_purposes))
    for item_id in items:
        if not rules.item_stoppable(item_id):
            raise NotStoppable(
                f"item '{item_id}' is essential to the service: it stops only on withdrawal"
            )
    for purpose_id in purposes:
        if not rules.purpose_stoppable(purpose_id):
            raise NotStoppable(
                f"purpose '{purpose_id}' provides the service itself: it stops only on withdrawal"
            )
    wanted = {("item", i) for i in items} | {("purpose", p) for p in purposes}
    now = vault.clock.now()
    with db.write(vault.engine) as conn:
        if vault.load(conn, subject_id).status == "withdrawn":
            raise SubjectWithdrawn(f"subject '{subject_id}' has withdrawn")
        added, removed = storage.set_stops(conn, subject_id, wanted, now)
        details: dict[str, str | int | bool | None] = {}
        details.update({f"{s}.{t}": "stopped" for s, t in sorted(added)})
        details.update({f"{s}.{t}": "resumed" for s, t in sorted(removed)})
        # Marketing resumed is marketing mail resumed: a mail opt-out is the marketing stop.
        declared = rules.purposes
        marketing = any(
            s == "purpose" and t in declared and declared[t].marketing for s, t in removed
        )
        if marketing and storage.lift_mail_optouts(conn, subject_id):
            details["mail_optout"] = "lifted"
        vault.audit.append(
            conn,
            actor=caller.actor_id,
            action="subject.restrictions",
            targets=[f"subject:{subject_id}"],
            details=details,
        )
    return usage_settings(vault, subject_id)


def follow_mail_optout(
    vault: Vault, conn: Connection, subject_id: str, *, opted_out: bool, actor: str
) -> tuple[str, ...]:
    """A known person's mail opt-out is their marketing stop: in ``conn``'s transaction, stop
    (``opted_out``) or resume every stoppable marketing purpose of the policy for them, and
    audit it (``subject.restrictions``, ``by: mail_optout`` or ``mail_optin``). Returns the
    purposes changed; nothing for an unknown person or one who withdrew."""
    rules = vault.rules()
    marketing = {
        ("purpose", p.id)
        for p in rules.purposes.values()
        if p.marketing and rules.purpose_stoppable(p.id)
    }
    record = storage.record(conn, subject_id)
    if not marketing or record is None or record.status == "withdrawn":
        return ()
    items, purposes = storage.stops(conn, subject_id)
    current = {("item", i) for i in items} | {("purpose", p) for p in purposes}
    wanted = current | marketing if opted_out else current - marketing
    added, removed = storage.set_stops(conn, subject_id, wanted, vault.clock.now())
    changed = sorted(added | removed)
    if changed:
        details: dict[str, str | int | bool | None] = {
            f"{s}.{t}": "stopped" if opted_out else "resumed" for s, t in changed
        }
        details["by"] = "mail_optout" if opted_out else "mail_optin"
        vault.audit.append(
            conn,
            actor=actor,
            action="subject.restrictions",
            targets=[f"subject:{subject_id}"],
            details=details,
        )
    return tuple(t for _, t in changed)
