"""The policy compiled into the rules every read and write must pass (pure, no I/O).

``compile_rules(policy)`` turns a declaration into lookup tables: which items each purpose may
use, which items a person may stop (not the essential ones), which purposes a person may stop
(not those the service itself needs), and which items each kind of person has. The vault asks
these rules; it never reads the declaration itself.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from mamori.errors import UnknownItem, UnknownPurpose, UnknownSubjectType, UserInputError
from mamori.policy.diff import diff_policies
from mamori.policy.model import (
    DataItem,
    Policy,
    ProvisionExceptionKind,
    Purpose,
    PurposeGroup,
    Recipient,
    Relationship,
    ValueKind,
)
from mamori.policy.statistics import TOKENISED, Derive

__all__ = ["ESSENTIAL_GROUPS", "ConsentChange", "Refusal", "Rules", "compile_rules", "nearest"]

ESSENTIAL_GROUPS = frozenset({PurposeGroup.service_provision, PurposeGroup.business_line})
"""Purposes of these groups provide the service itself: a person stops them only by withdrawing."""


class Refusal(StrEnum):
    """Why one item was not released by a read. The codes are part of the API."""

    withdrawn = "withdrawn"
    """The person has withdrawn (退会): nothing of theirs is released any more."""
    not_for_subject_type = "not_for_subject_type"
    """The policy does not hold this item for this kind of person."""
    purpose_not_allowed = "purpose_not_allowed"
    """The policy does not allow this item for this purpose."""
    key_not_granted = "key_not_granted"
    """The caller's key is not granted this purpose."""
    statistics_only = "statistics_only"
    """The purpose uses data only in a form that identifies nobody."""
    pseudonymised_only = "pseudonymised_only"
    """The purpose uses data only as pseudonymised information (仮名加工情報, APPI 41), made by
    mamori's export; values are not released one by one."""
    stopped_by_person = "stopped_by_person"
    """The person stopped this item or this purpose in their usage-stop settings."""
    consent_required = "consent_required"
    """A policy change needs this person's consent before this use."""
    not_entrusted = "not_entrusted"
    """A contractor's key: the policy does not entrust this item, for this purpose, to the
    contractor."""
    entrustment_suspended = "entrustment_suspended"
    """A contractor's key: the entrustment is suspended (the contract is not in force, or the
    last supervision check failed)."""


def nearest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class ConsentChange:
    """A published policy change whose new uses wait for each person's consent.

    It applies to the people who were already there when it was published: someone who
    arrives later was told the new uses when their data was collected.
    """

    version: int
    published_at: dt.datetime
    uses: frozenset[tuple[str, str]]
    """(item, purpose) uses that need consent."""


@dataclass(frozen=True)
class Rules:
    """Lookup tables compiled from one policy version."""

    version: int
    items: Mapping[str, DataItem]
    purposes: Mapping[str, Purpose]
    allowed: Mapping[str, frozenset[str]]
    """purpose id -> the items it may use."""
    purposes_of_item: Mapping[str, tuple[str, ...]]
    """item id -> the purposes that may use it, in declaration order."""
    subject_types: Mapping[str, frozenset[str]]
    """subject type -> the items held for it."""
    consent_changes: tuple[ConsentChange, ...] = ()
    """Published changes whose new uses wait for each person's consent, oldest first."""
    recipients: Mapping[str, Recipient] = field(default_factory=dict)
    """recipient id -> the party that may receive personal data (APPI 27-31)."""
    home_country: str = "JP"
    """The operator's country: a recipient elsewhere is abroad (APPI 28)."""
    exceptions: frozenset[ProvisionExceptionKind] = frozenset()
    """The kinds of provision exception the policy declares (its 第三者提供 section)."""
    joint_use_from: dt.datetime | None = None
    """When this version's joint-use changes that people are told of in advance (APPI 27(6))
    apply: the start of its effective date in the operator's zone. Before then a provision
    to a joint user goes by :attr:`joint_users_before`. None: no such change pending."""
    joint_users_before: Mapping[str, Recipient] = field(default_factory=dict)
    """The joint users as the previous version declared them (see :attr:`joint_use_from`)."""

    def recipient_at(self, recipient_id: str, at: dt.datetime | None) -> Recipient | None:
        """The recipient as it stands at ``at``: a joint user as declared before while this
        version's in-advance joint-use changes do not apply yet (None: not a recipient then)."""
        recipient = self.recipients.get(recipient_id)
        if (
            recipient is None
            or recipient.relationship is not Relationship.joint_user
            or self.joint_use_from is None
            or at is None
            or at >= self.joint_use_from
        ):
            return recipient
        return self.joint_users_before.get(recipient_id)

    def consent_gates(self, purpose_id: str) -> tuple[ConsentChange, ...]:
        """The changes that gate some item's use for ``purpose_id`` (usually none)."""
        return tuple(c for c in self.consent_changes if any(p == purpose_id for _, p in c.uses))

    def awaiting_consent(
        self, purpose_id: str, created_at: dt.datetime, consented: frozenset[int]
    ) -> frozenset[str]:
        """Items whose use for ``purpose_id`` waits for the consent of a person created at
        ``created_at`` who has consented to the changes of versions ``consented``."""
        return frozenset(
            item_id
            for change in self.consent_gates(purpose_id)
            if change.published_at > created_at and change.version not in consented
            for item_id, p in change.uses
            if p == purpose_id
        )

    def contractor(self, recipient_id: str) -> Recipient | None:
        """The recipient ``recipient_id`` if the policy declares it as a contractor."""
        found = self.recipients.get(recipient_id)
        if found is None or found.relationship is not Relationship.contractor:
            return None
        return found

    def entrusted(self, recipient_id: str, purpose_id: str) -> frozenset[str]:
        """The items the policy entrusts to contractor ``recipient_id`` for ``purpose_id``
        (none when it is not a contractor, or the purpose is not one of its purposes)."""
        found = self.contractor(recipient_id)
        if found is None or purpose_id not in found.purposes:
            return frozenset()
        return frozenset(found.items)

    def item(self, item_id: str) -> DataItem:
        try:
            return self.items[item_id]
        except KeyError:
            raise UnknownItem(
                f"unknown data item '{item_id}'{nearest(item_id, self.items)}"
            ) from None

    def purpose(self, purpose_id: str) -> Purpose:
        try:
            return self.purposes[purpose_id]
        except KeyError:
            raise UnknownPurpose(
                f"undeclared purpose '{purpose_id}'{nearest(purpose_id, self.purposes)}"
            ) from None

    def subject_type(self, type_id: str) -> frozenset[str]:
        try:
            return self.subject_types[type_id]
        except KeyError:
            raise UnknownSubjectType(
                f"unknown data subject type '{type_id}'{nearest(type_id, self.subject_types)}"
            ) from None

    def item_stoppable(self, item_id: str) -> bool:
        """A person may stop an item unless it is essential (then only withdrawal stops it)."""
        return not self.item(item_id).essential

    def purpose_stoppable(self, purpose_id: str) -> bool:
        return self.purpose(purpose_id).group not in ESSENTIAL_GROUPS

    def indexed(self, item_id: str) -> bool:
        """Items found by value (blind index): e-mail addresses and phone numbers."""
        return self.item(item_id).kind in (ValueKind.email, ValueKind.phone)

    @cached_property
    def grouped(self) -> Mapping[str, tuple[Derive, ...]]:
        """item id -> the derivations statistics group it by that do not depend on the day
        (prefecture, value), as the statistics-only purposes declare them: the vault keeps
        their groups as deterministic tokens beside the item (:mod:`mamori.vault.groups`)."""
        found: dict[str, list[Derive]] = {}
        for purpose in self.purposes.values():
            spec = purpose.statistics
            if not purpose.statistics_only or spec is None:
                continue
            for dim in spec.dimensions:
                if dim.item is not None and dim.derive in TOKENISED:
                    derives = found.setdefault(dim.item, [])
                    if dim.derive not in derives:
                        derives.append(dim.derive)
        return {item: tuple(derives) for item, derives in found.items()}

    def event_item(self) -> DataItem | None:
        """The item that holds device and usage events (kind ``events``), if declared."""
        for item in self.items.values():
            if item.kind is ValueKind.events:
                return item
        return None

    def decide(
        self,
        *,
        subject_type: str,
        purpose_id: str,
        item_id: str,
        granted: frozenset[str] | None,
        stopped_items: frozenset[str],
        stopped_purposes: frozenset[str],
        withdrawn: bool,
        awaiting_consent: frozenset[str] = frozenset(),
        entrusted: frozenset[str] | None = None,
        suspended: bool = False,
    ) -> Refusal | None:
        """Why ``item_id`` may not be released for ``purpose_id``, or None when it may.

        ``granted`` is the set of purposes the caller's key holds (None: the person or staff
        acting for them, who are not limited by key scopes). ``awaiting_consent`` holds the
        items whose use for this purpose waits for this person's consent to a policy change
        (:meth:`awaiting_consent`). For a contractor's key, ``entrusted`` holds the items the
        policy entrusts to it for this purpose (:meth:`entrusted`) and ``suspended`` says
        that its entrustment is suspended; both are decided before anything about the person,
        so that such a key learns nothing of people beyond its entrustment.
        """
        if suspended:
            return Refusal.entrustment_suspended
        if entrusted is not None and item_id not in entrusted:
            return Refusal.not_entrusted
        if withdrawn:
            return Refusal.withdrawn
        if item_id not in self.subject_types.get(subject_type, frozenset()):
            return Refusal.not_for_subject_type
        if item_id not in self.allowed[purpose_id]:
            return Refusal.purpose_not_allowed
        if granted is not None and purpose_id not in granted:
            return Refusal.key_not_granted
        if self.purposes[purpose_id].statistics_only:
            return Refusal.statistics_only
        if self.purposes[purpose_id].pseudonymised is not None:
            return Refusal.pseudonymised_only
        if item_id in stopped_items or purpose_id in stopped_purposes:
            return Refusal.stopped_by_person
        if item_id in awaiting_consent:
            return Refusal.consent_required
        return None

    def refusals(
        self,
        *,
        subject_type: str,
        purpose_id: str,
        item_ids: Iterable[str],
        granted: frozenset[str] | None,
        stopped_items: frozenset[str],
        stopped_purposes: frozenset[str],
        withdrawn: bool,
        awaiting_consent: frozenset[str] = frozenset(),
        entrusted: frozenset[str] | None = None,
        suspended: bool = False,
    ) -> dict[str, Refusal]:
        """:meth:`decide` for several items: the refused ones and why."""
        refused: dict[str, Refusal] = {}
        for item_id in item_ids:
            reason = self.decide(
                subject_type=subject_type,
                purpose_id=purpose_id,
                item_id=item_id,
                granted=granted,
                stopped_items=stopped_items,
                stopped_purposes=stopped_purposes,
                withdrawn=withdrawn,
                awaiting_consent=awaiting_consent,
                entrusted=entrusted,
                suspended=suspended,
            )
            if reason is not None:
                refused[item_id] = reason
        return refused

    def wanted(self, purpose_id: str, item_ids: Iterable[str]) -> list[str]:
        """The items of a read, once each, after checking that they and the purpose exist."""
        self.purpose(purpose_id)
        wanted = list(dict.fromkeys(item_ids))
        if not wanted:
            raise UserInputError(
                "name at least one item to read, or leave out items= to read every item the"
                " purpose allows"
            )
        for item_id in wanted:
            self.item(item_id)
        return wanted


def compile_rules(
    policy: Policy,
    version: int = 0,
    consent_changes: Iterable[ConsentChange] = (),
    *,
    previous: Policy | None = None,
    zone: str = "Asia/Tokyo",
) -> Rules:
    """The rules of ``policy``; ``previous``: the version it replaced, whose joint users stand
    until this version's in-advance joint-use changes apply (``zone``: the operator's)."""
    items = {item.id: item for item in policy.items}
    purposes = {purpose.id: purpose for purpose in policy.purposes}
    allowed = {purpose.id: frozenset(purpose.items) for purpose in policy.purposes}
    of_item: dict[str, list[str]] = {item_id: [] for item_id in items}
    for purpose in policy.purposes:
        for item_id in purpose.items:
            of_item.setdefault(item_id, []).append(purpose.id)
    types: dict[str, set[str]] = {subject.id: set() for subject in policy.subjects}
    for item in policy.items:
        for subject in item.subjects:
            types.setdefault(subject, set()).add(item.id)
    return Rules(
        version=version,
        items=items,
        purposes=purposes,
        allowed=allowed,
        purposes_of_item={k: tuple(v) for k, v in of_item.items()},
        subject_types={k: frozenset(v) for k, v in types.items()},
        consent_changes=tuple(sorted(consent_changes, key=lambda c: c.version)),
        recipients={r.id: r for r in policy.recipients},
        home_country=policy.operator.country,
        exceptions=frozenset(e.kind for e in policy.third_party_provision.exceptions),
        **_joint_use_pending(policy, previous, zone),
    )


def _joint_use_pending(policy: Policy, previous: Policy | None, zone: str) -> dict[str, Any]:
    if previous is None or not diff_policies(previous, policy).in_advance:
        return {}
    start = dt.datetime.combine(policy.effective_date, dt.time(), ZoneInfo(zone))
    return {
        "joint_use_from": start.astimezone(dt.UTC),
        "joint_users_before": {
            r.id: r for r in previous.recipients if r.relationship is Relationship.joint_user
        },
    }
