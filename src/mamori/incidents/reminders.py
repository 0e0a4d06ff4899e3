"""The periodic reminder of an incident's deadlines, mailed to the staff member responsible.

:func:`remind` looks at every incident not closed that must be reported: for each report
(preliminary, final) not on file whose day is within MAMORI_INCIDENT_REMINDER_DAYS (or past),
it mails the responsible staff member's e-mail once, marking the reminder sent with a
conditional update in the same transaction as the queued mail, so that several processes
running the job send it once. An incident with no one responsible, or whose responsible member
has no e-mail, is left for the dashboard (and reminded once an address is given). Audited as
``incident.remind``. A job of the built-in parts (:data:`mamori.app.parts.BUILT_IN`).
"""

from __future__ import annotations

from typing import Final

from mamori.errors import StaffNotFound
from mamori.i18n import t
from mamori.incidents import storage
from mamori.incidents.context import IncidentContext, directory
from mamori.incidents.register import KINDS, listing
from mamori.store import db

__all__ = ["EVERY_SECONDS", "NAME", "TEMPLATE", "remind"]

NAME: Final = "incidents.reminders"
EVERY_SECONDS: Final = 15 * 60
TEMPLATE: Final = "incident_reminder"
ACTOR: Final = "system:reminders"


def remind(ctx: IncidentContext) -> int:
    """Send the reminders due now; how many were queued."""
    days = ctx.settings.incident_reminder_days
    settings = ctx.settings
    base_url = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    lang = settings.default_language
    staff = directory(ctx)
    sent = 0
    for incident in listing(ctx, open_only=True):
        if not incident.decision.reportable or incident.row.responsible is None:
            continue
        for kind in KINDS:
            left = incident.days_left(kind)
            due = incident.due(kind)
            reminded = getattr(incident.row, f"{kind}_reminded_at")
            if left is None or due is None or left > days or reminded is not None:
                continue
            try:
                account = staff.get(incident.row.responsible)
            except StaffNotFound:
                break
            if account.email is None or not account.active:
                break
            with db.write(ctx.engine) as conn:
                if not storage.claim_reminder(conn, incident.id, kind, ctx.clock.now()):
                    continue
                mail_id = ctx.mail.queue(
                    conn,
                    to=account.email,
                    template=TEMPLATE,
                    language=lang,
                    context={
                        "incident_id": incident.id,
                        "report": t(lang, f"incident.kind_{kind}"),
                        "due": due.isoformat(),
                        "link": f"{base_url}/admin/incidents/{incident.id}?lang={lang}",
                    },
                )
                ctx.audit.append(
                    conn,
                    actor=ACTOR,
                    action="incident.remind",
                    targets=[f"incident:{incident.id}", f"staff:{account.id}", f"mail:{mail_id}"],
                    details={"kind": kind, "due": due.isoformat(), "days_left": left},
                )
            sent += 1
    return sent
