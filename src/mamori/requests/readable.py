"""The disclosure package as a person reads it: words instead of codes, in their language.

``package.json`` keeps the codes (it is for machines); every CSV and ``index.html`` go through
:class:`Words`: column headers, item and purpose labels from the policy, sources, event
actions (the policy's ``actions`` of its events item, else the code's words), times in the
operator's zone, stored documents by the name of their file in the zip. :func:`policy_facts`
gathers what the published policy says about joint use, recipients, retention and the
contact desk, for the page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import quote

from babel import Locale

from mamori.clock import local_text
from mamori.i18n import N_, Lang, t
from mamori.policy.model import DataItem, Policy, Retention
from mamori.policy.rules import Rules
from mamori.requests import labels
from mamori.vault.events import DEFAULT_EVENT_DAYS

__all__ = ["COLUMNS", "DOCUMENT_TYPES", "Document", "Words", "held", "is_document", "policy_facts"]

COLUMNS: Final[dict[str, str]] = {
    # items.csv, events.csv, events_summary.csv
    "item": N_("package.col.item"),
    "dataset": N_("package.col.dataset"),
    "table": N_("package.col.table"),
    "row": N_("package.col.row"),
    "value": N_("package.col.value"),
    "source": N_("package.col.source"),
    "collected_at": N_("package.col.collected_at"),
    "updated_at": N_("package.col.updated_at"),
    "purposes": N_("package.col.purposes"),
    "retention": N_("package.col.retention"),
    "occurred_at": N_("package.col.occurred_at"),
    "action": N_("package.col.action"),
    "other": N_("package.col.other"),
    "month": N_("package.col.month"),
    "count": N_("package.col.count"),
    # the sections other parts register
    "provided_at": N_("package.col.provided_at"),
    "recipient": N_("package.col.recipient"),
    "recipient_name": N_("package.col.recipient_name"),
    "recipient_name_en": N_("package.col.recipient_name_en"),
    "recipient_address": N_("package.col.recipient_address"),
    "recipient_representative": N_("package.col.recipient_representative"),
    "recipient_country": N_("package.col.recipient_country"),
    "items": N_("package.col.items"),
    "purpose": N_("package.col.purpose"),
    "basis": N_("package.col.basis"),
    "consent_id": N_("package.col.consent_id"),
    "cookie_choice_receipt": N_("package.col.cookie_choice_receipt"),
    "policy_version": N_("package.col.policy_version"),
    "consented_at": N_("package.col.consented_at"),
    "revoked_at": N_("package.col.revoked_at"),
    "channel": N_("package.col.channel"),
    "received_at": N_("package.col.received_at"),
    "provider_name": N_("package.col.provider_name"),
    "provider_name_en": N_("package.col.provider_name_en"),
    "provider_address": N_("package.col.provider_address"),
    "provider_representative": N_("package.col.provider_representative"),
    "how_obtained": N_("package.col.how_obtained"),
    "seq": N_("package.col.seq"),
    "subject_id": N_("package.col.subject_id"),
    "section_hash": N_("package.col.section_hash"),
    "language": N_("package.col.language"),
    "text_hash": N_("package.col.text_hash"),
    "gpc": N_("package.col.gpc"),
    "method": N_("package.col.method"),
    "categories": N_("package.col.categories"),
    "services": N_("package.col.services"),
    "created_at": N_("package.col.created_at"),
    "expires_at": N_("package.col.expires_at"),
    "prev_hash": N_("package.col.prev_hash"),
    "receipt_hash": N_("package.col.receipt_hash"),
}
"""Column headers of the CSVs and the page's tables, by the column's key (a key not here shows
as its words: ``some_key`` -> ``some key``)."""

_BASES: Final[dict[str, str]] = {
    "consent": N_("ledger.basis_consent"),
    "entrustment": N_("ledger.basis_entrustment"),
    "business_succession": N_("ledger.basis_business_succession"),
    "joint_use": N_("ledger.basis_joint_use"),
    "laws_and_regulations": N_("ledger.basis_laws_and_regulations"),
    "life_body_property": N_("ledger.basis_life_body_property"),
    "public_health": N_("ledger.basis_public_health"),
    "public_authority": N_("ledger.basis_public_authority"),
    "academic_research": N_("ledger.basis_academic_research"),
}
"""The basis of a provision record, by its code."""

_RELATIONSHIPS: Final[dict[str, str]] = {
    "third_party": N_("recipient.third_party"),
    "contractor": N_("recipient.contractor"),
    "joint_user": N_("recipient.joint_user"),
    "successor": N_("recipient.successor"),
}

_VALUES: Final[dict[str, dict[str, str]]] = {
    "channel": {"api": N_("package.channel.api"), "center": N_("package.channel.center")},
    "method": {
        "accept_all": N_("package.method.accept_all"),
        "reject_all": N_("package.method.reject_all"),
        "custom": N_("package.method.custom"),
    },
    "source": {  # of a cookie choice (an item's source is in labels.SOURCES)
        "banner": N_("package.choice_source.banner"),
        "form": N_("package.choice_source.form"),
    },
    "language": {"ja": N_("package.language.ja"), "en": N_("package.language.en")},
}
"""Words for the codes some section columns hold, by column."""

DOCUMENT_TYPES: Final[dict[str, str]] = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "application/pdf": "pdf",
}
"""The extension of a stored document's file, by its content type."""

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_TIME_KEY = re.compile(r"(?:_at|_until)$")


@dataclass(frozen=True)
class Document:
    """A stored document written as a file of the zip."""

    path: str
    """Its name in the zip (``files/本人確認書類_1.jpeg``)."""
    content_type: str

    @property
    def href(self) -> str:
        """Its address relative to ``index.html`` (percent-encoded)."""
        return quote(self.path)

    @property
    def image(self) -> bool:
        return self.content_type.startswith("image/")


def held(value: object) -> object:
    """The value itself: an item of several kinds (text, url, document) keeps its values as
    ``{"kind": ..., "value": ...}``; a person reads the value."""
    if isinstance(value, Mapping) and set(value) == {"kind", "value"}:
        return value["value"]
    return value


def is_document(value: object) -> bool:
    value = held(value)
    return (
        isinstance(value, Mapping)
        and value.get("content_type") in DOCUMENT_TYPES
        and isinstance(value.get("data"), str)
    )


def _words(code: str) -> str:
    """A code as words, for a code that has no label (``invitation.create`` -> ``invitation
    create``)."""
    return re.sub(r"[._\-]+", " ", code).strip() or code


@lru_cache(maxsize=4096)
def _utc_minute(minute: str, zone: str) -> str:
    """``YYYY-MM-DDTHH:MM`` (UTC) to the minute in ``zone``: cached, since the events of a
    package crowd into the same minutes and formatting a time costs more than the rest of a
    CSV row."""
    try:
        at = dt.datetime.fromisoformat(minute).replace(tzinfo=dt.UTC)
    except ValueError:
        return minute
    return local_text(at, zone)


class Words:
    """What the package's CSVs and page show, in ``lang``, times in the zone ``zone``."""

    def __init__(self, rules: Rules, policy: Policy, lang: Lang, zone: str) -> None:
        self.rules = rules
        self.policy = policy
        self.lang: Lang = lang
        self.zone = zone
        stream = rules.event_item()
        self._actions = dict(stream.actions) if stream is not None else {}
        self._recipients = {r.id: r for r in policy.recipients}
        self._files: dict[str, int] = {}

    def msg(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    def column(self, key: str) -> str:
        message = COLUMNS.get(key)
        if message is not None:
            return self.msg(message)
        item = self.rules.items.get(key)  # an event's field is named for its device item
        return item.label.get(self.lang) if item is not None else _words(key)

    def item(self, item_id: str) -> str:
        item = self.rules.items.get(item_id)
        return item.label.get(self.lang) if item is not None else _words(item_id)

    def items(self, item_ids: Iterable[str]) -> str:
        return self.msg(N_("package.list_separator")).join(self.item(i) for i in item_ids if i)

    def purpose(self, purpose_id: str) -> str:
        purpose = self.rules.purposes.get(purpose_id)
        return purpose.label.get(self.lang) if purpose is not None else _words(purpose_id)

    def purposes(self, purpose_ids: Iterable[str]) -> str:
        """The purposes' labels, one a line (a label is often a sentence holding commas)."""
        return "\n".join(self.purpose(p) for p in purpose_ids)

    def source(self, code: str | None) -> str:
        return labels.label(labels.SOURCES, code, self.lang)

    def action(self, code: str) -> str:
        found = self._actions.get(code)
        return found.get(self.lang) if found is not None else _words(code)

    def recipient(self, recipient_id: str) -> str:
        found = self._recipients.get(recipient_id)
        return found.name.get(self.lang) if found is not None else _words(recipient_id)

    def cookie_category(self, category_id: str) -> str:
        for category in self.policy.cookies.categories:
            if category.id == category_id:
                return category.label.get(self.lang)
        return _words(category_id)

    def cookie_service(self, service_id: str) -> str:
        for service in self.policy.cookies.services:
            if service.id == service_id:
                return service.label.get(self.lang) if service.label else service.name
        return _words(service_id)

    def country(self, code: str) -> str:
        name = Locale.parse(self.lang).territories.get(code)
        return name if isinstance(name, str) else code

    def relationship(self, code: str) -> str:
        key = _RELATIONSHIPS.get(code)
        return self.msg(key) if key is not None else _words(code)

    def when(self, value: object) -> str:
        """A time to the minute in the operator's zone (an ISO text is read as a time first)."""
        if isinstance(value, str):
            if len(value) <= len("2026-01-05"):
                return value  # a date (or not a time at all) stays as written
            if value.endswith("+00:00") and value[10:11] == "T":  # as the vault stores times
                return _utc_minute(value[:16], self.zone)
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return str(value)
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return local_text(value, self.zone)
        if isinstance(value, dt.date):
            return value.isoformat()
        return "" if value is None else str(value)

    def retention(self, retention: Retention) -> str:
        if retention.days:
            text = self.msg(N_("package.retention_days"), days=retention.days)
        elif retention.until_withdrawal:
            text = self.msg(N_("package.retention_withdrawal"))
        else:
            text = self.msg(N_("package.retention_unstated"))
        if retention.note is not None:
            text += self.msg(N_("package.retention_note"), note=retention.note.get(self.lang))
        return text

    def item_retention(self, item_id: str) -> str:
        item = self.rules.items.get(item_id)
        return self.retention(item.retention) if item is not None else ""

    def document(self, item_id: str, content_type: str) -> Document:
        """The next file name for a document of ``item_id``: its label and a number."""
        stem = _UNSAFE.sub("_", self.item(item_id)).strip(" ._") or "document"
        n = self._files[stem] = self._files.get(stem, 0) + 1
        return Document(f"files/{stem}_{n}.{DOCUMENT_TYPES[content_type]}", content_type)

    def value(self, value: object) -> str:
        """A stored value as text (a mapping as ``key: value`` pairs, lists joined)."""
        value = held(value)
        if value is None:
            return ""
        if isinstance(value, bool):
            return self.msg(N_("package.yes") if value else N_("package.no"))
        if isinstance(value, Mapping):
            sep = self.msg(N_("package.list_separator"))
            return sep.join(f"{_words(str(k))}: {self.value(v)}" for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return self.msg(N_("package.list_separator")).join(self.value(v) for v in value)
        if isinstance(value, (dt.datetime, dt.date)):
            return self.when(value)
        return str(value)

    def cell(self, key: str, value: object) -> str:
        """A section's value in the column ``key``, in words where the column holds codes."""
        if value is None or value == "":
            return ""
        if key == "items" and isinstance(value, str):
            return self.items(value.split(","))
        if key == "item" and isinstance(value, str):
            return self.item(value)
        if key == "purpose" and isinstance(value, str):
            return self.purpose(value)
        if key == "recipient" and isinstance(value, str):
            return self.recipient(value)
        if key == "basis" and isinstance(value, str):
            basis = _BASES.get(value)
            return self.msg(basis) if basis is not None else _words(value)
        known = _VALUES.get(key, {})
        if isinstance(value, str) and value in known:
            return self.msg(known[value])
        if key == "source" and isinstance(value, str):
            return self.source(value)
        if key in ("categories", "services") and isinstance(value, Mapping):
            name = self.cookie_category if key == "categories" else self.cookie_service
            given = self.msg(N_("package.choice_yes")), self.msg(N_("package.choice_no"))
            return self.msg(N_("package.list_separator")).join(
                f"{name(str(k))}: {given[0] if v else given[1]}" for k, v in value.items()
            )
        if key.endswith("_country") and isinstance(value, str):
            return self.country(value)
        if _TIME_KEY.search(key):
            return self.when(value)
        return self.value(value)


@dataclass(frozen=True)
class JointUseFacts:
    items: str
    users: list[str]
    purposes: list[str]
    responsible: list[str]
    """Name, then address and representative where the policy gives them."""


@dataclass(frozen=True)
class RecipientFacts:
    name: str
    relationship: str
    country: str
    items: str
    purposes: list[str]


@dataclass(frozen=True)
class ContactFacts:
    name: str
    text: str
    url: str
    email: str | None
    operator: str
    address: str


@dataclass(frozen=True)
class PolicyFacts:
    joint_use: list[JointUseFacts]
    provision_statement: str
    provision_exceptions: list[str]
    """The cases the policy declares in which data goes without consent (APPI 27(1), (5))."""
    recipients: list[RecipientFacts]
    event_retention: str | None
    contact: ContactFacts


def _items_with_note(words: Words, item_ids: Iterable[str], note: str | None) -> str:
    listed = words.items(item_ids)
    return listed + words.msg(N_("package.list_separator")) + note if note else listed


def policy_facts(words: Words) -> PolicyFacts:
    """What the published policy in force tells the person about joint use, recipients,
    retention and where to ask."""
    policy, lang = words.policy, words.lang
    joint = [
        JointUseFacts(
            items=_items_with_note(
                words, j.items, j.items_note.get(lang) if j.items_note else None
            ),
            users=[u.get(lang) for u in j.users],
            purposes=[p.get(lang) for p in j.purposes],
            responsible=[
                text.get(lang)
                for text in (
                    j.responsible.name,
                    j.responsible.address,
                    j.responsible.representative,
                )
                if text is not None
            ],
        )
        for j in policy.joint_use
    ]
    recipients = [
        RecipientFacts(
            name=r.name.get(lang),
            relationship=words.relationship(r.relationship.value),
            country=words.country(r.country),
            items=words.items(r.items),
            purposes=[words.purpose(p) for p in r.purposes],
        )
        for r in policy.recipients
    ]
    stream: DataItem | None = words.rules.event_item()
    if stream is not None and not stream.retention.days:  # the vault keeps events this long
        stream_retention = Retention(days=DEFAULT_EVENT_DAYS, note=stream.retention.note)
    elif stream is not None:
        stream_retention = stream.retention
    contact = policy.contact
    return PolicyFacts(
        joint_use=joint,
        provision_statement=policy.third_party_provision.statement.get(lang),
        provision_exceptions=[e.label.get(lang) for e in policy.third_party_provision.exceptions],
        recipients=recipients,
        event_retention=words.retention(stream_retention) if stream is not None else None,
        contact=ContactFacts(
            name=contact.name.get(lang),
            text=contact.text.get(lang),
            url=str(contact.url),
            email=contact.email,
            operator=policy.operator.name.get(lang),
            address=policy.operator.address.get(lang),
        ),
    )
