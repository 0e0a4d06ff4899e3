"""The privacy center's settings form: what the page shows, and what a submitted form asks for.

The page shows one control per stoppable purpose and per stoppable item: a pair of radio
buttons named ``purpose.<id>`` or ``item.<id>`` with the values ``use`` and ``stop``. Essential
items and the purposes that provide the service get no control: they stop only on withdrawal.
A submitted form changes only what it names; the page always names every control it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mamori.errors import NotStoppable, UnknownItem, UnknownPurpose, UserInputError
from mamori.vault.restrictions import UsageSettings
from mamori.web.i18n import Lang

__all__ = ["ItemRow", "PurposeRow", "SettingsPage", "requested_stops", "settings_page"]

_CHOICES = ("use", "stop")


@dataclass(frozen=True)
class PurposeRow:
    id: str
    label: str
    items: tuple[str, ...]
    """Labels of the items the purpose uses."""
    stoppable: bool
    stopped: bool

    @property
    def field(self) -> str:
        return f"purpose.{self.id}"


@dataclass(frozen=True)
class ItemRow:
    id: str
    label: str
    purposes: tuple[str, ...]
    """Labels of the purposes that use the item."""
    essential: bool
    stopped: bool

    @property
    def field(self) -> str:
        return f"item.{self.id}"


@dataclass(frozen=True)
class SettingsPage:
    """The settings in the page's language, stoppable ones first, each in policy order."""

    purposes: tuple[PurposeRow, ...]
    items: tuple[ItemRow, ...]

    @property
    def stoppable_purposes(self) -> tuple[PurposeRow, ...]:
        return tuple(p for p in self.purposes if p.stoppable)

    @property
    def fixed_purposes(self) -> tuple[PurposeRow, ...]:
        return tuple(p for p in self.purposes if not p.stoppable)

    @property
    def stoppable_items(self) -> tuple[ItemRow, ...]:
        return tuple(i for i in self.items if not i.essential)

    @property
    def essential_items(self) -> tuple[ItemRow, ...]:
        return tuple(i for i in self.items if i.essential)


def settings_page(view: UsageSettings, lang: Lang) -> SettingsPage:
    item_labels = {i.id: i.label.get(lang) for i in view.items}
    purpose_labels = {p.id: p.label.get(lang) for p in view.purposes}
    purposes = tuple(
        PurposeRow(
            id=p.id,
            label=p.label.get(lang),
            items=tuple(item_labels[i] for i in p.items if i in item_labels),
            stoppable=p.stoppable,
            stopped=p.stopped,
        )
        for p in view.purposes
    )
    items = tuple(
        ItemRow(
            id=i.id,
            label=i.label.get(lang),
            purposes=tuple(purpose_labels[p] for p in i.purposes if p in purpose_labels),
            essential=i.essential,
            stopped=i.stopped,
        )
        for i in view.items
    )
    return SettingsPage(purposes, items)


def requested_stops(
    view: UsageSettings, form: Mapping[str, str]
) -> tuple[frozenset[str], frozenset[str]]:
    """(stopped items, stopped purposes) after applying ``form`` to the current ``view``.

    Fields the form does not name keep their state. Asking to stop an essential item or a
    purpose that provides the service raises :class:`NotStoppable`; naming an item or purpose
    the page does not show raises :class:`UnknownItem` or :class:`UnknownPurpose`. A stop the
    current policy no longer allows (an item that has become essential) cannot be kept, as
    :func:`mamori.vault.restrictions.set_stops` refuses it, and is dropped.
    """
    items = {i.id: i for i in view.items}
    purposes = {p.id: p for p in view.purposes}
    stopped_items = {i.id for i in view.items if i.stopped and not i.essential}
    stopped_purposes = {p.id for p in view.purposes if p.stopped and p.stoppable}
    for name, value in form.items():
        scope, dot, target = name.partition(".")
        if not dot or scope not in ("item", "purpose"):
            continue
        if value not in _CHOICES:
            raise UserInputError(f"{name}: choose 'use' or 'stop'")
        stop = value == "stop"
        if scope == "item":
            item = items.get(target)
            if item is None:
                raise UnknownItem(f"item '{target}' is not among this person's settings")
            if stop and item.essential:
                raise NotStoppable(
                    f"item '{target}' is essential to the service: it stops only on withdrawal"
                )
            chosen = stopped_items
        else:
            purpose = purposes.get(target)
            if purpose is None:
                raise UnknownPurpose(f"purpose '{target}' is not among this person's settings")
            if stop and not purpose.stoppable:
                raise NotStoppable(
                    f"purpose '{target}' provides the service itself: it stops only on withdrawal"
                )
            chosen = stopped_purposes
        if stop:
            chosen.add(target)
        else:
            chosen.discard(target)
    return frozenset(stopped_items), frozenset(stopped_purposes)
