"""What people and staff read about requests: the message key of each label, by id.

Each table maps an id (a request type, a status, an outcome, ...) to the key of its label in the
catalogs (``label.<table>.<id>``, :mod:`mamori.i18n`); :func:`label` looks one up in a language.
"""

from __future__ import annotations

from typing import Final

from mamori.i18n import N_, t

__all__ = [
    "AGENTS",
    "DELIVERIES",
    "GROUNDS",
    "OUTCOMES",
    "SECTIONS",
    "SOURCES",
    "STATUSES",
    "TYPES",
    "TYPE_HELP",
    "label",
]

Labels = dict[str, str]
"""id -> message key."""


TYPES: Final[Labels] = {
    "disclosure": N_("label.type.disclosure"),
    "correction": N_("label.type.correction"),
    "usage_stop": N_("label.type.usage_stop"),
    "erasure": N_("label.type.erasure"),
    "provision_stop": N_("label.type.provision_stop"),
    "mail_opt_out": N_("label.type.mail_opt_out"),
    "inquiry": N_("label.type.inquiry"),
}
"""The request types."""

TYPE_HELP: Final[Labels] = {
    "disclosure": N_("label.type_help.disclosure"),
    "correction": N_("label.type_help.correction"),
    "usage_stop": N_("label.type_help.usage_stop"),
    "erasure": N_("label.type_help.erasure"),
    "provision_stop": N_("label.type_help.provision_stop"),
    "mail_opt_out": N_("label.type_help.mail_opt_out"),
    "inquiry": N_("label.type_help.inquiry"),
}
"""What each request type asks for."""

STATUSES: Final[Labels] = {
    "received": N_("label.status.received"),
    "verified": N_("label.status.verified"),
    "in_review": N_("label.status.in_review"),
    "decided": N_("label.status.decided"),
    "notified": N_("label.status.notified"),
    "closed": N_("label.status.closed"),
}

OUTCOMES: Final[Labels] = {
    "fulfilled": N_("label.outcome.fulfilled"),
    "partly_fulfilled": N_("label.outcome.partly_fulfilled"),
    "refused": N_("label.outcome.refused"),
    "no_data": N_("label.outcome.no_data"),
}

GROUNDS: Final[Labels] = {
    "beyond_purpose": N_("label.ground.beyond_purpose"),
    "improper_use": N_("label.ground.improper_use"),
    "improper_acquisition": N_("label.ground.improper_acquisition"),
    "provision_without_consent": N_("label.ground.provision_without_consent"),
    "no_longer_needed": N_("label.ground.no_longer_needed"),
    "breach": N_("label.ground.breach"),
    "rights_harmed": N_("label.ground.rights_harmed"),
}

DELIVERIES: Final[Labels] = {
    "electronic": N_("label.delivery.electronic"),
    "post": N_("label.delivery.post"),
}

AGENTS: Final[Labels] = {
    "legal_representative": N_("label.agent.legal_representative"),
    "appointed_agent": N_("label.agent.appointed_agent"),
}

SOURCES: Final[Labels] = {
    "provided": N_("label.source.provided"),
    "linked_service": N_("label.source.linked_service"),
    "collected": N_("label.source.collected"),
}

SECTIONS: Final[Labels] = {
    "third_party_provisions": N_("label.section.third_party_provisions"),
    "cookie_consent_receipts": N_("label.section.cookie_consent_receipts"),
    "policy_change_consents": N_("label.section.policy_change_consents"),
    "provision_consents": N_("label.section.provision_consents"),
    "provision_acquisitions": N_("label.section.provision_acquisitions"),
    "consents": N_("label.section.consents"),
    "connected_datasets": N_("label.section.connected_datasets"),
}
"""Titles of the disclosure package's sections (a section not named here shows its id)."""


def label(table: Labels, key: str | None, lang: str) -> str:
    """The label of ``key`` in ``lang`` (Japanese unless ``en``); an id the table lacks shows
    as itself, ``None`` as nothing."""
    if key is None:
        return ""
    message = table.get(str(key))
    if message is None:
        return str(key)
    return t("en" if lang == "en" else "ja", message)
