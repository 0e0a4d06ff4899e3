"""Third-party provision in the admin console: the recipients, and the ledger of records.

``/admin/recipients`` shows every recipient of the policy: how it stands to the operator, its
country, the items and purposes it may receive, for one abroad whether the policy gives its
APPI 28 information (missing is highlighted), whether it links person-related information
(APPI 31), the live consents to it per purpose, its records of the last 30 days and a link to
them. ``/admin/provisions`` (records of provision, APPI 29) and ``/admin/acquisitions`` (records
of data received, APPI 30) show the ledger newest first, 50 a page, filtered by a GET form
(recipient, person, days in MAMORI_TIME_ZONE, basis); a filter that does not hold shows the
page again with the reason (400). Any staff role reads these pages, which show ids, never
people's data, and are not audited.

``/admin/provisions.csv`` and ``/admin/acquisitions.csv`` (the same filters) stream the whole
selection as CSV in the request's language (UTF-8 with a byte order mark, for Excel), for the
``handler`` and ``admin`` roles only (403 for a viewer): an export takes the ledger out of the
console. Each is audited before its first record (``provision.ledger_export``, with the number
of records matching, :func:`mamori.provisions.ledger.export`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from mamori.errors import UserInputError
from mamori.i18n import N_, t
from mamori.policy.model import Recipient
from mamori.policy.rules import Rules
from mamori.provisions import export, ledger
from mamori.provisions.ledger import Direction, Filter
from mamori.provisions.rules import Basis, consent_basis, foreign_information_missing
from mamori.provisions.storage import AcquisitionRow, RecordRow
from mamori.staff.permissions import Permission
from mamori.web import deps
from mamori.web.admin import nav
from mamori.web.admin.auth import StaffUser, need, need_recent
from mamori.web.i18n import Lang
from mamori.web.rendering import request_lang, wants_html

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

RegisterDep = Annotated[StaffUser, Depends(need(Permission.registers_view))]
ExportDep = Annotated[StaffUser, Depends(need_recent(Permission.registers_export))]

RECENT_DAYS = 30
FIELDS = ("recipient", "subject", "since", "until", "basis")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PATHS = {Direction.provisions: "/admin/provisions", Direction.receipts: "/admin/acquisitions"}

_REGISTERS = Permission.registers_view
nav.add(N_("admin.nav_recipients"), "/admin/recipients", order=30, permission=_REGISTERS)
nav.add(N_("admin.nav_provisions"), "/admin/provisions", order=32, permission=_REGISTERS)
nav.add(N_("admin.nav_acquisitions"), "/admin/acquisitions", order=34, permission=_REGISTERS)

_RELATIONSHIP_WORDS = (  # admin/provisions/recipients.html names the relationship by its code
    N_("recipient.third_party"),
    N_("recipient.contractor"),
    N_("recipient.joint_user"),
    N_("recipient.successor"),
)


def _lang(request: Request) -> Lang:
    return request_lang(request, strict=False)


def _zone(request: Request) -> str:
    return deps.settings(request).time_zone


def _country(code: str, lang: Lang) -> str:
    return str(Locale.parse(lang).territories.get(code, code))


# -- recipients ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientView:
    recipient: Recipient
    name: str
    relationship: str
    country: str
    abroad: bool
    info_missing: bool
    items: tuple[str, ...]
    purposes: tuple[tuple[str, int | None], ...]
    """(purpose label, live consents; None where the provision rests on no consent)."""
    recent: int


@router.get("/recipients", response_class=HTMLResponse)
def recipients(request: Request, user: RegisterDep) -> Response:
    runtime = deps.runtime(request)
    rules = runtime.vault.rules()
    lang = _lang(request)
    since = runtime.clock.now() - dt.timedelta(days=RECENT_DAYS)
    counts = ledger.activity(runtime.vault, since)
    shown = []
    for r in rules.recipients.values():
        asks = consent_basis(r, rules.home_country)
        shown.append(
            RecipientView(
                recipient=r,
                name=r.name.get(lang),
                relationship=t(lang, f"recipient.{r.relationship.value}"),
                country=_country(r.country, lang),
                abroad=r.country != rules.home_country,
                info_missing=foreign_information_missing(r, rules.home_country),
                items=tuple(export.label(rules, "item", i, lang) for i in r.items),
                purposes=tuple(
                    (
                        export.label(rules, "purpose", p, lang),
                        counts.consents.get((r.id, p), 0) if asks else None,
                    )
                    for p in r.purposes
                ),
                recent=counts.recent.get(r.id, 0),
            )
        )
    return nav.render(
        request,
        "admin/provisions/recipients.html",
        recipients=shown,
        days=RECENT_DAYS,
        ledger_url=lambda rid: _url(request, "/admin/provisions", {"recipient": rid}),
    )


# -- the ledger ----------------------------------------------------------------------------


def _url(request: Request, path: str, params: dict[str, str]) -> str:
    lang = request.query_params.get("lang")
    query = {**({"lang": lang} if lang in ("ja", "en") else {}), **params}
    return path + ("?" + urlencode(query) if query else "")


def _asked(request: Request) -> dict[str, str]:
    """The filter's fields as given (one value each)."""
    return {k: request.query_params.get(k, "") for k in FIELDS}


def _filter(request: Request, direction: Direction) -> Filter:
    asked = _asked(request)
    return ledger.parse_filter(
        deps.runtime(request).vault,
        zone=_zone(request),
        receipts=direction is Direction.receipts,
        **asked,
    )


def _recipient_name(row: RecordRow, rules: Rules, lang: Lang) -> str:
    name = row.recipient.get("name")
    if isinstance(name, dict):
        return str(name.get(lang) or name.get("ja") or row.recipient_id)
    found = rules.recipients.get(row.recipient_id)
    return found.name.get(lang) if found is not None else row.recipient_id


def _cells(row: ledger.LedgerRow, rules: Rules, lang: Lang) -> dict[str, Any]:
    sep = t(lang, "provision.list_separator")
    items = sep.join(export.label(rules, "item", i, lang) for i in row.items)
    if isinstance(row, AcquisitionRow):
        name = row.provider.get("name")
        provider = (
            str(name.get(lang) or name.get("ja") or "") if isinstance(name, dict) else str(name)
        )
        return {"row": row, "at": row.received_at, "provider": provider, "item_labels": items}
    return {
        "row": row,
        "at": row.provided_at,
        "recipient": _recipient_name(row, rules, lang),
        "item_labels": items,
        "purpose": export.label(rules, "purpose", row.purpose_id, lang),
        "basis": t(lang, f"ledger.basis_{row.basis}"),
    }


def _shown(value: str) -> str:
    """A field as typed, fit to show again in the form."""
    return _CONTROL.sub("", value)[:100]


def _ledger_page(request: Request, user: StaffUser, direction: Direction) -> Response:
    runtime = deps.runtime(request)
    vault = runtime.vault
    rules = vault.rules()
    lang = _lang(request)
    error = ""
    found: ledger.Page | None = None
    filter_: Filter | None = None
    try:
        filter_ = _filter(request, direction)
        found = ledger.page(vault, filter_, before=request.query_params.get("before") or None)
    except UserInputError as exc:
        if not wants_html(request):
            raise
        error = exc.message
    path = _PATHS[direction]
    params = filter_.params() if filter_ is not None else {}
    recipients = [
        (rid, rules.recipients[rid].name.get(lang) if rid in rules.recipients else rid)
        for rid in ledger.known_recipients(vault)
    ]
    return nav.render(
        request,
        "admin/provisions/ledger.html",
        status_code=400 if error else 200,
        direction=direction.value,
        path=path,
        error=error,
        asked={k: _shown(v) for k, v in _asked(request).items()},
        recipients=recipients,
        bases=[(b.value, t(lang, f"ledger.basis_{b.value}")) for b in Basis],
        rows=[_cells(r, rules, lang) for r in found.rows] if found else [],
        older_url=_url(request, path, {**params, "before": found.older})
        if found and found.older
        else None,
        first_url=_url(request, path, params) if request.query_params.get("before") else None,
        csv_url=_url(request, f"{path}.csv", params)
        if user.may(Permission.registers_export)
        else None,
        zone=_zone(request),
    )


@router.get("/provisions", response_class=HTMLResponse)
def provisions_page(request: Request, user: RegisterDep) -> Response:
    return _ledger_page(request, user, Direction.provisions)


@router.get("/acquisitions", response_class=HTMLResponse)
def acquisitions_page(request: Request, user: RegisterDep) -> Response:
    return _ledger_page(request, user, Direction.receipts)


def _csv(request: Request, user: StaffUser, direction: Direction) -> Response:
    lang = request_lang(request)  # a bad ?lang= is a 400, not a file in another language
    runtime = deps.runtime(request)
    filter_ = _filter(request, direction)
    begun = ledger.export(runtime.vault, filter_, actor=user.actor, format="csv")
    zone = _zone(request)
    today = runtime.clock.now().astimezone(ZoneInfo(zone)).strftime("%Y%m%d")
    name = "provisions" if direction is Direction.provisions else "acquisitions"
    return StreamingResponse(
        export.csv_chunks(
            begun.rows,
            receipts=filter_.receipts,
            rules=runtime.vault.rules(),
            lang=lang,
            zone=zone,
            bom=True,
        ),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{today}.csv"',
            "Content-Language": lang,
            "X-Mamori-Rows": str(begun.count),
        },
    )


@router.get("/provisions.csv")
def provisions_csv(request: Request, user: ExportDep) -> Response:
    return _csv(request, user, Direction.provisions)


@router.get("/acquisitions.csv")
def acquisitions_csv(request: Request, user: ExportDep) -> Response:
    return _csv(request, user, Direction.receipts)
