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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mamori.policy.model import Policy, Text

__all__ = ["Change", "Level", "PolicyDiff", "diff_policies"]


class Level(StrEnum):
    """What a change requires, from least to most."""

    cosmetic = "cosmetic"
    notify = "notify"
    consent_required = "consent_required"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def label(self, lang: str) -> str:
        return _LEVEL_WORDS[self][0 if lang != "en" else 1]


_RANK = {Level.cosmetic: 0, Level.notify: 1, Level.consent_required: 2}
_LEVEL_WORDS = {
    Level.cosmetic: ("文言の修正のみ", "wording only"),
    Level.notify: ("お知らせが必要", "notice required"),
    Level.consent_required: ("同意が必要", "consent required"),
}


@dataclass(frozen=True)
class Change:
    """One change, explained in both languages."""

    kind: str
    level: Level
    ja: str
    en: str

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "level": self.level.value, "ja": self.ja, "en": self.en}


@dataclass(frozen=True)
class PolicyDiff:
    changes: tuple[Change, ...]
    consent_uses: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    """(item, purpose) uses that each person must consent to before they apply to them."""
    consent_recipients: tuple[str, ...] = ()
    """Recipients each person must consent to (``joint_use:<id>:<user>``, ``contractor:<id>``)."""

    @property
    def level(self) -> Level:
        return max((c.level for c in self.changes), key=lambda lv: lv.rank, default=Level.cosmetic)

    @property
    def unchanged(self) -> bool:
        return not self.changes

    def explain(self, lang: str) -> list[str]:
        """One line per change, most demanding first, each marked with its level."""
        ordered = sorted(self.changes, key=lambda c: -c.level.rank)
        return [f"[{c.level.label(lang)}] {c.text(lang)}" for c in ordered]

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "changes": [c.to_json() for c in self.changes],
            "consent_uses": sorted([i, p] for i, p in self.consent_uses),
            "consent_recipients": list(self.consent_recipients),
        }


# -- helpers ---------------------------------------------------------------------------------


def _q(text: Text | str, lang: str) -> str:
    value = text if isinstance(text, str) else text.get(lang)
    return f"“{value}”" if lang == "en" else f"「{value}」"


def _list(texts: Iterable[Text | str], lang: str) -> str:
    return ("、" if lang == "ja" else ", ").join(_q(t, lang) for t in texts)


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

    def add(self, kind: str, level: Level, ja: str, en: str) -> None:
        self.changes.append(Change(kind, level, ja, en))

    def label(self, item_id: str, lang: str) -> str:
        policy = self.new if item_id in {i.id for i in self.new.items} else self.old
        return policy.item(item_id).label.get(lang)


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
                b.add(
                    "item_added",
                    Level.consent_required,
                    f"要配慮個人情報の項目{_q(item.label, 'ja')}を新たに取得します",
                    f"New sensitive item {_q(item.label, 'en')} will be collected",
                )
            else:
                b.add(
                    "item_added",
                    Level.notify,
                    f"データ項目{_q(item.label, 'ja')}を新たに取得します",
                    f"New data item {_q(item.label, 'en')} will be collected",
                )
            continue
        if item.sensitive and not before.sensitive:
            b.add(
                "item_sensitive",
                Level.consent_required,
                f"{_q(item.label, 'ja')}を要配慮個人情報として扱います",
                f"{_q(item.label, 'en')} is now treated as sensitive personal information",
            )
        facts = _changed_fields(before, item, _ITEM_FACTS)
        if facts:
            b.add(
                "item_changed",
                Level.notify,
                f"データ項目{_q(item.label, 'ja')}の取り扱いを変更します({', '.join(facts)})",
                f"Handling of data item {_q(item.label, 'en')} changes ({', '.join(facts)})",
            )
        if _changed_fields(before, item, ("label", "description")):
            b.add(
                "item_wording",
                Level.cosmetic,
                f"データ項目{_q(before.label, 'ja')}の名称または説明の文言を変更します",
                f"Wording of data item {_q(before.label, 'en')} changes",
            )
    for item_id, item in old.items():
        if item_id not in new:
            b.add(
                "item_removed",
                Level.notify,
                f"データ項目{_q(item.label, 'ja')}の取得と利用をやめます",
                f"Data item {_q(item.label, 'en')} is no longer collected or used",
            )


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
                "purpose_added",
                Level.notify,
                f"利用目的{_q(purpose.label, 'ja')}を追加します",
                f"New purpose of use: {_q(purpose.label, 'en')}",
            )
            continue
        if before.label != purpose.label:
            b.add(
                "purpose_changed",
                Level.notify,
                f"利用目的{_q(before.label, 'ja')}を{_q(purpose.label, 'ja')}に変更します",
                f"Purpose {_q(before.label, 'en')} now reads {_q(purpose.label, 'en')}",
            )
        facts = _changed_fields(before, purpose, ("group", "business_lines", "statistics_only"))
        if facts:
            b.add(
                "purpose_changed",
                Level.notify,
                f"利用目的{_q(purpose.label, 'ja')}の区分を変更します({', '.join(facts)})",
                f"Purpose {_q(purpose.label, 'en')} changes ({', '.join(facts)})",
            )
    for purpose in b.old.purposes:
        if purpose.id not in {p.id for p in b.new.purposes}:
            b.add(
                "purpose_removed",
                Level.notify,
                f"利用目的{_q(purpose.label, 'ja')}を廃止します",
                f"Purpose {_q(purpose.label, 'en')} is withdrawn",
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
            ja = _list((b.label(i, "ja") for i in gone), "ja")
            en = _list((b.label(i, "en") for i in gone), "en")
            b.add(
                "use_removed",
                Level.notify,
                f"利用目的{_q(purpose.label, 'ja')}に{ja}を利用しなくなります",
                f"{en} no longer used for {_q(purpose.label, 'en')}",
            )


_USE_WORDS = {
    "new_item": (Level.notify, "(新たに取得する項目)", " (items collected from now on)"),
    "statistics": (
        Level.notify,
        "(個人を識別できない統計としてのみ)",
        " (only as statistics that identify nobody)",
    ),
    "related": (
        Level.notify,
        "(変更前の利用目的と関連性を有する範囲内)",
        " (reasonably related to an earlier purpose)",
    ),
    "unrelated": (
        Level.consent_required,
        "(変更前の利用目的と関連しない新たな利用)",
        " (a new use, unrelated to earlier purposes)",
    ),
}


def _use_change(b: _Builder, purpose: Text, group: str, item_ids: list[str]) -> None:
    level, ja_note, en_note = _USE_WORDS[group]
    ja = _list((b.label(i, "ja") for i in item_ids), "ja")
    en = _list((b.label(i, "en") for i in item_ids), "en")
    b.add(
        "use_added",
        level,
        f"{ja}を利用目的{_q(purpose, 'ja')}に利用します{ja_note}",
        f"{en} will be used for {_q(purpose, 'en')}{en_note}",
    )


# -- recipients: joint use and contractors ---------------------------------------------------


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
                f"個人データを共同して利用する者に{_list(added_users, 'ja')}を加えます",
                f"New joint users of personal data: {_list(added_users, 'en')}",
            )
        added_items = [i for i in joint.items if before is not None and i not in before.items]
        if added_items:
            b.recipients.append(f"joint_use:{joint.id}:items")
            b.add(
                "joint_use_items",
                Level.consent_required,
                f"共同利用する項目に{_list((b.label(i, 'ja') for i in added_items), 'ja')}"
                "を加えます",
                "Jointly used items now include "
                f"{_list((b.label(i, 'en') for i in added_items), 'en')}",
            )
        if before is None:
            continue
        removed = [u for u in before.users if u.ja not in {x.ja for x in joint.users}]
        facts = _changed_fields(before, joint, ("purposes", "responsible", "items_note"))
        if removed or facts or any(i not in joint.items for i in before.items):
            b.add(
                "joint_use_changed",
                Level.notify,
                "共同利用の内容(利用する者の範囲、項目、目的または責任者)を変更します",
                "The joint use changes (its users, items, purposes or the party responsible)",
            )
    for joint_id in old:
        if joint_id not in {j.id for j in b.new.joint_use}:
            b.add(
                "joint_use_removed",
                Level.notify,
                "個人データの共同利用の一部をやめます",
                "Part of the joint use of personal data ends",
            )


def _contractors(b: _Builder) -> None:
    home = b.new.operator.country
    old = {c.id: c for c in b.old.contractors}
    for contractor in b.new.contractors:
        before = old.get(contractor.id)
        abroad = contractor.country != home
        new_transfer = abroad and (
            before is None
            or before.country != contractor.country
            or any(i not in before.items for i in contractor.items)
        )
        name_ja, name_en = _q(contractor.name, "ja"), _q(contractor.name, "en")
        if new_transfer:
            b.recipients.append(f"contractor:{contractor.id}")
            b.add(
                "foreign_transfer",
                Level.consent_required,
                f"外国({contractor.country})にある委託先{name_ja}に個人データを提供します",
                f"Personal data will be transferred to {name_en}, a contractor in "
                f"{contractor.country}",
            )
        elif before is None:
            b.add(
                "contractor_added",
                Level.notify,
                f"委託先{name_ja}に個人データの取り扱いを委託します",
                f"Handling of personal data is entrusted to the contractor {name_en}",
            )
        elif _dump(before) != _dump(contractor):
            b.add(
                "contractor_changed",
                Level.notify,
                f"委託先{name_ja}への委託の内容を変更します",
                f"What is entrusted to the contractor {name_en} changes",
            )
    for contractor_id, contractor in old.items():
        if contractor_id not in {c.id for c in b.new.contractors}:
            b.add(
                "contractor_removed",
                Level.notify,
                f"委託先{_q(contractor.name, 'ja')}への委託をやめます",
                f"The contractor {_q(contractor.name, 'en')} no longer handles personal data",
            )


# -- cookies, external services, operator, contact, the rest ---------------------------------


def _keyed(b: _Builder, kind: str, olds: list[Any], news: list[Any], noun: tuple[str, str]) -> None:
    def name(entry: Any, lang: str) -> str:
        label = getattr(entry, "label", None)
        if isinstance(label, Text):
            return _q(label, lang)
        return _q(str(getattr(entry, "name", entry.id)), lang)

    old = {e.id: e for e in olds}
    new = {e.id: e for e in news}
    for key, entry in new.items():
        if key not in old:
            b.add(
                f"{kind}_added",
                Level.notify,
                f"{noun[0]}{name(entry, 'ja')}を追加します",
                f"{noun[1]} added: {name(entry, 'en')}",
            )
        elif _dump(old[key]) != _dump(entry):
            b.add(
                f"{kind}_changed",
                Level.notify,
                f"{noun[0]}{name(entry, 'ja')}の内容を変更します",
                f"{noun[1]} changed: {name(entry, 'en')}",
            )
    for key, entry in old.items():
        if key not in new:
            b.add(
                f"{kind}_removed",
                Level.notify,
                f"{noun[0]}{name(entry, 'ja')}を削除します",
                f"{noun[1]} removed: {name(entry, 'en')}",
            )


def _cookies(b: _Builder) -> None:
    old, new = b.old.cookies, b.new.cookies
    _keyed(b, "cookie", old.services, new.services, ("クッキー等の外部サービス", "Cookie service"))
    _keyed(
        b, "cookie_category", old.categories, new.categories, ("クッキーの区分", "Cookie category")
    )
    _keyed(
        b,
        "external_service",
        b.old.external_services,
        b.new.external_services,
        ("外部サービス", "External service"),
    )
    if old.intro != new.intro:
        b.add(
            "wording",
            Level.cosmetic,
            "クッキーについての説明の文言を変更します",
            "Wording of the cookie section changes",
        )


# Sections whose change people must be told of, and sections of wording only.
_NOTIFY_SECTIONS = {
    "operator": (
        "事業者の名称、住所または代表者",
        "the operator's name, address or representative",
    ),
    "contact": ("お問い合わせ窓口", "the contact desk"),
    "accredited_organisation": ("認定個人情報保護団体", "the accredited protection organisation"),
    "business_lines": ("利用の対象となる事業", "the businesses covered"),
    "subjects": ("情報を取り扱う方々の区分", "whose information is handled"),
    "requests": ("開示等の請求の手続", "the procedure for requests"),
    "third_party_provision": (
        "第三者提供についての定め",
        "the rules on provision to third parties",
    ),
}
_WORDING_SECTIONS = {
    "title": ("表題", "the title"),
    "preamble": ("前文", "the preamble"),
    "collection": ("個人情報の取得の説明", "the description of collection"),
    "purpose_section": ("利用目的の見出し", "the headings of the purposes"),
    "security": ("安全管理措置", "the security measures"),
    "usage_stop": ("利用中止要請の方法", "how to stop use"),
    "changes": ("変更手続", "the change procedure"),
}


def _sections(b: _Builder) -> None:
    for key, (ja, en) in _NOTIFY_SECTIONS.items():
        if _dump(getattr(b.old, key)) != _dump(getattr(b.new, key)):
            b.add(f"{key}_changed", Level.notify, f"{ja}を変更します", f"Change to {en}")
    wording = [
        words
        for key, words in _WORDING_SECTIONS.items()
        if _dump(getattr(b.old, key)) != _dump(getattr(b.new, key))
    ]
    if wording:
        b.add(
            "wording",
            Level.cosmetic,
            f"文言の修正: {'、'.join(w[0] for w in wording)}",
            f"Wording changes in {', '.join(w[1] for w in wording)}",
        )
    dates = {r.date for r in b.old.revisions}
    for revision in b.new.revisions:
        if revision.date not in dates:
            b.add(
                "revision_added",
                Level.cosmetic,
                f"改訂履歴に{revision.date.isoformat()} {revision.label.ja}を加えます",
                f"Revision history: {revision.label.en} {revision.date.isoformat()}",
            )


def _steps() -> Iterator[Any]:
    yield _items
    yield _purposes
    yield _uses
    yield _joint_use
    yield _contractors
    yield _cookies
    yield _sections


def diff_policies(old: Policy, new: Policy) -> PolicyDiff:
    """Every change from ``old`` to ``new``, explained and classified."""
    b = _Builder(old, new)
    for step in _steps():
        step(b)
    return PolicyDiff(tuple(b.changes), frozenset(b.uses), tuple(dict.fromkeys(b.recipients)))
