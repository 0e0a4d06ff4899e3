"""Typed models of the policy declaration (``policy.yaml``, schema ``mamori/v1``).

These models check the shape of each value. Cross-references between parts of the document
(an item named in a purpose, a cookie's category, ...) are checked in :mod:`mamori.policy.checks`,
which can report every problem at once with the nearest valid id.

Everything a person reads is a :class:`Text` with Japanese and English.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from mamori.policy.statistics import Pseudonymisation, StatisticsSpec

__all__ = [
    "SCHEMA",
    "SINGLE_KINDS",
    "BusinessLine",
    "ConsentCategory",
    "Contact",
    "CookieService",
    "Cookies",
    "DataItem",
    "DataSubject",
    "ExternalService",
    "ForeignInformation",
    "Id",
    "ItemSource",
    "JointUse",
    "Link",
    "Operator",
    "Organisation",
    "Policy",
    "ProvisionException",
    "ProvisionExceptionKind",
    "Purpose",
    "PurposeGroup",
    "Recipient",
    "Relationship",
    "Requests",
    "Retention",
    "Revision",
    "SecurityGroup",
    "SecurityMeasure",
    "Text",
    "ThirdPartyProvision",
    "ValueKind",
]

SCHEMA = "mamori/v1"

_ID = r"^[a-z][a-z0-9_]{0,62}$"
Id = Annotated[str, StringConstraints(pattern=_ID)]
"""A stable identifier: lower-case ASCII letters, digits and underscores, starting with a letter."""

_URL = re.compile(r"^https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d{1,5})?(/[^\s]*)?$")


def _check_url(value: str) -> str:
    if not _URL.match(value):
        raise ValueError(f"malformed URL {value!r}: expected http:// or https:// and a host name")
    return value


Url = Annotated[str, AfterValidator(_check_url)]
"""An absolute http(s) URL."""

Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""An ISO 3166-1 alpha-2 country code such as ``JP`` or ``US``."""

NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Text(_Model):
    """Text people read, in Japanese (first) and English."""

    ja: NonEmpty
    en: NonEmpty

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja


class Link(_Model):
    label: Text
    url: Url


class Organisation(_Model):
    """A party named in the policy: its name, address and representative."""

    name: Text
    display_name: Text | None = None
    """The name as the party writes it today (Google LLC), shown in the cookie banner where
    the policy's text keeps the name it was written with; ``name`` when absent."""
    address: Text | None = None
    representative: Text | None = None
    country: Country | None = None
    url: Url | None = None


class Representative(_Model):
    title: Text
    name: Text


class Operator(_Model):
    """The business operator (個人情報取扱事業者) that publishes the policy."""

    name: Text
    representative: Representative
    address: Text
    country: Country = "JP"
    corporate_number: Annotated[str, StringConstraints(pattern=r"^\d{13}$")] | None = None
    url: Url | None = None


class Contact(_Model):
    """The contact window for questions, complaints and requests (お問い合わせ窓口)."""

    name: Text
    url: Url
    text: Text
    call_recording_notice: Text | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None


class BusinessLine(_Model):
    id: Id
    label: Text


class DataSubject(_Model):
    """A kind of person whose data the operator holds (customers, partners' contacts, ...)."""

    id: Id
    label: Text


class ItemSource(StrEnum):
    provided = "provided"
    """Given by the person (forms, uploads)."""
    linked_service = "linked_service"
    """Received from an external service the person linked, within the scopes consented there."""
    collected = "collected"
    """Collected automatically from the device or from usage."""


class ValueKind(StrEnum):
    """How the vault stores and normalises values of an item."""

    text = "text"
    url = "url"
    name = "name"
    email = "email"
    phone = "phone"
    address = "address"
    postal_code = "postal_code"
    date = "date"
    document = "document"
    external_id = "external_id"
    device_id = "device_id"
    ip_address = "ip_address"
    json = "json"
    events = "events"


class Retention(_Model):
    """How long values of an item are kept: a number of days, or until withdrawal (退会)."""

    days: Annotated[int, Field(gt=0)] | None = None
    until_withdrawal: bool = False
    note: Text | None = None


SINGLE_KINDS: frozenset[ValueKind] = frozenset(
    {ValueKind.email, ValueKind.phone, ValueKind.external_id, ValueKind.events}
)
"""Kinds an item cannot combine with others: e-mail and phone items are indexed and are the
person's contacts, external IDs link services, events are not stored values."""


class DataItem(_Model):
    id: Id
    label: Text
    description: Text | None = None
    category: Id
    kind: ValueKind = ValueKind.text
    """The kind of the item's values; with ``kinds``, the first of them."""
    kinds: tuple[ValueKind, ...] = ()
    """The kinds an item holding values of several kinds allows (``content``: text, url,
    document); each value is then stored with its kind (see :mod:`mamori.vault.normalize`)."""
    source: ItemSource
    subjects: list[Id] = Field(min_length=1)
    linked_scopes: list[NonEmpty] = Field(default_factory=list)
    sensitive: bool = False
    """要配慮個人情報: collecting it always needs consent."""
    identifier_code: bool = False
    """個人識別符号 (My Number, passport number, ...)."""
    financial_risk: bool = False
    """Data whose leak could cause financial loss (card numbers, bank logins)."""
    essential: bool = False
    """Needed to provide the service: the person can stop it only by withdrawing."""
    retention: Retention = Field(default_factory=lambda: Retention(until_withdrawal=True))
    actions: dict[NonEmpty, Text] = Field(default_factory=dict)
    """For an item of kind ``events``: what each action code of its events means, as people
    read it in their disclosure package (``invitation.create``: 招待状の作成)."""

    @model_validator(mode="after")
    def _actions_of_events(self) -> DataItem:
        if self.actions and self.kind is not ValueKind.events:
            raise ValueError("actions: only an item of kind 'events' names actions")
        return self

    @model_validator(mode="before")
    @classmethod
    def _first_kind(cls, data: Any) -> Any:
        """``kinds: [text, url]`` makes ``kind`` the first of them (checks.py reports an item
        giving both, or an empty list)."""
        if isinstance(data, dict) and "kinds" in data and "kind" not in data:
            kinds = data["kinds"]
            if isinstance(kinds, list) and kinds:
                data = {**data, "kind": kinds[0]}
        return data

    @property
    def value_kinds(self) -> tuple[ValueKind, ...]:
        """Every kind the item's values may have, in the declared order."""
        return self.kinds or (self.kind,)

    @property
    def several_kinds(self) -> bool:
        """Whether each value is stored with its kind (``{"kind": ..., "value": ...}``)."""
        return len(self.value_kinds) > 1


class PurposeGroup(StrEnum):
    business_line = "business_line"
    service_provision = "service_provision"
    marketing_statistics = "marketing_statistics"
    advertising = "advertising"


class Purpose(_Model):
    id: Id
    label: Text
    group: PurposeGroup
    statistics_only: bool = False
    """Items are used only in a form that identifies nobody (statistics)."""
    statistics: StatisticsSpec | None = None
    """For a statistics-only purpose: k and the dimensions (:mod:`mamori.policy.statistics`)."""
    pseudonymised: Pseudonymisation | None = None
    """The items are used only as pseudonymised information (仮名加工情報, APPI 41)."""
    marketing: bool = False
    """Marketing (promotion by mail or post): people who opted out of marketing mail (seed
    §10(3)) are left out of the vault's bulk reads for this purpose."""
    business_lines: list[Id] = Field(default_factory=list)
    items: list[Id]
    stated_in: Literal["purposes", "collection"] = "purposes"
    """Where the published policy states this purpose: in the purposes section (§2), or in the
    collection entry that names its items (the seed states the purpose of partners' contact
    details in §1 (3)①), in which case the purposes section does not list it again."""
    related_to: list[Id] = Field(default_factory=list)
    """Earlier purposes this one is reasonably related to (APPI 法17(2)). When a revision lets
    this purpose use an item already held, the change needs only a notice if the previous
    version allowed the item for one of these purposes; otherwise each person must consent
    (see :mod:`mamori.policy.diff`)."""


class PurposeSection(_Model):
    """Headings and introduction of the policy's purposes section (§2)."""

    intro: Text
    business_lines_heading: Text
    group_headings: dict[PurposeGroup, Text]


class SecurityGroup(StrEnum):
    organisational = "organisational"
    human = "human"
    physical = "physical"
    technical = "technical"
    foreign_environment = "foreign_environment"


class SecurityMeasure(_Model):
    text: Text
    groups: list[SecurityGroup] = Field(default_factory=list)


class Security(_Model):
    basic_policy: Text
    measures_intro: Text
    measures: list[SecurityMeasure] = Field(min_length=1)


class JointUse(_Model):
    """共同利用 (APPI 27(5)(iii)): every field here must be told to people in advance."""

    id: Id
    items: list[Id] = Field(min_length=1)
    items_note: Text | None = None
    users: list[Text] = Field(min_length=1)
    purposes: list[Text] = Field(min_length=1)
    responsible: Organisation


class ProvisionExceptionKind(StrEnum):
    entrustment = "entrustment"
    business_succession = "business_succession"
    joint_use = "joint_use"
    information_module = "information_module"
    public_authority = "public_authority"
    laws_and_regulations = "laws_and_regulations"
    life_body_property = "life_body_property"
    public_health = "public_health"
    academic_research = "academic_research"
    other_legal = "other_legal"


class ProvisionException(_Model):
    id: Id
    kind: ProvisionExceptionKind
    label: Text


class ThirdPartyProvision(_Model):
    consent_required: Literal[True] = True
    statement: Text
    exceptions: list[ProvisionException] = Field(default_factory=list)
    supervision: Text | None = None


class Relationship(StrEnum):
    """How a recipient stands to the operator, which decides what a provision to it needs."""

    third_party = "third_party"
    """A third party (第三者): the person's consent or a declared exception (APPI 27(1))."""
    contractor = "contractor"
    """A contractor (委託先), within its entrustment: not a third party (27(5)(i))."""
    joint_user = "joint_user"
    """A joint user (共同利用者) within the declared joint use: not a third party (27(5)(iii))."""
    successor = "successor"
    """A successor to the business (merger, transfer): not a third party (27(5)(ii))."""


class ForeignInformation(_Model):
    """What APPI 28(2) and rule 17 ask to be given to people before they consent to a provision
    to a recipient in a foreign country: the country's system for protecting personal
    information and the recipient's measures, or, where they cannot be identified, why not."""

    system: Text | None = None
    """The country's system for the protection of personal information."""
    measures: Text | None = None
    """The measures the recipient takes to protect personal information."""
    unknown_reason: Text | None = None
    """Why the country or its system cannot be identified (instead of the two above)."""
    publish: bool = True
    """Shown on the policy page (the law asks it only of the consent; publishing is a choice)."""


class Recipient(_Model):
    """A party that may receive personal data from the operator (APPI 27-31)."""

    id: Id
    name: Text
    address: Text | None = None
    representative: Text | None = None
    relationship: Relationship
    joint_use: Id | None = None
    """For a joint user: the declared joint use it takes part in."""
    task: Text | None = None
    """For a contractor: the work entrusted to it."""
    items: list[Id] = Field(min_length=1)
    purposes: list[Id] = Field(min_length=1)
    country: Country
    foreign: ForeignInformation | None = None
    """Required when the recipient is not in the operator's country."""
    person_related: bool = False
    """Expected to link person-related information (cookie ids, ad ids, browsing history) to
    a person it can identify (APPI 31): a send needs the person's confirmed consent."""
    cookie_services: list[Id] = Field(default_factory=list)
    """The cookie services (``cookies.services``) through which it collects such information."""
    url: Url | None = None
    illustrative: bool = False
    """An example entry: the policy's text implies such a party without naming it."""


class ConsentCategory(_Model):
    id: Id
    label: Text
    description: Text | None = None
    required: bool = False
    """Strictly necessary: always on, no choice offered."""
    consent_mode: list[
        Literal[
            "ad_storage",
            "analytics_storage",
            "ad_user_data",
            "ad_personalization",
            "functionality_storage",
            "personalization_storage",
            "security_storage",
        ]
    ] = Field(default_factory=list)
    """Google Consent Mode v2 types granted when the person consents to this category."""


class CookieService(_Model):
    id: Id
    name: NonEmpty
    label: Text | None = None
    """The name shown to people when it differs by language (Google 広告, Google Ads); ``name``
    when absent."""
    display_name: Text | None = None
    """The name as the provider writes it (YouTube), shown in the cookie banner where the
    policy's text spells it otherwise; ``label`` (or ``name``) when absent."""
    provider: Organisation
    purpose: Text
    privacy_policy_url: Url
    opt_out: Url | Literal["none"]
    """The provider's opt-out page, or ``none`` when the provider offers none (提供なし)."""
    category: Id


class Cookies(_Model):
    intro: Text
    categories: list[ConsentCategory] = Field(min_length=1)
    services: list[CookieService] = Field(default_factory=list)


class ExternalService(_Model):
    """An external API whose terms the policy must disclose (e.g. YouTube API Services)."""

    id: Id
    name: NonEmpty
    heading: Text | None = None
    """The heading of its part of the published policy (YouTube API サービスの利用について)."""
    provider: Organisation
    text: Text
    links: list[Link] = Field(default_factory=list)


class Fee(_Model):
    amount: Annotated[int, Field(ge=0)]
    currency: Literal["JPY"] = "JPY"
    note: Text | None = None


class Requests(_Model):
    """How people make requests (APPI 法32, 37): where, identity check, fees, texts shown."""

    disclosure: Text
    correction_and_stop: Text
    erasure: Text
    mail_opt_out: Text
    usage_stop_settings: Text
    identity_verification: Text
    where: Text
    disclosure_fee: Fee | None = None


class Revision(_Model):
    date: dt.date
    label: Text
    summary: Text | None = None


class Policy(_Model):
    """A whole policy declaration."""

    schema_: Literal["mamori/v1"] = Field(alias="schema")
    id: Id
    title: Text
    preamble: list[Text] = Field(min_length=1)
    operator: Operator
    contact: Contact
    accredited_organisation: Organisation | None = None
    business_lines: list[BusinessLine] = Field(default_factory=list)
    subjects: list[DataSubject] = Field(min_length=1)
    collection: CollectionSection
    items: list[DataItem] = Field(min_length=1)
    purpose_section: PurposeSection
    purposes: list[Purpose] = Field(min_length=1)
    security: Security
    joint_use: list[JointUse] = Field(default_factory=list)
    usage_stop: Text
    cookies: Cookies
    external_services: list[ExternalService] = Field(default_factory=list)
    third_party_provision: ThirdPartyProvision
    recipients: list[Recipient] = Field(default_factory=list)
    requests: Requests
    changes: Text
    revisions: list[Revision] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _contractors(cls, data: Any) -> Any:
        """Read the ``contractors`` list of earlier declarations as recipients."""
        if isinstance(data, dict) and "contractors" in data:
            data = dict(data)
            data["recipients"] = [
                *(data.get("recipients") or []),
                *legacy_contractors(data.pop("contractors"), data.get("purposes")),
            ]
        return data

    @property
    def effective_date(self) -> dt.date:
        return self.revisions[-1].date

    @property
    def contractors(self) -> list[Recipient]:
        return [r for r in self.recipients if r.relationship is Relationship.contractor]

    def recipient(self, recipient_id: str) -> Recipient:
        for recipient in self.recipients:
            if recipient.id == recipient_id:
                return recipient
        raise KeyError(recipient_id)

    def item(self, item_id: str) -> DataItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def purpose(self, purpose_id: str) -> Purpose:
        for purpose in self.purposes:
            if purpose.id == purpose_id:
                return purpose
        raise KeyError(purpose_id)


def legacy_contractors(contractors: Any, purposes: Any) -> list[Any]:
    """``contractors`` entries (``id, name, task, items, country, address``) as recipients: a
    contractor, for every declared purpose that uses one of its items."""
    if not isinstance(contractors, list):
        return [contractors]  # the model reports the shape
    found = []
    for entry in contractors:
        if isinstance(entry, dict):
            items = entry.get("items") or []
            uses = [
                p.get("id")
                for p in purposes or []
                if isinstance(p, dict) and set(p.get("items") or []) & set(items)
            ]
            entry = {"relationship": "contractor", "purposes": uses, **entry}
        found.append(entry)
    return found


class CollectionGroup(_Model):
    """One heading of the collection section (§1): the items it covers and the text shown."""

    id: Id
    heading: Text
    intro: Text | None = None
    entries: list[CollectionEntry] = Field(min_length=1)


class CollectionEntry(_Model):
    """One numbered entry under a collection heading, naming the items it collects."""

    heading: Text | None = None
    text: Text
    items: list[Id] = Field(min_length=1)


class CollectionSection(_Model):
    groups: list[CollectionGroup] = Field(min_length=1)


CollectionGroup.model_rebuild()
Policy.model_rebuild()
