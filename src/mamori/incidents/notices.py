"""Notices to the people affected by an incident, through the mail outbox (APPI 法26(2)).

One mail per person at most: :func:`send_notices` queues the notice to every person on the
incident not noticed yet, to the first e-mail address the vault holds of them, in their
language (that of their latest request to the operator, else MAMORI_DEFAULT_LANGUAGE). Each
batch is one transaction that decrypts the addresses, queues the mails and records each notice
against the person with a conditional update, so a person is never mailed twice, also by two
staff members sending at once. People without an address (or withdrawn) are counted, left for
another way of telling them (publication).

The notice says what the law asks (summary, items, cause, secondary harm, other) from the
incident's texts; the items in the person's language. It is a legal notice, sent whatever the
person's marketing opt-outs. Audited as ``incident.notices`` (counts only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import orjson

from mamori.errors import Conflict, InvalidValue
from mamori.i18n import Lang, t
from mamori.incidents import storage
from mamori.incidents.context import IncidentContext
from mamori.incidents.register import Incident, get
from mamori.policy.model import ValueKind
from mamori.store import db
from mamori.vault import crypto
from mamori.vault.storage import subjects

__all__ = ["BATCH", "TEMPLATE", "Sent", "send_notices"]

TEMPLATE: Final = "incident_notice"
BATCH: Final = 200
"""People per transaction."""


@dataclass(frozen=True)
class Sent:
    queued: int
    no_address: int
    """People with no e-mail address in the vault (or withdrawn): not mailed."""


def _context(ctx: IncidentContext, incident: Incident, lang: Lang) -> dict[str, str]:
    items = ctx.vault.rules().items
    labels = [items[i].label.get(lang) if i in items else i for i in incident.row.items]
    none = t(lang, "incident.notice_none")
    texts = incident.texts
    return {
        "summary": texts["summary"] or none,
        "items": ", ".join(labels),
        "cause": texts["cause"] or none,
        "harm": texts["harm"] or none,
        "other": texts["other"] or none,
    }


def send_notices(ctx: IncidentContext, incident_id: str, *, actor: str) -> Sent:
    """Queue the notices not sent yet of ``incident_id``; how many were queued.
    :class:`Conflict` for a closed incident."""
    incident = get(ctx, incident_id)
    if incident.closed:
        raise Conflict(f"incident '{incident.id}' is closed: it can no longer be changed")
    email_items = [i.id for i in ctx.vault.rules().items.values() if i.kind is ValueKind.email]
    default = ctx.settings.default_language
    langs_known: tuple[Lang, ...] = ("ja", "en")
    contexts = {lang: _context(ctx, incident, lang) for lang in langs_known}
    queued = no_address = 0
    with db.read(ctx.engine) as conn:
        waiting = [
            p.subject_id for p in storage.people_of(conn, incident.id) if not p.notice_mail_id
        ]
    for start in range(0, len(waiting), BATCH):
        batch = waiting[start : start + BATCH]
        with db.write(ctx.engine) as conn:
            held = subjects.items_of_people(conn, batch, email_items)
            langs = storage.languages(conn, batch)
            done = 0
            for subject_id in batch:
                wrapped = subjects.wrapped_key(conn, subject_id)
                addresses = held.get(subject_id)
                if wrapped is None or not addresses:
                    no_address += 1
                    continue
                key = ctx.vault.data_key(subject_id, wrapped)
                item = addresses[0]
                address = orjson.loads(
                    crypto.decrypt(
                        key, item.ciphertext, subject_id=subject_id, item_id=item.item_id
                    )
                )
                lang = langs.get(subject_id, default)
                lang = lang if lang in contexts else default
                try:
                    mail_id = ctx.mail.queue(
                        conn,
                        to=str(address),
                        template=TEMPLATE,
                        language=lang,
                        context=contexts[lang],
                        subject_id=subject_id,
                    )
                except InvalidValue:
                    no_address += 1
                    continue
                if storage.claim_notice(conn, incident.id, subject_id, mail_id, ctx.clock.now()):
                    done += 1
                else:  # noticed by another run meanwhile: this mail must not go
                    raise Conflict("the notices are being sent by someone else: try again")
            ctx.audit.append(
                conn,
                actor=actor,
                action="incident.notices",
                targets=[f"incident:{incident.id}"],
                details={"people": len(batch), "queued": done},
            )
            queued += done
    return Sent(queued, no_address)
