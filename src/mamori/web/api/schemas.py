"""The REST API's request and response models, one place for the API and the Python client.

Models of request bodies end in ``In`` (unknown fields are refused), models of responses in
``Out``. :mod:`mamori.client` returns these same models, so a host service and the OpenAPI
document (``/openapi.json``) always agree. Only pydantic is imported here: the client loads
neither FastAPI nor the server.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AcquisitionIn",
    "AcquisitionOut",
    "BasisName",
    "CenterLinkOut",
    "ChangeTextOut",
    "ConsentIn",
    "ConsentOut",
    "CreatedOut",
    "ErrorOut",
    "EventIn",
    "EventsIn",
    "EventsOut",
    "GroundName",
    "ItemSettingOut",
    "LabelOut",
    "MatchesOut",
    "PersonConsentsOut",
    "PolicyChangeOut",
    "PolicyOut",
    "PolicyVersionOut",
    "ProvidedOut",
    "ProviderIn",
    "ProviderNameIn",
    "ProviderNameOut",
    "ProviderOut",
    "ProvisionConsentIn",
    "ProvisionConsentOut",
    "ProvisionIn",
    "ProvisionOut",
    "PurposeSettingOut",
    "ReadByOut",
    "ReadOut",
    "RequestIn",
    "RequestOut",
    "RequestTypeName",
    "StatisticsEntryOut",
    "StatisticsIn",
    "StatisticsOut",
    "StopsIn",
    "SubjectIn",
    "UsageSettingsOut",
    "WithdrawnOut",
    "valid_unicode",
]


def valid_unicode(value: Any) -> Any:
    """``value`` if no string in it (keys included) holds a lone surrogate; ValueError if one does.

    JSON may spell one (``"\\ud800"``) and Python decodes it, but it is no character: it cannot be
    encoded, stored or shown, and would fail far from the request that brought it.
    """
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text must be valid Unicode (a lone surrogate was sent)") from None
        elif isinstance(node, dict):
            pending.extend(node.keys())
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return value


class _In(BaseModel):
    """A request body: a field the API does not know is refused (422), not ignored."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        return valid_unicode(data)


def _policy(what: str) -> dict[str, Any]:
    """Marks a schema that :mod:`mamori.web.api.document` fills in from the published policy."""
    return {"x-policy": what}


ItemId = Annotated[str, Field(json_schema_extra=_policy("items"))]
PurposeId = Annotated[str, Field(json_schema_extra=_policy("purposes"))]


class ErrorOut(BaseModel):
    """Every error the API answers, whatever its status."""

    error: str = Field(description="What went wrong, for a person to read (never personal data).")
    status: int = Field(description="The HTTP status, repeated.")


# -- the vault ------------------------------------------------------------------------------


class SubjectIn(_In):
    type: str = Field(
        description="A data-subject id from the policy, e.g. `customer`.",
        json_schema_extra=_policy("subject-types"),
    )
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="The host service's own user ID (stored only as a keyed hash).",
    )
    items: dict[str, Any] = Field(
        default_factory=dict,
        description="item id -> value",
        json_schema_extra=_policy("item-values"),
    )


class CreatedOut(BaseModel):
    id: str


class ReadOut(BaseModel):
    items: dict[str, Any] = Field(description="Released values by item id.")
    refused: dict[str, str] = Field(description="Refused items and why (a reason code).")
    missing: list[str] = Field(description="Items allowed but not held for this person.")
    kinds: dict[str, str] = Field(
        default_factory=dict,
        description="The kind of each released value (`text`, `url`, `document`, ...). A value"
        " of an item that allows several kinds is `{kind, value}`.",
    )


class MatchesOut(BaseModel):
    subjects: list[str]


class StopsIn(_In):
    stopped_items: list[ItemId] = Field(default_factory=list, max_length=1000)
    stopped_purposes: list[PurposeId] = Field(default_factory=list, max_length=1000)


class LabelOut(BaseModel):
    ja: str
    en: str


class ItemSettingOut(BaseModel):
    id: str
    label: LabelOut
    essential: bool = Field(description="StopsIn only on withdrawal.")
    stopped: bool
    purposes: list[str]


class PurposeSettingOut(BaseModel):
    id: str
    label: LabelOut
    group: str
    stoppable: bool
    stopped: bool
    items: list[str]


class UsageSettingsOut(BaseModel):
    subject_id: str
    withdrawn: bool
    items: list[ItemSettingOut]
    purposes: list[PurposeSettingOut]

    @property
    def stopped_items(self) -> set[str]:
        """The items the person stopped."""
        return {i.id for i in self.items if i.stopped}

    @property
    def stopped_purposes(self) -> set[str]:
        """The purposes the person stopped."""
        return {p.id for p in self.purposes if p.stopped}


class EventIn(_In):
    occurred_at: str = Field(
        max_length=64,
        description="When, ISO 8601 with a time zone (`Z` or `+09:00`), not before 1970.",
        json_schema_extra={"format": "date-time"},
    )
    action: str = Field(min_length=1, max_length=64, description="A short action code.")
    device_model: str | None = Field(default=None, max_length=256)
    os_version: str | None = Field(default=None, max_length=256)
    ip_address: str | None = Field(default=None, max_length=256, description="IPv4 or IPv6.")
    advertising_id: str | None = Field(default=None, max_length=256)
    cookie_id: str | None = Field(default=None, max_length=256)


class EventsIn(_In):
    events: list[EventIn] = Field(
        max_length=1000,
        description="Each field is stored only while the item of the same id is in use.",
    )


class EventsOut(BaseModel):
    stored: int
    dropped: int
    reason: str | None


class WithdrawnOut(BaseModel):
    id: str
    status: str


class ReadByOut(BaseModel):
    subjects: dict[str, ReadOut] = Field(description="Matching subject id -> its read.")


class CenterLinkOut(BaseModel):
    url: str = Field(description="Send the person here: it signs them into the privacy center.")
    expires_at: dt.datetime = Field(description="The link works once, until this time.")


# -- the policy -----------------------------------------------------------------------------


class PolicyOut(BaseModel):
    """The published policy: its version, content hash, effective date and declaration."""

    version: int
    policy_id: str
    content_hash: str
    effective_date: dt.date
    published_at: dt.datetime
    policy: dict[str, Any]


class PolicyVersionOut(BaseModel):
    version: int
    content_hash: str
    effective_date: dt.date
    published_at: dt.datetime


# -- policy changes -------------------------------------------------------------------------


class ChangeTextOut(BaseModel):
    kind: str
    level: str
    ja: str
    en: str


class PolicyChangeOut(BaseModel):
    version: int
    previous_version: int
    level: str = Field(description="`cosmetic`, `notify` or `consent_required`.")
    published_at: dt.datetime
    changes: list[ChangeTextOut]
    consent_uses: list[tuple[str, str]] = Field(description="(item, purpose) needing consent.")
    consent_recipients: list[str]


class ConsentIn(_In):
    version: int = Field(ge=1, le=2**31 - 1, description="The version whose change needs it.")


class ConsentOut(BaseModel):
    version: int
    consented_at: dt.datetime
    channel: str = Field(description="`center` (the person) or `api` (the host service).")


class PersonConsentsOut(BaseModel):
    pending: list[PolicyChangeOut] = Field(description="Changes waiting for this person's consent.")
    given: list[ConsentOut]


# -- people's requests ----------------------------------------------------------------------

RequestTypeName = Literal[
    "disclosure",
    "correction",
    "usage_stop",
    "erasure",
    "provision_stop",
    "mail_opt_out",
    "inquiry",
]
"""The request types (:class:`mamori.requests.model.RequestType`; a test keeps them equal)."""

GroundName = Literal[
    "beyond_purpose",
    "improper_use",
    "improper_acquisition",
    "provision_without_consent",
    "no_longer_needed",
    "breach",
    "rights_harmed",
]
"""The grounds of APPI 法35 (:class:`mamori.requests.model.Ground`)."""


class RequestIn(_In):
    subject_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The person (vault subject).")
    type: RequestTypeName = Field(description="Which right the person exercises.")
    email: str = Field(max_length=320, description="Where mamori sends the notices.")
    language: str = Field(default="ja", pattern=r"^(ja|en)$")
    items: list[ItemId] = Field(default_factory=list, max_length=200)
    ground: GroundName | None = Field(
        default=None, description="APPI 法35 ground (stops, erasure)."
    )
    delivery: Literal["electronic", "post"] | None = Field(
        default=None, description="How a disclosure is delivered."
    )
    postal_address: str | None = Field(default=None, max_length=500)
    message: str | None = Field(default=None, max_length=4000)
    corrections: dict[str, Any] | None = Field(
        default=None,
        description="item id -> new value (correction)",
        json_schema_extra=_policy("item-values"),
    )


class RequestOut(BaseModel):
    id: str
    type: str
    status: str
    outcome: str | None
    subject_id: str | None
    verified_by: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    decided_at: dt.datetime | None
    notified_at: dt.datetime | None
    closed_at: dt.datetime | None
    fee: int | None


# -- third-party provision ----------------------------------------------------------------------

BasisName = Literal[
    "consent",
    "entrustment",
    "business_succession",
    "joint_use",
    "laws_and_regulations",
    "life_body_property",
    "public_health",
    "public_authority",
    "academic_research",
]
"""Why a provision is lawful (:class:`mamori.provisions.rules.Basis`)."""

RecipientId = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", json_schema_extra=_policy("recipients"))
]
SubjectRef = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class ProvisionIn(_In):
    recipient: RecipientId = Field(description="The recipient, as the policy declares it.")
    purpose: PurposeId = Field(description="What the recipient receives the data for.")
    items: list[ItemId] = Field(min_length=1, max_length=200)
    subjects: list[SubjectRef] = Field(min_length=1, max_length=1000)
    basis: BasisName | None = Field(
        default=None,
        description="The basis claimed; by default consent for a third party, and the "
        "recipient's own (entrustment, joint use, succession) otherwise.",
    )
    reason: str | None = Field(
        default=None,
        max_length=1000,
        description="Required for an exception of APPI 27(1): why it applies.",
    )
    contract: bool = Field(
        default=False,
        description="Provided under a contract with the person for goods or services whose "
        "document stands in for the record (APPI rule 19(3)): the records are kept one year, "
        "not three.",
    )


class ProvidedOut(BaseModel):
    subject_id: str
    items: dict[str, Any] = Field(description="The values provided.")
    refused: dict[str, str] = Field(description="Refused items and why (a reason code).")
    missing: list[str] = Field(description="Items allowed but not held for this person.")
    record_id: str | None = Field(description="The record of this provision (APPI 29), if any.")


class ProvisionOut(BaseModel):
    id: str
    recipient: str
    purpose: str
    basis: str
    provided_at: dt.datetime
    people: list[ProvidedOut]


class ProvisionStreamIn(_In):
    recipient: RecipientId = Field(description="The recipient, as the policy declares it.")
    purpose: PurposeId = Field(description="What the recipient receives the data for.")
    item: ItemId = Field(description="The one item provided (a stream carries one item).")
    basis: BasisName | None = Field(
        default=None,
        description="The basis claimed, as for `POST /api/v1/provisions`.",
    )
    reason: str | None = Field(
        default=None,
        max_length=1000,
        description="Required for an exception of APPI 27(1): why it applies.",
    )
    contract: bool = Field(
        default=False,
        description="As for `POST /api/v1/provisions`: the records are kept one year, not three.",
    )


class ProvisionConsentIn(_In):
    recipient: RecipientId
    purpose: PurposeId


class ProvisionConsentOut(BaseModel):
    id: str
    recipient: str
    purpose: str
    policy_version: int
    consented_at: dt.datetime
    revoked_at: dt.datetime | None
    channel: str


class CookieConsentLinkIn(_In):
    consent_id: str = Field(
        min_length=1,
        max_length=64,
        description="The random ID of the person's mamori_consent cookie (22 characters).",
    )


class CookieConsentLinkOut(BaseModel):
    subject: str
    consent_id: str
    receipt: int
    """The newest receipt under the consent ID."""
    created: bool
    """False when the person was already tied to this consent ID."""


ProviderFact = Annotated[str, Field(min_length=1, max_length=1000)]
"""A fact about the business the data came from, as the host confirmed it."""


class ProviderNameIn(_In):
    ja: ProviderFact
    en: ProviderFact | None = None


class ProviderIn(_In):
    """The business the data came from (APPI 30(1)(i)): its facts, not the person's data."""

    name: ProviderNameIn
    address: ProviderFact
    representative: ProviderFact | None = Field(
        default=None, description="For a corporation, its representative (required)."
    )
    individual: bool = Field(
        default=False, description="The provider is a natural person: no representative."
    )
    keeps_records: bool | None = Field(
        default=None,
        description="The provider is a business that keeps its own record of the provision "
        "(APPI 29), as far as the host knows; informational.",
    )

    @model_validator(mode="after")
    def _representative(self) -> ProviderIn:
        if self.representative is None and not self.individual:
            raise ValueError(
                "a corporation's representative is required ('representative'), or set "
                "'individual' for a provider who is a natural person"
            )
        return self


class AcquisitionIn(_In):
    subject_id: SubjectRef = Field(description="The person the data is about.")
    provider: ProviderIn
    how_obtained: ProviderFact = Field(
        description="How the provider obtained the data (APPI 30(1)(ii))."
    )
    items: list[ItemId] = Field(min_length=1, max_length=200)
    received_at: AwareDatetime | None = Field(
        default=None, description="When the data was received (default now; not in the future)."
    )
    contract: bool = Field(
        default=False,
        description="Received under a contract with the person for goods or services whose "
        "document stands in for the record (APPI rule 23(3)): kept one year, not three.",
    )


class ProviderNameOut(BaseModel):
    ja: str
    en: str | None


class ProviderOut(BaseModel):
    name: ProviderNameOut
    address: str
    representative: str | None
    individual: bool
    keeps_records: bool | None


class AcquisitionOut(BaseModel):
    id: str
    subject_id: str
    provider: ProviderOut
    how_obtained: str
    items: list[str]
    received_at: dt.datetime
    contract: bool
    policy_version: int
    recorded_at: dt.datetime
    retain_until: dt.datetime = Field(description="The record is deleted after this time.")


class StatisticsIn(_In):
    purpose: PurposeId = Field(description="A statistics_only purpose the key is granted.")
    measure: Literal["people", "events", "age"] = Field(
        default="people",
        description="people (who arrived in the period), events (usage events in the period) or"
        " age (people holding a date of birth, with the sum and mean of their ages).",
    )
    by: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=2,
        description="Up to two of the purpose's declared dimensions.",
    )
    since: dt.date | None = Field(default=None, description="First day counted (included).")
    until: dt.date | None = Field(default=None, description="Last day counted (included).")


class StatisticsEntryOut(BaseModel):
    groups: dict[str, str | None] = Field(
        description="dimension -> group (null: unknown); a total leaves out the dimensions it sums."
    )
    value: int | None = Field(description="The count; null when suppressed.")
    sum: int | None = Field(default=None, description="measure age: the sum of the ages.")
    mean: float | None = Field(default=None, description="measure age: the mean age.")
    suppressed: Literal["primary", "secondary"] | None = Field(
        description="primary: fewer than k people; secondary: would give a suppressed one back."
    )


class StatisticsOut(BaseModel):
    query: str = Field(description="The id of the query in the purpose's log.")
    purpose: str
    measure: str
    by: list[str]
    since: dt.date | None
    until: dt.date | None
    min_cell: int = Field(description="k: cells of fewer people are suppressed.")
    cells: list[StatisticsEntryOut]
    totals: list[StatisticsEntryOut]
    suppressed: int = Field(description="How many cells and totals are suppressed.")
