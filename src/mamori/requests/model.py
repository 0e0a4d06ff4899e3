"""The vocabulary of people's requests: types, steps, outcomes, grounds. Pure: no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "OPERATION_OF",
    "Agent",
    "Delivery",
    "Ground",
    "Outcome",
    "Request",
    "RequestType",
    "Status",
    "Verification",
]


class RequestType(StrEnum):
    disclosure = "disclosure"  # 開示 (法33)
    correction = "correction"  # 訂正等 (法34)
    usage_stop = "usage_stop"  # 利用停止 (法35(1)(5))
    erasure = "erasure"  # 消去 (法35(1)(5))
    provision_stop = "provision_stop"  # 第三者提供の停止 (法35(3)(5))
    mail_opt_out = "mail_opt_out"  # ご案内の差し止め (seed §10(3))
    inquiry = "inquiry"  # お問い合わせ・苦情 (seed §11(2), 法40)


OPERATION_OF: dict[RequestType, str | None] = {
    RequestType.disclosure: "read",
    RequestType.correction: "write",
    RequestType.usage_stop: "write",
    RequestType.erasure: "delete",
    RequestType.provision_stop: "write",
    RequestType.mail_opt_out: "write",
    RequestType.inquiry: None,
}
"""The key operation a request type asks for. A host service vouches for a person (a request
filed in a privacy-center session counts as verified) only for what its own key could do."""


class Status(StrEnum):
    received = "received"
    verified = "verified"
    in_review = "in_review"
    decided = "decided"
    notified = "notified"
    closed = "closed"


class Outcome(StrEnum):
    fulfilled = "fulfilled"
    partly_fulfilled = "partly_fulfilled"
    refused = "refused"
    no_data = "no_data"


class Ground(StrEnum):
    """The grounds of 法35 for a usage stop, an erasure or a provision stop."""

    beyond_purpose = "beyond_purpose"  # 法18 違反 (35(1))
    improper_use = "improper_use"  # 法19 違反 (35(1))
    improper_acquisition = "improper_acquisition"  # 法20 違反 (35(1))
    provision_without_consent = "provision_without_consent"  # 法27(1), 28 違反 (35(3))
    no_longer_needed = "no_longer_needed"  # 利用する必要がなくなった (35(5), 2022)
    breach = "breach"  # 法26 の漏えい等が生じた (35(5), 2022)
    rights_harmed = "rights_harmed"  # 権利又は正当な利益が害されるおそれ (35(5), 2022)


GROUNDS_OF: dict[RequestType, tuple[Ground, ...]] = {
    RequestType.usage_stop: (
        Ground.beyond_purpose,
        Ground.improper_use,
        Ground.improper_acquisition,
        Ground.no_longer_needed,
        Ground.breach,
        Ground.rights_harmed,
    ),
    RequestType.erasure: (
        Ground.beyond_purpose,
        Ground.improper_use,
        Ground.improper_acquisition,
        Ground.no_longer_needed,
        Ground.breach,
        Ground.rights_harmed,
    ),
    RequestType.provision_stop: (
        Ground.provision_without_consent,
        Ground.no_longer_needed,
        Ground.breach,
        Ground.rights_harmed,
    ),
}
"""Which grounds each type accepts; types absent here take no ground."""


class Delivery(StrEnum):
    """How a disclosure is delivered (法33(1)): an electronic record, or paper by post."""

    electronic = "electronic"
    post = "post"


class Agent(StrEnum):
    """Who files for the person (令13): a legal representative or an appointed agent."""

    legal_representative = "legal_representative"
    appointed_agent = "appointed_agent"


class Verification(StrEnum):
    """How the person was identified."""

    session = "session"  # signed in through the host service's signed link
    service = "service"  # filed by the host service for its signed-in user (API)
    email_code = "email_code"  # a one-time code sent by e-mail


@dataclass(frozen=True)
class Request:
    """A request as stored; personal details are in ``details`` only once unsealed."""

    id: str
    type: RequestType
    status: Status
    language: str
    created_at: dt.datetime
    due_at: dt.datetime
    subject_id: str | None = None
    outcome: Outcome | None = None
    verified_by: Verification | None = None
    agent: Agent | None = None
    delivery: Delivery | None = None
    ground: Ground | None = None
    items: tuple[str, ...] = ()
    fee: int | None = None
    substitute: bool = False
    has_proof: bool = False
    handler: str | None = None
    number: str | None = None
    """The number people read out (:mod:`mamori.requests.numbers`), twelve digits."""
    assignee: str | None = None
    """The staff member the request is assigned to (``st_...``)."""
    decided_at: dt.datetime | None = None
    notified_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    reminded_at: dt.datetime | None = None
    download_until: dt.datetime | None = None
    downloads_left: int = 0
    details: dict[str, object] = field(default_factory=dict, compare=False, repr=False)
    """Unsealed personal details: contact e-mail, message, proposed values, agent's name,
    postal address, and the staff's reason or answer. Never logged, never audited."""

    @property
    def reference(self) -> str:
        """How people and staff name the request: its number as read out (``1234-5678-9012``),
        or its id for a request without one."""
        if self.number is None:
            return self.id
        return f"{self.number[:4]}-{self.number[4:8]}-{self.number[8:]}"

    @property
    def verified(self) -> bool:
        return self.verified_by is not None

    def overdue(self, now: dt.datetime) -> bool:
        return self.status not in (Status.notified, Status.closed) and now > self.due_at
