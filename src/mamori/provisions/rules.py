"""What a provision needs, decided from the policy alone (pure, no I/O).

A call names a recipient, a purpose, items and the basis the caller claims. :func:`plan`
decides what holds for everyone in the call: the items the recipient may not receive for the
purpose (``not_declared``), a basis that does not fit the recipient, an exception the policy
does not declare, a recipient abroad without its APPI 28 information; and whether each person's
consent to the recipient is needed. What holds per
person (their consent, a provision stop, a usage stop, withdrawal) is checked, and every
provision recorded, by
:mod:`mamori.provisions.gate`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from mamori.errors import Conflict, NotFound, UserInputError
from mamori.policy.model import ProvisionExceptionKind, Recipient, Relationship
from mamori.policy.rules import Rules, nearest

__all__ = [
    "CONTRACT_RETENTION",
    "EXCEPTIONS",
    "MAX_REASON",
    "RETENTION",
    "Basis",
    "Plan",
    "ProvisionRefusal",
    "consent_basis",
    "foreign_information_missing",
    "plan",
    "retain_until",
]

MAX_REASON: Final = 1000
"""The longest stated reason for an exception, in characters."""

RETENTION: Final = dt.timedelta(days=3 * 365 + 1)
"""How long a record of a provision or of a receipt is kept (APPI rules 21(iii), 25(iii)):
three years."""
CONTRACT_RETENTION: Final = dt.timedelta(days=366)
"""How long it is kept where a contract with the person for goods or services stands in for
the record (rules 19(3), 23(3); retention rules 21(i), 25(i)): one year."""


def retain_until(at: dt.datetime, *, contract: bool) -> dt.datetime:
    """Until when the record of a provision or receipt made ``at`` is kept."""
    return at + (CONTRACT_RETENTION if contract else RETENTION)


class Basis(StrEnum):
    """Why a provision is lawful. The codes are part of the API."""

    consent = "consent"
    """The person consented to this recipient and purpose (APPI 27(1), 28(1))."""
    entrustment = "entrustment"
    """To a contractor within its entrustment (27(5)(i))."""
    business_succession = "business_succession"
    """To a successor of the business (27(5)(ii))."""
    joint_use = "joint_use"
    """To a joint user within the declared joint use (27(5)(iii))."""
    laws_and_regulations = "laws_and_regulations"
    """Based on laws and regulations (27(1)(i))."""
    life_body_property = "life_body_property"
    """To protect life, body or property, consent being hard to obtain (27(1)(ii))."""
    public_health = "public_health"
    """For public health or the sound growth of children (27(1)(iii))."""
    public_authority = "public_authority"
    """To cooperate with a public body in affairs prescribed by law (27(1)(iv))."""
    academic_research = "academic_research"
    """For academic research (27(1)(v)-(vii))."""


EXCEPTIONS: Final = frozenset(
    {
        Basis.laws_and_regulations,
        Basis.life_body_property,
        Basis.public_health,
        Basis.public_authority,
        Basis.academic_research,
    }
)
"""The exceptions of APPI 27(1): each needs a stated reason; none needs consent or a record."""

_OWN_BASIS: Final = {
    Relationship.contractor: Basis.entrustment,
    Relationship.successor: Basis.business_succession,
    Relationship.joint_user: Basis.joint_use,
}
"""The basis on which a recipient that is not a third party receives data."""


class ProvisionRefusal(StrEnum):
    """Why an item was not provided to a recipient, beside the vault's reasons
    (:class:`mamori.policy.rules.Refusal`: withdrawn, stopped_by_person, ...)."""

    not_declared = "not_declared"
    """The policy does not let this recipient receive this item for this purpose."""
    basis_not_applicable = "basis_not_applicable"
    """The claimed basis does not fit this recipient (entrustment to a third party, ...)."""
    exception_not_declared = "exception_not_declared"
    """The policy's provision section declares no such exception."""
    overseas_info_missing = "overseas_info_missing"
    """A recipient abroad whose APPI 28 information the policy does not give."""
    no_consent = "no_consent"
    """The person has not consented to this recipient for this purpose (or revoked it)."""
    provision_stopped = "provision_stopped"
    """A provision stop the person asked for was granted (APPI 35(3))."""
    cookie_consent_missing = "cookie_consent_missing"
    """The recipient links person-related information to people (APPI 31) and the person's
    newest cookie choice does not allow every cookie service it collects through (or the
    person made none that mamori can tie to them)."""
    pseudonymised = "pseudonymised"
    """The purpose uses the data only as pseudonymised information (仮名加工情報): it is never
    provided to a third party, whatever the consent or the exception claimed, save under laws
    and regulations (APPI 41(6)); a contractor, successor or joint user is no third party."""
    entrustment_suspended = "entrustment_suspended"
    """An entrustment to a contractor whose contract in the register is not in force (ended,
    ended early, not yet begun) or whose last supervision check failed (APPI 25): nothing goes
    to it until the register says otherwise (:mod:`mamori.contractors`)."""


@dataclass(frozen=True)
class Plan:
    """What holds for everyone in one call."""

    recipient: Recipient
    purpose: str
    basis: Basis
    items: tuple[str, ...]
    refused: dict[str, ProvisionRefusal]
    """item -> why it is refused for everyone in the call."""
    needs_consent: bool
    """Each person's consent to the recipient and purpose is needed."""
    abroad: bool

    @property
    def person_related(self) -> bool:
        """The recipient links what it receives to people (APPI 31): each person's consent
        is confirmed, and the confirmation recorded, before a send. Not under an exception of
        APPI 27(1), which 31(1) leaves out too, nor to a contractor, joint user or successor
        in Japan, which are not third parties."""
        return self.recipient.person_related and self.needs_consent


def foreign_information_missing(recipient: Recipient, home_country: str) -> bool:
    """Whether ``recipient`` is abroad and the policy lacks its APPI 28 information."""
    if recipient.country == home_country:
        return False
    info = recipient.foreign
    if info is None:
        return True
    return not (info.unknown_reason or (info.system and info.measures))


def consent_basis(recipient: Recipient, home_country: str) -> bool:
    """Whether a provision to ``recipient`` rests on the person's consent (unless an exception
    applies): a third party, or anyone abroad (APPI 28(1) asks consent even of a contractor or a
    joint user abroad). These are the recipients a person is asked to consent to."""
    return recipient.relationship is Relationship.third_party or recipient.country != home_country


def plan(
    rules: Rules,
    recipient_id: str,
    purpose: str,
    items: tuple[str, ...],
    basis: str | None,
    reason: str | None,
    at: dt.datetime | None = None,
    *,
    entrustment_suspended: bool = False,
) -> Plan:
    """The call's plan at ``at`` (a joint user as declared before while this version's
    in-advance joint-use changes do not apply yet, APPI 27(6)); :class:`NotFound` for an
    unknown recipient, :class:`UserInputError` for an unknown purpose, item or basis, or an
    exception claimed without its reason.

    ``entrustment_suspended``: the register of contractors says the entrustment to this
    recipient is suspended (the caller reads it; this module does no I/O). It refuses a
    provision on the basis ``entrustment`` for everyone."""
    recipient = rules.recipient_at(recipient_id, at)
    if recipient is None and recipient_id in rules.recipients:
        raise Conflict(
            f"joint user '{recipient_id}' takes part only from the policy's revision date:"
            " its joint use is told to people in advance (APPI 27(6))"
        )
    if recipient is None:
        raise NotFound(
            f"no recipient '{recipient_id}' in the policy{nearest(recipient_id, rules.recipients)}"
        )
    rules.purpose(purpose)
    for item in items:
        rules.item(item)
    claimed = _basis(recipient, basis)
    if claimed in EXCEPTIONS and (reason is None or not reason.strip()):
        raise UserInputError(
            f"basis '{claimed}' is an exception of APPI 27(1): state the reason ('reason')"
        )
    if reason is not None and len(reason) > MAX_REASON:
        raise UserInputError(f"the reason is longer than {MAX_REASON} characters")
    everyone: ProvisionRefusal | None = None
    abroad = recipient.country != rules.home_country
    if rules.purposes[purpose].pseudonymised is not None and claimed not in (
        *_OWN_BASIS.values(),
        Basis.laws_and_regulations,
    ):
        everyone = ProvisionRefusal.pseudonymised
    elif claimed in EXCEPTIONS:
        if claimed.value not in rules.exceptions and (
            ProvisionExceptionKind.other_legal not in rules.exceptions
        ):
            everyone = ProvisionRefusal.exception_not_declared
    elif claimed is not Basis.consent and _OWN_BASIS.get(recipient.relationship) is not claimed:
        everyone = ProvisionRefusal.basis_not_applicable
    elif claimed is Basis.entrustment and entrustment_suspended:
        everyone = ProvisionRefusal.entrustment_suspended
    elif abroad and foreign_information_missing(recipient, rules.home_country):
        everyone = ProvisionRefusal.overseas_info_missing
    refused: dict[str, ProvisionRefusal] = {}
    for item in items:
        if everyone is not None:
            refused[item] = everyone
        elif purpose not in recipient.purposes or item not in recipient.items:
            refused[item] = ProvisionRefusal.not_declared
    needs_consent = claimed is Basis.consent or (abroad and claimed not in EXCEPTIONS)
    return Plan(recipient, purpose, claimed, items, refused, needs_consent, abroad)


def _basis(recipient: Recipient, basis: str | None) -> Basis:
    if basis is None:
        return _OWN_BASIS.get(recipient.relationship, Basis.consent)
    try:
        return Basis(basis)
    except ValueError:
        known = [b.value for b in Basis]
        raise UserInputError(
            f"unknown basis '{basis}'{nearest(basis, known)}: one of {', '.join(known)}"
        ) from None
