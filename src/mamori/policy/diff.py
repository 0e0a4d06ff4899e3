"""What changed between two policy declarations, in words, and what the change requires (pure).

``diff_policies(old, new)`` compares two declarations and returns every change with its
explanation in Japanese and English and one of three levels (APPI 法17, 18, 21, 27, 28):

``cosmetic``
    Wording only: nothing people were told about their data changes (preamble, headings,
    translations, labels of items, revision dates). Publishing is enough.
``notify``
    A change people must be told about (法21(3), seed §12): a purpose added, changed or removed
    where every new use of data already held is *reasonably related* to an earlier one
    (法17(2)), a new item collected from now on, cookies, contractors in Japan, operator or
    contact details, the request procedure.
``consent_required``
    A change that needs each person's consent before it applies to them (法18(1), 20(2), 27,
    28): an item already held used for a purpose not related to any purpose it served before,
    a new sensitive (要配慮) item or an item becoming sensitive, a new joint user or joint-use
    item (法27(5)(iii), (6)), a new transfer to a contractor abroad (法28).

The rule for "reasonably related" is declared, not guessed: a new use of item *i* for purpose
*p* is related when the previous version allowed *i* for a purpose that *p* lists in its
``related_to``. A purpose that uses data only as statistics identifying nobody is outside the
purpose rules, so new uses for it need a notice only.

The change records the uses (item, purpose) and recipients that need consent: the vault refuses
those reads, per person, until that person consents (:meth:`mamori.policy.rules.Rules.decide`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mamori.i18n import LANGUAGES, N_, Lang, t
from mamori.policy.change import Change, Level, PolicyDiff, Timing
from mamori.policy.model import Policy, Relationship, Text

__all__ = ["Change", "Level", "PolicyDiff", "Timing", "diff_policies"]


# -- helpers ---------------------------------------------------------------------------------

_Param = str | Callable[[Lang], str]
"""A value of a message's placeholder: the same in both languages, or one per language."""


def _q(text: Text | str) -> Callable[[Lang], str]:
    """``text`` quoted in each language: 「...」, “...”."""

    def quoted(lang: Lang) -> str:
        return t(lang, "diff.quoted", text=text if isinstance(text, str) else text.get(lang))

    return quoted


def _list(texts: Iterable[Text | str]) -> Callable[[Lang], str]:
    """The texts, each quoted, as one list in each language."""
    quoted = [_q(text) for text in texts]
    return lambda lang: t(lang, "diff.list_separator").join(q(lang) for q in quoted)


def _word(key: str) -> Callable[[Lang], str]:
    """The message ``key`` (marked with ``N_`` where it is written) in each language."""
    return lambda lang: t(lang, key)


def _dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def _changed_fields(old: Any, new: Any, fields: Iterable[str]) -> list[str]:
    return [f for f in fields if _dump(getattr(old, f)) != _dump(getattr(new, f))]


class _Builder:
    def __init__(self, old: Policy, new: Policy) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []
        self.uses: set[tuple[str, str]] = set()
        self.recipients: list[str] = []

    def add(self, kind: str, level: Level, key: str, **params: _Param) -> None:
        """The change ``kind``, explained by the message ``key`` (marked with ``N_``)."""
        self.add_timed(None, kind, level, key, **params)

    def add_timed(
        self, timing: Timing | None, kind: str, level: Level, key: str, **params: _Param
    ) -> None:
        """:meth:`add` for a change people must be told of at the time ``timing`` says."""
        ja, en = (
            t(lang, key, **{n: v if isinstance(v, str) else v(lang) for n, v in params.items()})
            for lang in LANGUAGES
        )
        self.changes.append(Change(kind, level, ja, en, timing))

    def label(self, item_id: str) -> Text:
        policy = self.new if item_id in {i.id for i in self.new.items} else self.old
        return policy.item(item_id).label

    def labels(self, item_ids: Iterable[str]) -> Callable[[Lang], str]:
        return _list(self.label(i) for i in item_ids)


# -- items -----------------------------------------------------------------------------------

_ITEM_FACTS = (
    "category",
    "kind",
    "source",
    "subjects",
    "linked_scopes",
    "identifier_code",
    "financial_risk",
    "essential",
    "retention",
)


def _items(b: _Builder) -> None:
    old = {i.id: i for i in b.old.items}
    new = {i.id: i for i in b.new.items}
    for item_id, item in new.items():
        before = old.get(item_id)
        if before is None:
            if item.sensitive:
                key, level = N_("diff.item_added_sensitive"), Level.consent_required
            else:
                key, level = N_("diff.item_added"), Level.notify
            b.add("item_added", level, key, item=_q(item.label))
            continue
        if item.sensitive and not before.sensitive:
            b.add(
                "item_sensitive",
                Level.consent_required,
                N_("diff.item_sensitive"),
                item=_q(item.label),
            )
        facts = _changed_fields(before, item, _ITEM_FACTS)
        if facts:
            b.add(
                "item_changed",
                Level.notify,
                N_("diff.item_changed"),
                item=_q(item.label),
                facts=", ".join(facts),
            )
        if _changed_fields(before, item, ("label", "description")):
            b.add("item_wording", Level.cosmetic, N_("diff.item_wording"), item=_q(before.label))
    for item_id, item in old.items():
        if item_id not in new:
            b.add("item_removed", Level.notify, N_("diff.item_removed"), item=_q(item.label))


# -- purposes and uses -----------------------------------------------------------------------


def _identifying_uses(policy: Policy) -> set[tuple[str, str]]:
    return {(i, p.id) for p in policy.purposes if not p.statistics_only for i in p.items}


def _all_uses(policy: Policy) -> set[tuple[str, str]]:
    return {(i, p.id) for p in policy.purposes for i in p.items}


def _purposes(b: _Builder) -> None:
    old = {p.id: p for p in b.old.purposes}
    for purpose in b.new.purposes:
        before = old.get(purpose.id)
        if before is None:
            b.add(
                "purpose_added", Level.notify, N_("diff.purpose_added"), purpose=_q(purpose.label)
            )
            continue
        if before.label != purpose.label:
            b.add(
                "purpose_changed",
                Level.notify,
                N_("diff.purpose_renamed"),
                before=_q(before.label),
                purpose=_q(purpose.label),
            )
        facts = _changed_fields(before, purpose, ("group", "business_lines", "statistics_only"))
        if facts:
            b.add(
                "purpose_changed",
                Level.notify,
                N_("diff.purpose_changed"),
                purpose=_q(purpose.label),
                facts=", ".join(facts),
            )
    for purpose in b.old.purposes:
        if purpose.id not in {p.id for p in b.new.purposes}:
            b.add(
                "purpose_removed",
                Level.notify,
                N_("diff.purpose_removed"),
                purpose=_q(purpose.label),
            )


def _uses(b: _Builder) -> None:
    old_items = {i.id: i for i in b.old.items}
    old_any = _all_uses(b.old)
    old_identifying = _identifying_uses(b.old)
    sensitive_now = {
        i.id
        for i in b.new.items
        if i.sensitive and not (i.id in old_items and old_items[i.id].sensitive)
    }
    # Every use of an item that has just become sensitive, or is new and sensitive, needs consent.
    for purpose in b.new.purposes:
        for item_id in purpose.items:
            if item_id in sensitive_now:
                b.uses.add((item_id, purpose.id))
    for purpose in b.new.purposes:
        groups: dict[str, list[str]] = {}
        for item_id in purpose.items:
            use = (item_id, purpose.id)
            new_use = use not in old_any or (
                not purpose.statistics_only and use not in old_identifying
            )
            if not new_use:
                continue
            if item_id not in old_items:
                groups.setdefault("new_item", []).append(item_id)
            elif purpose.statistics_only:
                groups.setdefault("statistics", []).append(item_id)
            elif any(
                (item_id, q) in old_identifying for q in purpose.related_to if q != purpose.id
            ):
                groups.setdefault("related", []).append(item_id)
            else:
                groups.setdefault("unrelated", []).append(item_id)
                b.uses.add(use)
        for group, item_ids in groups.items():
            _use_change(b, purpose.label, group, item_ids)
    for purpose in b.old.purposes:
        gone = [i for i in purpose.items if (i, purpose.id) not in _all_uses(b.new)]
        still = purpose.id in {p.id for p in b.new.purposes}
        if gone and still:
            b.add(
                "use_removed",
                Level.notify,
                N_("diff.use_removed"),
                purpose=_q(purpose.label),
                items=b.labels(gone),
            )


_USE_WORDS = {
    "new_item": (Level.notify, N_("diff.use_note.new_item")),
    "statistics": (Level.notify, N_("diff.use_note.statistics")),
    "related": (Level.notify, N_("diff.use_note.related")),
    "unrelated": (Level.consent_required, N_("diff.use_note.unrelated")),
}


def _use_change(b: _Builder, purpose: Text, group: str, item_ids: list[str]) -> None:
    level, note = _USE_WORDS[group]
    b.add(
        "use_added",
        level,
        N_("diff.use_added"),
        items=b.labels(item_ids),
        purpose=_q(purpose),
        note=_word(note),
    )


# -- recipients: joint use, contractors, third parties ------------------------------------


def _joint_use(b: _Builder) -> None:
    old = {j.id: j for j in b.old.joint_use}
    for joint in b.new.joint_use:
        before = old.get(joint.id)
        users_before = {u.ja for u in before.users} if before else set()
        added_users = [u for u in joint.users if u.ja not in users_before]
        if added_users:
            b.recipients.extend(f"joint_use:{joint.id}:{u.ja}" for u in added_users)
            b.add(
                "joint_user_added",
                Level.consent_required,
                N_("diff.joint_user_added"),
                users=_list(added_users),
            )
        added_items = [i for i in joint.items if before is not None and i not in before.items]
        if added_items:
            b.recipients.append(f"joint_use:{joint.id}:items")
            b.add(
                "joint_use_items",
                Level.consent_required,
                N_("diff.joint_use_items"),
                items=b.labels(added_items),
            )
        if before is None:
            continue
        # APPI 27(6): the purposes and the responsible party are told in advance; the
        # responsible party's address or representative without delay. mamori cannot tell a
        # renamed party from another one: a new name is read as another responsible party.
        if _dump(before.purposes) != _dump(joint.purposes):
            b.add_timed(
                Timing.in_advance,
                "joint_use_purposes",
                Level.notify,
                N_("diff.joint_use_purposes"),
                purposes=_list(joint.purposes),
            )
        if _dump(before.responsible.name) != _dump(joint.responsible.name):
            b.add_timed(
                Timing.in_advance,
                "joint_use_responsible",
                Level.notify,
                N_("diff.joint_use_responsible"),
                responsible=_q(joint.responsible.name),
            )
        elif _dump(before.responsible) != _dump(joint.responsible):
            b.add_timed(
                Timing.without_delay,
                "joint_use_responsible_details",
                Level.notify,
                N_("diff.joint_use_responsible_details"),
                responsible=_q(joint.responsible.name),
            )
        removed = [u for u in before.users if u.ja not in {x.ja for x in joint.users}]
        facts = _changed_fields(before, joint, ("items_note",))
        if removed or facts or any(i not in joint.items for i in before.items):
            b.add("joint_use_changed", Level.notify, N_("diff.joint_use_changed"))
    for joint_id in old:
        if joint_id not in {j.id for j in b.new.joint_use}:
            b.add("joint_use_removed", Level.notify, N_("diff.joint_use_removed"))


RELATIONSHIP_WORDS: dict[Relationship, str] = {
    Relationship.third_party: N_("recipient.third_party"),
    Relationship.contractor: N_("recipient.contractor"),
    Relationship.joint_user: N_("recipient.joint_user"),
    Relationship.successor: N_("recipient.successor"),
}
"""How each relationship is named to people (第三者, 委託先, ...)."""


def _recipients(b: _Builder) -> None:
    """A recipient abroad that is new, moved or given more items needs consent (APPI 28); any
    other recipient added, changed or removed is told (a provision to a third party needs the
    person's consent in any case, asked when it is made)."""
    home = b.new.operator.country
    old = {r.id: r for r in b.old.recipients}
    for recipient in b.new.recipients:
        before = old.get(recipient.id)
        abroad = recipient.country != home
        new_transfer = abroad and (
            before is None
            or before.country != recipient.country
            or any(i not in before.items for i in recipient.items)
        )
        params: dict[str, _Param] = {
            "recipient": _q(recipient.name),
            "relationship": _word(RELATIONSHIP_WORDS[recipient.relationship]),
        }
        if new_transfer:
            b.recipients.append(f"{recipient.relationship.value}:{recipient.id}")
            b.add(
                "foreign_transfer",
                Level.consent_required,
                N_("diff.foreign_transfer"),
                country=recipient.country,
                **params,
            )
        elif before is None:
            b.add("recipient_added", Level.notify, N_("diff.recipient_added"), **params)
        elif (
            recipient.relationship is Relationship.joint_user
            and before.relationship is Relationship.joint_user
            and before.purposes != recipient.purposes
        ):
            # A joint user's purposes of use: told in advance (APPI 27(6)).
            b.add_timed(
                Timing.in_advance,
                "joint_user_purposes",
                Level.notify,
                N_("diff.joint_user_purposes"),
                **params,
            )
        elif _dump(before) != _dump(recipient):
            b.add("recipient_changed", Level.notify, N_("diff.recipient_changed"), **params)
    for recipient_id, recipient in old.items():
        if recipient_id not in {r.id for r in b.new.recipients}:
            b.add(
                "recipient_removed",
                Level.notify,
                N_("diff.recipient_removed"),
                recipient=_q(recipient.name),
                relationship=_word(RELATIONSHIP_WORDS[recipient.relationship]),
            )


# -- cookies, external services, operator, contact, the rest ---------------------------------


def _keyed(b: _Builder, kind: str, olds: list[Any], news: list[Any], noun: str) -> None:
    """Entries added, changed and removed, by id; ``noun`` is the message naming their kind."""

    def name(entry: Any) -> Callable[[Lang], str]:
        label = getattr(entry, "label", None)
        if isinstance(label, Text):
            return _q(label)
        return _q(str(getattr(entry, "name", entry.id)))

    old = {e.id: e for e in olds}
    new = {e.id: e for e in news}
    what = _word(noun)
    for key, entry in new.items():
        if key not in old:
            b.add(f"{kind}_added", Level.notify, N_("diff.added"), what=what, name=name(entry))
        elif _dump(old[key]) != _dump(entry):
            b.add(f"{kind}_changed", Level.notify, N_("diff.changed"), what=what, name=name(entry))
    for key, entry in old.items():
        if key not in new:
            b.add(f"{kind}_removed", Level.notify, N_("diff.removed"), what=what, name=name(entry))


def _cookies(b: _Builder) -> None:
    old, new = b.old.cookies, b.new.cookies
    _keyed(b, "cookie", old.services, new.services, N_("diff.noun.cookie"))
    _keyed(b, "cookie_category", old.categories, new.categories, N_("diff.noun.cookie_category"))
    _keyed(
        b,
        "external_service",
        b.old.external_services,
        b.new.external_services,
        N_("diff.noun.external_service"),
    )
    if old.intro != new.intro:
        b.add("wording", Level.cosmetic, N_("diff.cookie_wording"))


# Sections whose change people must be told of, and sections of wording only: the messages
# that name them.
_NOTIFY_SECTIONS = {
    "operator": N_("diff.section.operator"),
    "contact": N_("diff.section.contact"),
    "accredited_organisation": N_("diff.section.accredited_organisation"),
    "business_lines": N_("diff.section.business_lines"),
    "subjects": N_("diff.section.subjects"),
    "requests": N_("diff.section.requests"),
    "third_party_provision": N_("diff.section.third_party_provision"),
}
_WORDING_SECTIONS = {
    "title": N_("diff.wording.title"),
    "preamble": N_("diff.wording.preamble"),
    "collection": N_("diff.wording.collection"),
    "purpose_section": N_("diff.wording.purpose_section"),
    "security": N_("diff.wording.security"),
    "usage_stop": N_("diff.wording.usage_stop"),
    "changes": N_("diff.wording.changes"),
}


def _sections(b: _Builder) -> None:
    for key, section in _NOTIFY_SECTIONS.items():
        if _dump(getattr(b.old, key)) != _dump(getattr(b.new, key)):
            b.add(
                f"{key}_changed", Level.notify, N_("diff.section_changed"), section=_word(section)
            )
    wording = [
        words
        for key, words in _WORDING_SECTIONS.items()
        if _dump(getattr(b.old, key)) != _dump(getattr(b.new, key))
    ]
    if wording:
        b.add(
            "wording",
            Level.cosmetic,
            N_("diff.wording_changes"),
            sections=lambda lang: t(lang, "diff.list_separator").join(t(lang, w) for w in wording),
        )
    dates = {r.date for r in b.old.revisions}
    for revision in b.new.revisions:
        if revision.date not in dates:
            b.add(
                "revision_added",
                Level.cosmetic,
                N_("diff.revision_added"),
                date=revision.date.isoformat(),
                label=revision.label.get,
            )


def _steps() -> Iterator[Any]:
    yield _items
    yield _purposes
    yield _uses
    yield _joint_use
    yield _recipients
    yield _cookies
    yield _sections


def diff_policies(old: Policy, new: Policy) -> PolicyDiff:
    """Every change from ``old`` to ``new``, explained and classified."""
    b = _Builder(old, new)
    for step in _steps():
        step(b)
    return PolicyDiff(tuple(b.changes), frozenset(b.uses), tuple(dict.fromkeys(b.recipients)))
