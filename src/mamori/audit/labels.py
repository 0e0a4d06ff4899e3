"""What staff read in the audit log: a label for each action, in the catalogs
(``audit.action.<action>``), and its code beside it. An action without a label (one a later
version adds before its label) is shown by its code alone."""

from __future__ import annotations

from typing import Final

from mamori.i18n import N_, Lang, t

__all__ = ["ACTIONS", "action_label"]

ACTIONS: Final[dict[str, str]] = {
    "incident.record": N_("audit.action.incident.record"),
    "incident.update": N_("audit.action.incident.update"),
    "incident.people": N_("audit.action.incident.people"),
    "incident.report": N_("audit.action.incident.report"),
    "incident.notices": N_("audit.action.incident.notices"),
    "incident.remind": N_("audit.action.incident.remind"),
    "incident.action_add": N_("audit.action.incident.action_add"),
    "incident.action_done": N_("audit.action.incident.action_done"),
    "incident.close": N_("audit.action.incident.close"),
    "staff.email": N_("audit.action.staff.email"),
    "audit.verify": N_("audit.action.audit.verify"),
    "audit.export": N_("audit.action.audit.export"),
    "center.enter": N_("audit.action.center.enter"),
    "center.leave": N_("audit.action.center.leave"),
    "center.link": N_("audit.action.center.link"),
    "consent.export": N_("audit.action.consent.export"),
    "consent.record": N_("audit.action.consent.record"),
    "contractor.check_complete": N_("audit.action.contractor.check_complete"),
    "contractor.check_schedule": N_("audit.action.contractor.check_schedule"),
    "contractor.contract_end": N_("audit.action.contractor.contract_end"),
    "contractor.contract_record": N_("audit.action.contractor.contract_record"),
    "cookie_consent.link": N_("audit.action.cookie_consent.link"),
    "keys.master.add": N_("audit.action.keys.master.add"),
    "keys.master.create": N_("audit.action.keys.master.create"),
    "keys.master.retire": N_("audit.action.keys.master.retire"),
    "keys.master.rewrap": N_("audit.action.keys.master.rewrap"),
    "keys.master.rotate": N_("audit.action.keys.master.rotate"),
    "mail.optin": N_("audit.action.mail.optin"),
    "mail.optout": N_("audit.action.mail.optout"),
    "mail.outbox.view": N_("audit.action.mail.outbox.view"),
    "mail.purge": N_("audit.action.mail.purge"),
    "mail.queue": N_("audit.action.mail.queue"),
    "mail.send": N_("audit.action.mail.send"),
    "mail.skip": N_("audit.action.mail.skip"),
    "mail.view": N_("audit.action.mail.view"),
    "policy.publish": N_("audit.action.policy.publish"),
    "policy_change.consent": N_("audit.action.policy_change.consent"),
    "policy_change.consents_read": N_("audit.action.policy_change.consents_read"),
    "policy_change.notice_read": N_("audit.action.policy_change.notice_read"),
    "policy_change.notices": N_("audit.action.policy_change.notices"),
    "provision.acquire": N_("audit.action.provision.acquire"),
    "provision.acquisition_list": N_("audit.action.provision.acquisition_list"),
    "provision.ledger_export": N_("audit.action.provision.ledger_export"),
    "provision.provide": N_("audit.action.provision.provide"),
    "provision.records_purge": N_("audit.action.provision.records_purge"),
    "provision_consent.give": N_("audit.action.provision_consent.give"),
    "provision_consent.list": N_("audit.action.provision_consent.list"),
    "provision_consent.revoke": N_("audit.action.provision_consent.revoke"),
    "request.assign": N_("audit.action.request.assign"),
    "request.close": N_("audit.action.request.close"),
    "request.code": N_("audit.action.request.code"),
    "request.decide": N_("audit.action.request.decide"),
    "request.download": N_("audit.action.request.download"),
    "request.link": N_("audit.action.request.link"),
    "request.note": N_("audit.action.request.note"),
    "request.notify": N_("audit.action.request.notify"),
    "request.package_preview": N_("audit.action.request.package_preview"),
    "request.proof": N_("audit.action.request.proof"),
    "request.receive": N_("audit.action.request.receive"),
    "request.remind": N_("audit.action.request.remind"),
    "request.review": N_("audit.action.request.review"),
    "request.status": N_("audit.action.request.status"),
    "request.verify": N_("audit.action.request.verify"),
    "request.view": N_("audit.action.request.view"),
    "requests.export": N_("audit.action.requests.export"),
    "retention.purge": N_("audit.action.retention.purge"),
    "service_key.create": N_("audit.action.service_key.create"),
    "service_key.revoke": N_("audit.action.service_key.revoke"),
    "staff.create": N_("audit.action.staff.create"),
    "staff.disable": N_("audit.action.staff.disable"),
    "staff.enable": N_("audit.action.staff.enable"),
    "staff.password_reset": N_("audit.action.staff.password_reset"),
    "staff.role": N_("audit.action.staff.role"),
    "staff.sign_in": N_("audit.action.staff.sign_in"),
    "staff.sign_out": N_("audit.action.staff.sign_out"),
    "subject.bulk_read": N_("audit.action.subject.bulk_read"),
    "subject.create": N_("audit.action.subject.create"),
    "subject.disclose": N_("audit.action.subject.disclose"),
    "subject.events": N_("audit.action.subject.events"),
    "subject.lookup": N_("audit.action.subject.lookup"),
    "subject.read": N_("audit.action.subject.read"),
    "subject.restrictions": N_("audit.action.subject.restrictions"),
    "subject.withdraw": N_("audit.action.subject.withdraw"),
    "subject.write": N_("audit.action.subject.write"),
}
"""action -> message key of its label."""


def action_label(action: str, lang: Lang) -> str:
    """The label of ``action`` in ``lang``, or ``action`` itself when it has none."""
    key = ACTIONS.get(action)
    return t(lang, key) if key else action
