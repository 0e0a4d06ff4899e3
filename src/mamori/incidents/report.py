"""The report draft of an incident: the nine fields of 規則8 (APPI 法26), in one language.

1 summary, 2 items, 3 number of people, 4 cause, 5 secondary harm, 6 response to the people,
7 publication, 8 prevention measures, 9 other. Fields 1 and 4-9 are the incident's texts;
field 2 names the items as the published policy labels them; field 3 gives the estimate and
the confirmed count; field 6 adds how many of the people on file were sent a notice, field 8
the corrective actions. :func:`draft` builds it; :meth:`Draft.as_json` is what
``report.json`` answers (the console renders the same draft as HTML and as PDF).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from mamori.i18n import N_, Lang, t
from mamori.incidents.register import Incident
from mamori.policy.rules import Rules

__all__ = ["FIELDS", "Draft", "Field", "draft"]

FIELDS: Final = (
    "summary",
    "items",
    "people",
    "cause",
    "harm",
    "response",
    "publication",
    "prevention",
    "other",
)
"""The fields of 規則8(1)-(9), in order."""
_HEADINGS = (
    N_("incident.field_summary"),
    N_("incident.field_items"),
    N_("incident.field_people"),
    N_("incident.field_cause"),
    N_("incident.field_harm"),
    N_("incident.field_response"),
    N_("incident.field_publication"),
    N_("incident.field_prevention"),
    N_("incident.field_other"),
)

_STATE = {True: N_("incident.action_done"), False: N_("incident.action_open")}


@dataclass(frozen=True)
class Field:
    number: int
    key: str
    heading: str
    value: str


@dataclass(frozen=True)
class Draft:
    incident: Incident
    lang: Lang
    fields: tuple[Field, ...]

    def as_json(self) -> dict[str, Any]:
        incident = self.incident
        decision = incident.decision
        row = incident.row
        return {
            "incident": incident.id,
            "language": self.lang,
            "status": row.status,
            "discovered_at": row.discovered_at.isoformat(),
            "aware_at": row.aware_at.isoformat(),
            "aware_on": row.aware_on.isoformat(),
            "reportable": decision.reportable,
            "exempt_encrypted": decision.exempt,
            "triggers": [tr.value for tr in decision.triggers],
            "preliminary_due": _day(decision.preliminary_due),
            "final_due": _day(decision.final_due),
            "items": list(row.items),
            "people": {"estimated": row.people_estimated, "confirmed": row.people_confirmed},
            "reports": {k: r.sent_on.isoformat() for k, r in incident.reports.items()},
            "fields": [
                {"number": f.number, "key": f.key, "heading": f.heading, "value": f.value}
                for f in self.fields
            ],
        }


def _day(day: Any) -> str | None:
    return day.isoformat() if day is not None else None


def draft(incident: Incident, rules: Rules, lang: Lang) -> Draft:
    """The report draft of ``incident`` in ``lang``."""
    texts = incident.texts
    row = incident.row
    labels = [rules.items[i].label.get(lang) if i in rules.items else i for i in row.items]
    confirmed = (
        t(lang, "incident.people_count", n=f"{row.people_confirmed:,}")
        if row.people_confirmed is not None
        else t(lang, "incident.not_confirmed")
    )
    people = t(
        lang,
        "incident.people_value",
        estimated=t(lang, "incident.people_count", n=f"{row.people_estimated:,}"),
        confirmed=confirmed,
    )
    response = texts["response"]
    if incident.people_on_file:
        noticed = t(
            lang, "incident.noticed_value", noticed=incident.noticed, total=incident.people_on_file
        )
        response = f"{response}\n{noticed}".strip()
    prevention = texts["prevention"]
    if incident.actions:
        lines = [
            t(
                lang,
                "incident.action_line",
                text=a.text,
                due=a.row.due_on.isoformat(),
                state=t(lang, _STATE[a.done]),
            )
            for a in incident.actions
        ]
        prevention = "\n".join([prevention, *lines]).strip()
    values = {
        "summary": texts["summary"],
        "items": ", ".join(labels),
        "people": people,
        "cause": texts["cause"],
        "harm": texts["harm"],
        "response": response,
        "publication": texts["publication"],
        "prevention": prevention,
        "other": texts["other"],
    }
    fields = tuple(
        Field(n, key, t(lang, heading), values[key])
        for n, (key, heading) in enumerate(zip(FIELDS, _HEADINGS, strict=True), start=1)
    )
    return Draft(incident, lang, fields)
