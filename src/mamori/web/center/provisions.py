"""The privacy center's page about provision to other companies (APPI 27-30, seed §8).

``/center/recipients`` shows, for each recipient a provision to which rests on the person's
consent (a third party, or anyone abroad), what it would receive: the recipient's name, address
and representative, the purpose, the items and, for a recipient abroad, the APPI 28 information
(the country, its system for protecting personal information, the recipient's measures, or why
they are unknown). The person consents there, or revokes a consent; no consent can be given while
the APPI 28 information is missing. The page also lists who received the person's data, from the
provision records. Forms carry the session's CSRF token; the page works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.center import access
from mamori.errors import UserInputError
from mamori.i18n import N_
from mamori.policy.model import Recipient
from mamori.policy.rules import Rules
from mamori.provisions import consents, ledger
from mamori.provisions.rules import Basis, consent_basis, foreign_information_missing
from mamori.provisions.storage import ConsentRow, RecordRow
from mamori.vault.access import Caller
from mamori.web import deps
from mamori.web.center import common
from mamori.web.center.common import FormDep, SessionDep
from mamori.web.i18n import Lang
from mamori.web.rendering import request_lang

__all__ = ["router"]

router = common.router()

_BASIS_WORDS = {basis: f"provision.basis_{basis.value}" for basis in Basis}
_BASIS_KEYS = (  # center/recipients.html looks the basis up by its code
    N_("provision.basis_consent"),
    N_("provision.basis_entrustment"),
    N_("provision.basis_business_succession"),
    N_("provision.basis_joint_use"),
    N_("provision.basis_laws_and_regulations"),
    N_("provision.basis_life_body_property"),
    N_("provision.basis_public_health"),
    N_("provision.basis_public_authority"),
    N_("provision.basis_academic_research"),
)


@dataclass(frozen=True)
class Offer:
    """One recipient and purpose the person may consent to, as the page shows it."""

    recipient: Recipient
    purpose_id: str
    purpose: str
    items: tuple[str, ...]
    country: str
    abroad: bool
    info_missing: bool
    consent: ConsentRow | None


@dataclass(frozen=True)
class Received:
    """One provision record, as the page shows it."""

    record: RecordRow
    recipient: str
    items: tuple[str, ...]
    purpose: str
    basis: str


def _country(code: str, lang: Lang) -> str:
    return str(Locale.parse(lang).territories.get(code, code))


def _label(rules: Rules, kind: str, id_: str, lang: Lang) -> str:
    found = (rules.items if kind == "item" else rules.purposes).get(id_)
    return found.label.get(lang) if found is not None else id_


def _offers(rules: Rules, given: list[ConsentRow], lang: Lang) -> list[Offer]:
    live = {(c.recipient_id, c.purpose_id): c for c in given if c.revoked_at is None}
    offers = []
    for recipient in rules.recipients.values():
        if not consent_basis(recipient, rules.home_country):
            continue
        for purpose_id in recipient.purposes:
            offers.append(
                Offer(
                    recipient=recipient,
                    purpose_id=purpose_id,
                    purpose=_label(rules, "purpose", purpose_id, lang),
                    items=tuple(_label(rules, "item", i, lang) for i in recipient.items),
                    country=_country(recipient.country, lang),
                    abroad=recipient.country != rules.home_country,
                    info_missing=foreign_information_missing(recipient, rules.home_country),
                    consent=live.get((recipient.id, purpose_id)),
                )
            )
    return offers


def _received(rules: Rules, records: list[RecordRow], lang: Lang) -> list[Received]:
    out = []
    for record in records:
        name = record.recipient.get("name")
        shown = name.get(lang) or name.get("ja") if isinstance(name, dict) else None
        out.append(
            Received(
                record=record,
                recipient=str(shown or record.recipient_id),
                items=tuple(_label(rules, "item", i, lang) for i in record.items),
                purpose=_label(rules, "purpose", record.purpose_id, lang),
                basis=_BASIS_WORDS.get(Basis(record.basis), record.basis),
            )
        )
    return out


def _page(request: Request, session: access.Session, *, done: str | None = None) -> HTMLResponse:
    lang = request_lang(request)
    vault = deps.runtime(request).vault
    rules = vault.rules()
    given = consents.of_subject(vault, session.subject_id)
    return common.page(
        request,
        "center/recipients.html",
        lang,
        csrf_token=session.csrf_token,
        offers=_offers(rules, given, lang),
        revoked=[
            (
                rules.recipients[c.recipient_id].name.get(lang)
                if c.recipient_id in rules.recipients
                else c.recipient_id,
                _label(rules, "purpose", c.purpose_id, lang),
                c,
            )
            for c in given
            if c.revoked_at is not None
        ],
        received=_received(rules, ledger.of_subject(vault, session.subject_id), lang),
        done=done,
    )


@router.get("/recipients", response_class=HTMLResponse)
def recipients_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _page(request, session)


def _field(form: dict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise UserInputError(f"the form has no '{name}': reload the page and try again")
    return value


@router.post("/recipients/consent", response_class=HTMLResponse)
def consent(request: Request, session: SessionDep, form: FormDep) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    subject_id = session.subject_id
    consents.give(
        deps.runtime(request).vault,
        Caller.person(subject_id),
        subject_id,
        _field(form, "recipient"),
        _field(form, "purpose"),
        channel="center",
    )
    return _page(request, session, done="given")


@router.post("/recipients/revoke", response_class=HTMLResponse)
def revoke(request: Request, session: SessionDep, form: FormDep) -> HTMLResponse:
    access.check_csrf(session, form.get("csrf_token"))
    subject_id = session.subject_id
    consents.revoke(
        deps.runtime(request).vault,
        Caller.person(subject_id),
        subject_id,
        _field(form, "consent"),
        channel="center",
    )
    return _page(request, session, done="revoked")


@router.get("/recipients/consent")
@router.get("/recipients/revoke")
def form_get(request: Request) -> Response:
    """The addresses the forms answer at; a GET (a language switch) goes to the page."""
    return RedirectResponse(common.url(request, "/center/recipients"), status_code=303)
