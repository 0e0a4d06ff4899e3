"""Render a policy declaration as the published privacy policy, in Japanese or English.

The declaration is first turned into a small document tree (:mod:`mamori.policy.document`:
sections of paragraphs, numbered lists, sub-sections and tables), with every text already in the
chosen language and every number, date and link in place. The Jinja templates in ``templates/``
only lay that tree out, as an HTML fragment, a standalone HTML page or GitHub-flavoured
Markdown, so every format carries the same facts in the same order: the order of the worked
example's sections 1-12.

Rendering is pure and deterministic: the only I/O is reading the package's own templates and the
catalogs (the words the policy adds around the declaration are the ``policy.*`` messages of
:mod:`mamori.i18n`), and the same declaration always gives the same bytes. It expects a checked
declaration (see :mod:`mamori.policy.checks`): an unknown item id in a joint use raises
:class:`KeyError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Literal

import jinja2
from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_currency

from mamori.i18n import N_, t
from mamori.policy.document import (
    Block as _Block,
)
from mamori.policy.document import (
    Document as _Document,
)
from mamori.policy.document import (
    Entry as _Entry,
)
from mamori.policy.document import (
    Inline as _Inline,
)
from mamori.policy.document import (
    ListBlock as _List,
)
from mamori.policy.document import (
    Para as _Para,
)
from mamori.policy.document import (
    Part as _Part,
)
from mamori.policy.document import (
    Section as _Section,
)
from mamori.policy.document import (
    Span as _Span,
)
from mamori.policy.document import (
    Sub as _Sub,
)
from mamori.policy.document import (
    Table as _Table,
)
from mamori.policy.document import (
    circled as _circled,
)
from mamori.policy.document import (
    md_escape,
    md_inline,
)
from mamori.policy.document import (
    para as _para,
)
from mamori.policy.document import (
    plain as _plain,
)
from mamori.policy.document import (
    roman as _roman,
)
from mamori.policy.mechanisms import Mechanisms, check_mechanisms, mechanism_link
from mamori.policy.model import (
    CookieService,
    ExternalService,
    Organisation,
    Policy,
    Purpose,
    PurposeGroup,
    Recipient,
    Relationship,
    SecurityGroup,
    Text,
)
from mamori.policy.processing import published_note

__all__ = ["Format", "Lang", "render_policy", "render_policy_page"]

Lang = Literal["ja", "en"]
Format = Literal["html", "md"]

_LANGS: tuple[Lang, ...] = ("ja", "en")
_FORMATS: tuple[Format, ...] = ("html", "md")


def render_policy(
    policy: Policy,
    *,
    lang: Lang,
    fmt: Format,
    version: int | None = None,
    mechanisms: Mechanisms | None = None,
) -> str:
    """The policy as an HTML fragment (one ``<article>``) or as Markdown.

    ``version`` is the published version number, shown after the revision history when given;
    ``mechanisms`` the addresses of the pages the sections link to (:mod:`.mechanisms`).
    """
    _check_args(lang, fmt)
    doc = _Builder(policy, lang, version, mechanisms).document()
    out = _environment(fmt).get_template(f"article.{fmt}").render(doc=doc)
    if fmt == "md":
        out = re.sub(r"\n{3,}", "\n\n", out).strip("\n") + "\n"
    return out


def render_policy_page(
    policy: Policy, *, lang: Lang, version: int | None = None, mechanisms: Mechanisms | None = None
) -> str:
    """The policy as a standalone HTML document with inline CSS and no external resources."""
    _check_args(lang, "html")
    doc = _Builder(policy, lang, version, mechanisms).document()
    return _environment("html").get_template("page.html").render(doc=doc)


def _check_args(lang: str, fmt: str) -> None:
    if lang not in _LANGS:
        raise ValueError(f"unknown language {lang!r}: expected one of {', '.join(_LANGS)}")
    if fmt not in _FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(_FORMATS)}")


class _Builder:
    """Builds the document tree of one policy in one language."""

    def __init__(
        self, policy: Policy, lang: Lang, version: int | None, mechanisms: Mechanisms | None
    ) -> None:
        self.policy = policy
        self.lang: Lang = lang
        self.version = version
        self.mechanisms: Mechanisms = mechanisms or {}
        check_mechanisms(self.mechanisms)

    def ways(self, *names: str) -> tuple[_Para, ...]:
        """The paragraph linking to the mechanisms ``names``, when they were handed in."""
        return mechanism_link(self.lang, self.mechanisms, *names)

    def t(self, text: Text) -> str:
        return text.get(self.lang)

    def entry_marker(self, n: int) -> str:
        return _circled(n) if self.lang == "ja" else f"({_roman(n)})"

    def numbered(self, texts: Iterable[str]) -> _List:
        entries = (_Entry(_plain(text), self.entry_marker(n)) for n, text in enumerate(texts, 1))
        return _List(tuple(entries), numbered=True)

    def facts(self, facts: Iterable[tuple[str, str, str | None]]) -> _List:
        """A bulleted list of ``label: value`` lines (the label a message key); the value is a
        link when given an href."""
        lang = self.lang
        entries = (
            _Entry((_Span(t(lang, "policy.fact", label=t(lang, key))), _Span(value, href)))
            for key, value, href in facts
        )
        return _List(tuple(entries), numbered=False)

    def link(self, label: str, url: str) -> _Inline:
        lang = self.lang
        return (
            _Span(label + t(lang, "policy.link_open")),
            _Span(url, url),
            _Span(t(lang, "policy.link_close")),
        )

    def document(self) -> _Document:
        parts = (
            self.collection(),
            self.purposes(),
            self.security(),
            self.joint_use(),
            self.usage_stop(),
            self.cookies(),
            self.external_services(),
            self.third_party_provision(),
            self.disclosure(),
            self.correction(),
            self.management(),
            self.changes(),
        )
        present = [part for part in parts if part is not None]
        sections = tuple(
            _Section(key, number, heading, tuple(blocks))
            for number, (key, heading, blocks) in enumerate(present, 1)
        )
        title = self.t(self.policy.title)
        page_title = t(
            self.lang, "policy.page_title", title=title, operator=self.t(self.policy.operator.name)
        )
        preamble = tuple(_para(self.t(text)) for text in self.policy.preamble)
        return _Document(self.lang, title, page_title, preamble, sections, self.version)

    # Sections, in the worked example's order.

    def collection(self) -> _Part:
        subs = []
        for n, group in enumerate(self.policy.collection.groups, 1):
            blocks: list[_Block] = []
            if group.intro is not None:
                blocks.append(_para(self.t(group.intro)))
            entries = []
            for m, entry in enumerate(group.entries, 1):
                marker = self.entry_marker(m)
                if entry.heading is None:
                    entries.append(_Entry(_plain(self.t(entry.text)), marker))
                else:
                    body = (_para(self.t(entry.text)),)
                    entries.append(_Entry(_plain(self.t(entry.heading)), marker, body))
            blocks.append(_List(tuple(entries), numbered=True))
            subs.append(_Sub(f"({n})", self.t(group.heading), tuple(blocks)))
        return "collection", t(self.lang, "policy.section_collection"), subs

    def purposes(self) -> _Part:
        section = self.policy.purpose_section
        lists: list[tuple[str, list[str]]] = []
        if self.policy.business_lines:
            labels = [self.t(line.label) for line in self.policy.business_lines]
            lists.append((self.t(section.business_lines_heading), labels))
        listed = [p for p in self.policy.purposes if p.stated_in == "purposes"]
        order = [
            *section.group_headings,
            *(g for g in PurposeGroup if g not in section.group_headings),
        ]

        def heading_of(purpose: Purpose) -> PurposeGroup:
            # Advertising is listed under the marketing heading unless it has one of its own
            # (the seed lists ad delivery in §2 (3)).
            if (
                purpose.group is PurposeGroup.advertising
                and PurposeGroup.advertising not in section.group_headings
                and PurposeGroup.marketing_statistics in section.group_headings
            ):
                return PurposeGroup.marketing_statistics
            return purpose.group

        for group in order:
            said = {p.id: f"{self.t(p.label)}{published_note(self.lang, p)}" for p in listed}
            labels = [said[p.id] for p in listed if heading_of(p) == group]
            if labels:
                declared = section.group_headings.get(group)
                heading = (
                    self.t(declared)
                    if declared
                    else t(self.lang, f"policy.purpose_group_{group.value}")
                )
                lists.append((heading, labels))
        blocks: list[_Block] = [_para(self.t(section.intro))]
        for n, (heading, labels) in enumerate(lists, 1):
            blocks.append(_Sub(f"({n})", heading, (self.numbered(labels),)))
        return "purposes", t(self.lang, "policy.section_purposes"), blocks

    def security(self) -> _Part:
        security = self.policy.security
        measures = (self.t(m.text) + self.security_groups(m.groups) for m in security.measures)
        blocks = (
            _para(self.t(security.basic_policy), "(1)"),
            _para(self.t(security.measures_intro), "(2)"),
            self.numbered(measures),
        )
        return "security", t(self.lang, "policy.section_security"), blocks

    def security_groups(self, groups: Sequence[SecurityGroup]) -> str:
        """The seed's parenthesis after a measure: (人的・物理的・技術的安全管理措置)."""
        if not groups:
            return ""
        lang = self.lang
        and_ = t(lang, "policy.security_and")
        kinds = [
            t(lang, f"policy.security_group_{g.value}") for g in groups if g.value in _MEASURE_KINDS
        ]
        phrases = []
        if kinds:
            # English lists three or more kinds with commas: "human, physical, and technical".
            joined = format_list(kinds, locale="en") if lang == "en" else and_.join(kinds)
            phrases.append(t(lang, "policy.security_measures", kinds=joined))
        if SecurityGroup.foreign_environment in groups:
            phrases.append(t(lang, "policy.security_foreign_environment"))
        return t(lang, "policy.security_groups", groups=and_.join(phrases))

    def joint_use(self) -> _Part | None:
        uses = self.policy.joint_use
        if not uses:
            return None
        lang = self.lang
        blocks: list[_Block] = []
        for n, use in enumerate(uses, 1):
            items = [self.t(self.policy.item(item_id).label) for item_id in use.items]
            if use.items_note is not None:
                items.append(self.t(use.items_note))
            items_text = _para(t(lang, "policy.list_separator").join(items))
            users: tuple[_Block, ...] = (self.numbered(self.t(user) for user in use.users),)
            named = [
                r
                for r in self.policy.recipients
                if r.relationship is Relationship.joint_user and r.joint_use == use.id
            ]
            if named:
                users += (
                    _para(t(lang, "policy.joint_use_named")),
                    self.facts_list(self.recipient_name(r) for r in named),
                )
            purposes = self.numbered(self.t(purpose) for purpose in use.purposes)
            subs = (
                _Sub("(1)", t(lang, "policy.joint_use_items"), (items_text,)),
                _Sub("(2)", t(lang, "policy.joint_use_users"), users),
                _Sub("(3)", t(lang, "policy.joint_use_purposes"), (purposes,)),
                _Sub(
                    "(4)",
                    t(lang, "policy.joint_use_responsible"),
                    (self.organisation(use.responsible),),
                ),
            )
            if len(uses) == 1:
                blocks.extend(subs)
            else:
                blocks.append(_Sub(None, t(lang, "policy.joint_use_n", n=n), subs))
        return "joint-use", t(lang, "policy.section_joint_use"), blocks

    def organisation(self, org: Organisation) -> _List:
        facts: list[tuple[str, str, str | None]] = [
            (N_("policy.fact_name"), self.t(org.name), None)
        ]
        if org.address is not None:
            facts.append((N_("policy.fact_address"), self.t(org.address), None))
        if org.representative is not None:
            facts.append((N_("policy.fact_representative"), self.t(org.representative), None))
        if org.url is not None:
            facts.append((N_("policy.fact_url"), org.url, org.url))
        return self.facts(facts)

    def usage_stop(self) -> _Part:
        text = self.t(self.policy.usage_stop)
        blocks = (_para(text), *self.ways("usage_settings"))
        return "usage-stop", t(self.lang, "policy.section_usage_stop"), blocks

    def cookies(self) -> _Part:
        cookies = self.policy.cookies
        lang = self.lang
        head = (
            t(lang, "policy.cookie_service"),
            t(lang, "policy.cookie_provider"),
            t(lang, "policy.cookie_purpose"),
            t(lang, "policy.cookie_privacy_policy"),
            t(lang, "policy.cookie_opt_out"),
        )
        rows = tuple(self.cookie_row(service) for service in cookies.services)
        blocks: list[_Block] = [_para(self.t(cookies.intro)), *self.ways("cookie_settings")]
        if rows:
            blocks.append(_Table(head, rows))
        return "cookies", t(lang, "policy.section_cookies"), blocks

    def cookie_row(self, service: CookieService) -> tuple[_Inline, ...]:
        name = self.t(service.label) if service.label else service.name
        url = service.privacy_policy_url
        opt_out = (
            _plain(t(self.lang, "policy.opt_out_none"))
            if service.opt_out == "none"
            else (_Span(service.opt_out, service.opt_out),)
        )
        return (
            _plain(name),
            _plain(self.t(service.provider.name)),
            _plain(self.t(service.purpose)),
            (_Span(url, url),),
            opt_out,
        )

    def external_services(self) -> _Part | None:
        services = self.policy.external_services
        if not services:
            return None
        if len(services) == 1 and services[0].heading is not None:
            return "external-services", self.t(services[0].heading), self.external(services[0])
        subs = [
            _Sub(None, self.t(s.heading) if s.heading else s.name, self.external(s))
            for s in services
        ]
        return "external-services", t(self.lang, "policy.section_external_services"), subs

    def external(self, service: ExternalService) -> tuple[_Block, ...]:
        links = (
            _Para(self.link(self.t(link.label), link.url), f"({n})")
            for n, link in enumerate(service.links, 1)
        )
        return (_para(self.t(service.text)), *links)

    def third_party_provision(self) -> _Part:
        provision = self.policy.third_party_provision
        supervision = provision.supervision
        blocks: list[_Block] = [_para(self.t(provision.statement), "(1)" if supervision else None)]
        if provision.exceptions:
            blocks.append(self.numbered(self.t(e.label) for e in provision.exceptions))
        if supervision is not None:
            blocks.append(_para(self.t(supervision), "(2)"))
        number = 3 if supervision is not None else 2
        for sub in (self.foreign_recipients(), self.person_related()):
            if sub is not None:
                blocks.append(_Sub(f"({number})", sub[0], sub[1]))
                number += 1
        return "third-party-provision", t(self.lang, "policy.section_third_party_provision"), blocks

    def recipient_name(self, recipient: Recipient) -> str:
        name = self.t(recipient.name)
        if recipient.country == self.policy.operator.country:
            return name
        return t(self.lang, "policy.recipient_abroad", name=name, country=self.country(recipient))

    def country(self, recipient: Recipient) -> str:
        name = Locale.parse(self.lang).territories.get(recipient.country)
        return name if isinstance(name, str) else recipient.country

    def facts_list(self, texts: Iterable[str]) -> _List:
        return _List(tuple(_Entry(_plain(text)) for text in texts), numbered=False)

    def foreign_recipients(self) -> tuple[str, tuple[_Block, ...]] | None:
        """APPI 28: recipients abroad, with the information the operator chose to publish."""
        home = self.policy.operator.country
        shown = [
            (r, r.foreign)
            for r in self.policy.recipients
            if r.country != home and r.foreign is not None and r.foreign.publish
        ]
        if not shown:
            return None
        lang = self.lang
        head = (
            t(lang, "policy.foreign_recipient"),
            t(lang, "policy.foreign_country"),
            t(lang, "policy.foreign_system"),
            t(lang, "policy.foreign_measures"),
        )
        rows = []
        for r, info in shown:
            unknown = self.t(info.unknown_reason) if info.unknown_reason else None
            system = self.t(info.system) if info.system else (unknown or "")
            measures = self.t(info.measures) if info.measures else (unknown or "")
            rows.append(
                (
                    _plain(self.t(r.name)),
                    _plain(self.country(r)),
                    _plain(system),
                    _plain(measures),
                )
            )
        intro = _para(t(lang, "policy.foreign_intro"))
        return t(lang, "policy.foreign_heading"), (intro, _Table(head, tuple(rows)))

    def person_related(self) -> tuple[str, tuple[_Block, ...]] | None:
        """APPI 31: recipients expected to link person-related information to a person."""
        flagged = [r for r in self.policy.recipients if r.person_related]
        if not flagged:
            return None
        lang = self.lang
        names = self.facts_list(self.recipient_name(r) for r in flagged)
        return t(lang, "policy.person_related_heading"), (
            _para(t(lang, "policy.person_related_intro")),
            names,
        )

    def disclosure(self) -> _Part:
        requests = self.policy.requests
        blocks = [_para(self.t(requests.disclosure))]
        fee = requests.disclosure_fee
        if fee is not None:
            if fee.amount == 0:
                text = t(self.lang, "policy.disclosure_fee_free")
            else:
                amount = format_currency(fee.amount, fee.currency, locale=self.lang)
                text = t(self.lang, "policy.disclosure_fee", amount=amount)
            if fee.note is not None:
                text = t(self.lang, "policy.sentences", first=text, second=self.t(fee.note))
            blocks.append(_para(text))
        blocks.extend(self.ways("disclosure"))
        return "disclosure", t(self.lang, "policy.section_disclosure"), blocks

    def correction(self) -> _Part:
        requests = self.policy.requests
        procedure = (
            _para(self.t(requests.where)),
            *self.ways("requests"),
            _para(self.t(requests.identity_verification)),
        )
        blocks: tuple[_Block, ...] = (
            _para(self.t(requests.correction_and_stop), "(1)"),
            *self.ways("correction", "usage_stop"),
            _para(self.t(requests.erasure), "(2)"),
            *self.ways("erasure"),
            _para(self.t(requests.mail_opt_out), "(3)"),
            *self.ways("mail_opt_out"),
            _Sub(None, t(self.lang, "policy.request_procedure"), procedure),
        )
        return "correction", t(self.lang, "policy.section_correction"), blocks

    def management(self) -> _Part:
        operator = self.policy.operator
        contact = self.policy.contact
        lang = self.lang
        representative = t(
            lang,
            "policy.representative",
            title=self.t(operator.representative.title),
            name=self.t(operator.representative.name),
        )
        facts: list[tuple[str, str, str | None]] = [
            (N_("policy.fact_name"), self.t(operator.name), None),
            (N_("policy.fact_representative"), representative, None),
            (N_("policy.fact_address"), self.t(operator.address), None),
        ]
        if operator.corporate_number is not None:
            facts.append((N_("policy.fact_corporate_number"), operator.corporate_number, None))
        if operator.url is not None:
            facts.append((N_("policy.fact_url"), operator.url, operator.url))
        window = self.t(contact.text)
        if contact.call_recording_notice is not None:
            notice = self.t(contact.call_recording_notice)
            window = t(lang, "policy.sentences", first=window, second=notice)
        contact_blocks: list[_Block] = [
            _para(window),
            *self.ways("requests"),
            _para(self.t(contact.name)),
            _Para((_Span(contact.url, contact.url),)),
        ]
        if contact.email is not None:
            email = (N_("policy.fact_email"), contact.email, f"mailto:{contact.email}")
            contact_blocks.append(self.facts([email]))
        blocks: list[_Block] = [
            _Sub("(1)", t(lang, "policy.operator_heading"), (self.facts(facts),)),
            _Sub("(2)", t(lang, "policy.contact_heading"), tuple(contact_blocks)),
        ]
        accredited = self.policy.accredited_organisation
        if accredited is not None:
            organisation = self.organisation(accredited)
            blocks.append(_Sub("(3)", t(lang, "policy.accredited_heading"), (organisation,)))
        return "management", t(lang, "policy.section_management"), blocks

    def changes(self) -> _Part:
        lang = self.lang
        entries = []
        for revision in self.policy.revisions:
            date = format_date(revision.date, "long", locale=self.lang)
            line = t(lang, "policy.revision", date=date, label=self.t(revision.label))
            if revision.summary is not None:
                summary = self.t(revision.summary)
                line = t(lang, "policy.revision_summary", revision=line, summary=summary)
            entries.append(_Entry(_plain(line)))
        history = _List(tuple(entries), numbered=False)
        blocks: list[_Block] = [_para(self.t(self.policy.changes)), history]
        if self.version is not None:
            blocks.append(_para(t(lang, "policy.version", version=self.version)))
        return "changes", t(lang, "policy.section_changes"), blocks


_MEASURE_KINDS = frozenset({"organisational", "human", "physical", "technical"})
"""Security groups named "X的安全管理措置"; the others are phrases of their own."""

_GROUP_WORDS = (  # the headings and words of groups, looked up by the group's value
    N_("policy.purpose_group_business_line"),
    N_("policy.purpose_group_service_provision"),
    N_("policy.purpose_group_marketing_statistics"),
    N_("policy.purpose_group_advertising"),
    N_("policy.security_group_organisational"),
    N_("policy.security_group_human"),
    N_("policy.security_group_physical"),
    N_("policy.security_group_technical"),
)


@functools.cache
def _environment(fmt: Format) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mamori.policy", "templates"),
        autoescape=fmt == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["md"] = md_escape
    env.filters["md_inline"] = md_inline
    return env
