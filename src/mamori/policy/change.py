"""What a change of the policy is: its kind, its level, its words and when people are told
(pure). :mod:`mamori.policy.diff` finds the changes between two declarations."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mamori.i18n import N_, Lang, t

__all__ = ["Change", "Level", "PolicyDiff", "Timing"]


def _lang(lang: str) -> Lang:
    return "en" if lang == "en" else "ja"


class Level(StrEnum):
    """What a change requires, from least to most."""

    cosmetic = "cosmetic"
    notify = "notify"
    consent_required = "consent_required"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def label(self, lang: str) -> str:
        return t(_lang(lang), _LEVEL_WORDS[self])


_RANK = {Level.cosmetic: 0, Level.notify: 1, Level.consent_required: 2}
_LEVEL_WORDS = {
    Level.cosmetic: N_("diff.level.cosmetic"),
    Level.notify: N_("diff.level.notify"),
    Level.consent_required: N_("diff.level.consent_required"),
}


class Timing(StrEnum):
    """When people must be told of a change, where the law says (APPI 27(6) for joint use)."""

    in_advance = "in_advance"
    """Before it applies: the joint users' purposes, or the party responsible for the joint
    use. Published with a revision date after the day of publication; until that day the
    joint use goes on as declared before (:mod:`mamori.provisions.rules`)."""
    without_delay = "without_delay"
    """Promptly after it happened: the responsible party's address or representative."""

    def label(self, lang: str) -> str:
        return t(_lang(lang), _TIMING_WORDS[self])


_TIMING_WORDS = {
    Timing.in_advance: N_("diff.timing.in_advance"),
    Timing.without_delay: N_("diff.timing.without_delay"),
}


@dataclass(frozen=True)
class Change:
    """One change, explained in both languages (kept with the change record as worded when it
    was published)."""

    kind: str
    level: Level
    ja: str
    en: str
    timing: Timing | None = None
    """When people must be told, where the law fixes it."""

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja

    def to_json(self) -> dict[str, str]:
        found = {"kind": self.kind, "level": self.level.value, "ja": self.ja, "en": self.en}
        if self.timing is not None:
            found["timing"] = self.timing.value
        return found


@dataclass(frozen=True)
class PolicyDiff:
    changes: tuple[Change, ...]
    consent_uses: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    """(item, purpose) uses that each person must consent to before they apply to them."""
    consent_recipients: tuple[str, ...] = ()
    """Recipients each person must consent to (``joint_use:<id>:<user>``, and
    ``<relationship>:<id>`` for a recipient abroad, e.g. ``contractor:mailer``)."""

    @property
    def level(self) -> Level:
        return max((c.level for c in self.changes), key=lambda lv: lv.rank, default=Level.cosmetic)

    @property
    def unchanged(self) -> bool:
        return not self.changes

    @property
    def in_advance(self) -> tuple[Change, ...]:
        """The changes people must be told of before they apply (APPI 27(6))."""
        return tuple(c for c in self.changes if c.timing is Timing.in_advance)

    def explain(self, lang: str) -> list[str]:
        """One line per change, most demanding first, each marked with its level (and when
        people must be told, where the law fixes it)."""
        ordered = sorted(self.changes, key=lambda c: -c.level.rank)
        return [
            f"[{c.level.label(lang)}] {c.text(lang)}"
            + (f" ({c.timing.label(lang)})" if c.timing is not None else "")
            for c in ordered
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "changes": [c.to_json() for c in self.changes],
            "consent_uses": sorted([i, p] for i, p in self.consent_uses),
            "consent_recipients": list(self.consent_recipients),
        }
