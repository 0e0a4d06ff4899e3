"""Cross-reference checks of a policy declaration.

The models in :mod:`mamori.policy.model` check each value's shape; these checks look across the
document: ids that are unknown or given twice, purposes with no items, items with no purpose,
cookies without a category, joint use missing what APPI 27(5)(iii) requires, providers without a
country, recipients without what their relationship needs (a joint user outside the declared
joint use, a foreign recipient without its APPI 28 information, a third party without the name,
address and representative its records need), dates out of order. They run on the raw YAML
data (so they report problems even where the models found others) and never raise: each
problem is yielded as (path, message).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from mamori.policy import processing
from mamori.policy.model import SINGLE_KINDS, DataItem, ValueKind

__all__ = ["check"]

PathKey = tuple[str | int, ...]
Found = tuple[PathKey, str]

# Lists of objects with an `id`, and the word used for them in messages.
_ID_LISTS: dict[PathKey, str] = {
    ("subjects",): "data subject",
    ("business_lines",): "business line",
    ("items",): "data item",
    ("purposes",): "purpose",
    ("joint_use",): "joint use",
    ("contractors",): "contractor",
    ("recipients",): "recipient",
    ("external_services",): "external service",
    ("cookies", "categories"): "cookie category",
    ("cookies", "services"): "cookie service",
    ("third_party_provision", "exceptions"): "provision exception",
}


def _get(data: Any, path: PathKey) -> Any:
    current = data
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                return None
        elif not isinstance(current, Mapping):
            return None
        current = current[part] if isinstance(part, int) else current.get(part)
    return current


def _entries(data: Any, path: PathKey) -> Iterator[tuple[PathKey, Mapping[str, Any]]]:
    value = _get(data, path)
    if isinstance(value, list):
        for index, entry in enumerate(value):
            if isinstance(entry, Mapping):
                yield (*path, index), entry


def _ids(data: Any, path: PathKey) -> list[str]:
    return [str(e["id"]) for _, e in _entries(data, path) if isinstance(e.get("id"), str)]


def _suggest(name: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _references(where: PathKey, refs: Any, known: Sequence[str], word: str) -> Iterator[Found]:
    if not isinstance(refs, list):
        return
    for index, ref in enumerate(refs):
        if isinstance(ref, str) and ref not in known:
            yield (*where, index), f"unknown {word} '{ref}'{_suggest(ref, known)}"


def _duplicates(data: Any) -> Iterator[Found]:
    for path, word in _ID_LISTS.items():
        first: dict[str, int] = {}
        for entry_path, entry in _entries(data, path):
            ident = entry.get("id")
            if not isinstance(ident, str):
                continue
            if ident in first:
                yield (
                    (*entry_path, "id"),
                    (
                        f"duplicate {word} id '{ident}' (already used by "
                        f"{'.'.join(map(str, path))}[{first[ident]}])"
                    ),
                )
            else:
                first[ident] = int(entry_path[-1])


def _items_and_purposes(data: Any) -> Iterator[Found]:
    items = _ids(data, ("items",))
    subjects = _ids(data, ("subjects",))
    lines = _ids(data, ("business_lines",))
    purpose_ids = _ids(data, ("purposes",))
    used: set[str] = set()
    for path, purpose in _entries(data, ("purposes",)):
        refs = purpose.get("items")
        if isinstance(refs, list):
            if not refs:
                yield (
                    (*path, "items"),
                    (f"purpose '{purpose.get('id')}' allows no data item: list the items it uses"),
                )
            used.update(r for r in refs if isinstance(r, str))
            yield from _references((*path, "items"), refs, items, "data item")
        yield from _references(
            (*path, "business_lines"), purpose.get("business_lines"), lines, "business line"
        )
        yield from _references(
            (*path, "related_to"), purpose.get("related_to"), purpose_ids, "purpose"
        )
        if purpose.get("group") == "business_line" and not purpose.get("business_lines"):
            yield (
                (*path, "business_lines"),
                ("a purpose of group business_line must name the business lines it serves"),
            )
    for path, item in _entries(data, ("items",)):
        ident = item.get("id")
        if isinstance(ident, str) and ident not in used and _get(data, ("purposes",)) is not None:
            yield (
                (*path, "id"),
                (
                    f"data item '{ident}' is not allowed for any purpose: "
                    "add it to a purpose's items or remove it"
                ),
            )
        yield from _references((*path, "subjects"), item.get("subjects"), subjects, "data subject")
        yield from _kinds(path, item)
        if item.get("source") == "linked_service" and item.get("essential") is True:
            yield (
                (*path, "essential"),
                (
                    "an item from a linked external service cannot be essential: "
                    "the person may unlink the service"
                ),
            )
    for group_path, _group in _entries(data, ("collection", "groups")):
        for entry_path, entry in _entries(data, (*group_path, "entries")):
            yield from _references((*entry_path, "items"), entry.get("items"), items, "data item")
    for path, joint in _entries(data, ("joint_use",)):
        yield from _references((*path, "items"), joint.get("items"), items, "data item")
    for path, contractor in _entries(data, ("contractors",)):
        yield from _references((*path, "items"), contractor.get("items"), items, "data item")


def _kinds(path: PathKey, item: Mapping[str, Any]) -> Iterator[Found]:
    """An item's ``kind`` or ``kinds``: known kinds, not both keys, combinable ones only."""
    known = [k.value for k in ValueKind]
    kind = item.get("kind")
    if isinstance(kind, str) and kind not in known:
        yield (*path, "kind"), _unknown_kind(kind, known)
    kinds = item.get("kinds")
    if kinds is None:
        return
    where = (*path, "kinds")
    if "kind" in item:
        yield where, "give either kind (one kind) or kinds (several), not both"
        return
    if not isinstance(kinds, list):
        return  # the model reports the shape
    if not kinds:
        yield where, "list at least one kind (for example kinds: [text, url, document])"
        return
    seen: set[str] = set()
    for index, entry in enumerate(kinds):
        if not isinstance(entry, str):
            continue
        if entry not in known:
            yield (*where, index), _unknown_kind(entry, known)
        elif entry in seen:
            yield (*where, index), f"kind '{entry}' is listed twice"
        elif len(kinds) > 1 and ValueKind(entry) in SINGLE_KINDS:
            combinable = ", ".join(k.value for k in ValueKind if k not in SINGLE_KINDS)
            yield (
                (*where, index),
                f"kind '{entry}' cannot be combined with other kinds: give it alone as kind:"
                f" {entry} (kinds that combine: {combinable})",
            )
        seen.add(entry)


def _unknown_kind(kind: str, known: Sequence[str]) -> str:
    return f"unknown value kind '{kind}'{_suggest(kind, known)}; kinds: {', '.join(known)}"


_JOINT_USE_FIELDS = {
    "items": "the items used jointly",
    "users": "the scope of the joint users",
    "purposes": "the joint users' purposes",
    "responsible": "the party responsible for the data",
}
_RESPONSIBLE_FIELDS = {
    "name": "name",
    "address": "address",
    "representative": "representative",
}


def _joint_use(data: Any) -> Iterator[Found]:
    for path, joint in _entries(data, ("joint_use",)):
        for key, what in _JOINT_USE_FIELDS.items():
            if key not in joint or joint.get(key) in (None, [], ""):
                yield (
                    (*path, key),
                    (f"joint use must state {what} ('{key}'), as APPI 27(5)(iii) requires"),
                )
        responsible = joint.get("responsible")
        if isinstance(responsible, Mapping):
            for key, what in _RESPONSIBLE_FIELDS.items():
                if responsible.get(key) in (None, ""):
                    yield (
                        (*path, "responsible", key),
                        (
                            f"joint use must state the responsible party's {what} ('{key}'), "
                            "as APPI 27(5)(iii) requires"
                        ),
                    )


_RECORD_FIELDS = {"address": "address", "representative": "representative"}


def _recipients(data: Any) -> Iterator[Found]:
    items, purposes = _ids(data, ("items",)), _ids(data, ("purposes",))
    joint_uses = {str(j.get("id")): j for _, j in _entries(data, ("joint_use",))}
    services = _ids(data, ("cookies", "services"))
    home = _get(data, ("operator", "country")) or "JP"
    for path, recipient in _entries(data, ("recipients",)):
        ident = recipient.get("id")
        yield from _references((*path, "items"), recipient.get("items"), items, "data item")
        yield from _references((*path, "purposes"), recipient.get("purposes"), purposes, "purpose")
        yield from _references(
            (*path, "cookie_services"), recipient.get("cookie_services"), services, "cookie service"
        )
        relationship = recipient.get("relationship")
        joint = recipient.get("joint_use")
        if relationship == "joint_user":
            if joint is None:
                yield (
                    (*path, "joint_use"),
                    (
                        f"joint user '{ident}' names no joint use: give the id of the joint_use "
                        "entry it takes part in"
                    ),
                )
            elif joint not in joint_uses:
                yield (
                    (*path, "joint_use"),
                    f"unknown joint use '{joint}'{_suggest(str(joint), list(joint_uses))}",
                )
            else:
                shared = joint_uses[joint].get("items") or []
                for index, item in enumerate(recipient.get("items") or []):
                    if isinstance(item, str) and item in items and item not in shared:
                        yield (
                            (*path, "items", index),
                            (
                                f"joint user '{ident}' receives '{item}', which joint use "
                                f"'{joint}' does not declare: add it to the joint use's items "
                                "(a change people are told of in advance) or remove it here"
                            ),
                        )
        elif joint is not None:
            yield (
                (*path, "joint_use"),
                f"only a joint user takes part in a joint use; '{ident}' is a {relationship}",
            )
        if relationship == "contractor" and not recipient.get("task"):
            yield (
                (*path, "task"),
                f"contractor '{ident}' has no task: say what work is entrusted to it",
            )
        if relationship == "third_party":
            for key, what in _RECORD_FIELDS.items():
                if not recipient.get(key):
                    yield (
                        (*path, key),
                        (
                            f"third party '{ident}' has no {what} ('{key}'): the record of each "
                            "provision must hold it (APPI 29, rule 20)"
                        ),
                    )
        country = recipient.get("country")
        foreign = recipient.get("foreign")
        if isinstance(country, str) and country != home:
            yield from _foreign(path, ident, country, foreign)
        elif foreign is not None and isinstance(country, str):
            yield (
                (*path, "foreign"),
                f"recipient '{ident}' is in {country}, the operator's country: remove 'foreign'",
            )


def _foreign(path: PathKey, ident: Any, country: str, foreign: Any) -> Iterator[Found]:
    need = (
        f"recipient '{ident}' is in {country}: give its APPI 28 information, 'foreign.system' "
        "(the country's system for protecting personal information) and 'foreign.measures' "
        "(the recipient's measures), or 'foreign.unknown_reason'"
    )
    if not isinstance(foreign, Mapping):
        yield (*path, "foreign"), need
        return
    known = bool(foreign.get("system")) and bool(foreign.get("measures"))
    if foreign.get("unknown_reason") and (foreign.get("system") or foreign.get("measures")):
        yield (
            (*path, "foreign", "unknown_reason"),
            "give either the system and the measures or the reason they are unknown, not both",
        )
    elif not known and not foreign.get("unknown_reason"):
        missing = [k for k in ("system", "measures") if not foreign.get(k)]
        yield (*path, "foreign", missing[0]), need


def _cookies(data: Any) -> Iterator[Found]:
    categories = _ids(data, ("cookies", "categories"))
    for path, service in _entries(data, ("cookies", "services")):
        category = service.get("category")
        if category is None:
            yield (
                (*path, "category"),
                (
                    f"cookie service '{service.get('id')}' has no consent category: "
                    f"give one of {', '.join(categories) or '(no categories declared)'}"
                ),
            )
        elif isinstance(category, str) and category not in categories:
            yield (
                (*path, "category"),
                (f"unknown cookie category '{category}'{_suggest(category, categories)}"),
            )


def _countries(data: Any) -> Iterator[Found]:
    providers: list[tuple[PathKey, Any]] = []
    for path, service in _entries(data, ("cookies", "services")):
        providers.append(((*path, "provider"), service.get("provider")))
    for path, service in _entries(data, ("external_services",)):
        providers.append(((*path, "provider"), service.get("provider")))
    for path, provider in providers:
        if isinstance(provider, Mapping) and not provider.get("country"):
            name = provider.get("name")
            shown = f" '{name.get('en')}'" if isinstance(name, Mapping) else ""
            yield (
                (*path, "country"),
                (
                    f"provider{shown} has no country: give its ISO 3166-1 code (e.g. US); "
                    "people must be told where data sent to a foreign provider goes (APPI 28, 31)"
                ),
            )
    for path, contractor in _entries(data, ("contractors",)):
        if not contractor.get("country"):
            yield (
                (*path, "country"),
                (
                    "contractor has no country: give its ISO 3166-1 code (e.g. JP); "
                    "contractors abroad must be disclosed (APPI 28)"
                ),
            )


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _dates(data: Any) -> Iterator[Found]:
    previous: dt.date | None = None
    previous_index = 0
    for path, revision in _entries(data, ("revisions",)):
        date = _as_date(revision.get("date"))
        if date is None:
            continue
        if previous is not None and date <= previous:
            yield (
                (*path, "date"),
                (
                    f"revision date {date.isoformat()} is not after the one before it "
                    f"({previous.isoformat()}, revisions[{previous_index}]): list revisions oldest "
                    "first, one per date"
                ),
            )
        previous, previous_index = date, int(path[-1])


def _purpose_headings(data: Any) -> Iterator[Found]:
    headings = _get(data, ("purpose_section", "group_headings"))
    if not isinstance(headings, Mapping):
        return
    for path, purpose in _entries(data, ("purposes",)):
        group = purpose.get("group")
        if group == "advertising" and "marketing_statistics" in headings:
            continue  # listed under the marketing heading, as the seed does
        if isinstance(group, str) and group != "business_line" and group not in headings:
            yield (
                (*path, "group"),
                (f"purpose group '{group}' has no heading in purpose_section.group_headings"),
            )


def _statistics(data: Any) -> Iterator[Found]:
    """A purpose's statistics and pseudonymised declarations (:mod:`mamori.policy.processing`)."""
    items: dict[str, DataItem] = {}
    for _path, raw in _entries(data, ("items",)):
        try:
            item = DataItem.model_validate(raw)
        except ValidationError:
            continue  # the model reports it
        items[item.id] = item
    for path, purpose in _entries(data, ("purposes",)):
        for where, message in processing.problems(purpose, items):
            yield (*path, *where), message


def check(data: Any) -> list[Found]:
    """Every cross-reference problem in the raw policy data, in document order."""
    if not isinstance(data, Mapping):
        return []
    found: list[Found] = []
    for rule in (
        _duplicates,
        _items_and_purposes,
        _joint_use,
        _recipients,
        _cookies,
        _countries,
        _dates,
        _purpose_headings,
        _statistics,
    ):
        found.extend(rule(data))
    return found
