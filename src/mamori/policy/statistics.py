"""What a purpose declares for statistics and for pseudonymised exports (pure, no I/O).

A statistics-only purpose (``statistics_only: true``) may declare ``statistics``: the smallest
number of people a published cell may count (``min_cell``, k, default 10) and the dimensions its
counts may be grouped by, each derived from one of the purpose's items (the prefecture of an
address, the age band of a date of birth, a device model as it is) or the month (of a usage
event, or of the person's arrival). A purpose may declare ``pseudonymised``: it uses the items
only as pseudonymised information (仮名加工情報, APPI 41), exported with the items of ``keep``
as they are, those of ``pseudonymise`` replaced by keyed pseudonyms, and every other item of the
purpose dropped. What must go (rule 31: descriptions that identify a person, every identifier
code, data whose leak could cause financial loss) is decided by the items' kinds and flags
(:func:`mamori.policy.processing.must_drop`), and the policy's checks refuse a declaration
that keeps any of it (:func:`mamori.policy.processing.problems`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = ["DEFAULT_MIN_CELL", "Derive", "Dimension", "Pseudonymisation", "StatisticsSpec"]

DEFAULT_MIN_CELL = 10
"""k: a cell counting fewer people than this is suppressed, unless the purpose says otherwise."""

_Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Derive(StrEnum):
    """How a dimension's group is derived from its item's value."""

    prefecture = "prefecture"
    """The prefecture of an address (item of kind ``address``)."""
    age_band = "age_band"
    """The ten-year age band of a date of birth (item of kind ``date``), on the day of the query."""
    value = "value"
    """The value as it is (a device model, an OS version: items of kind ``text``)."""
    month = "month"
    """The month (YYYY-MM, in the operator's time zone) of a usage event, or of the person's
    arrival when the query counts people; no item."""


TOKENISED: Final = frozenset({Derive.prefecture, Derive.value})
"""Derivations whose group does not change with the day: the vault keeps them as tokens, so that
a count grouped by them is a GROUP BY in the database (an age band changes on a birthday, a
month is the arrival time's)."""


class Dimension(_Model):
    id: _Id
    derive: Derive
    item: _Id | None = None
    """The item the group is derived from (none for ``month``)."""


class StatisticsSpec(_Model):
    min_cell: Annotated[int, Field(ge=2, le=1000)] = DEFAULT_MIN_CELL
    dimensions: list[Dimension] = Field(default_factory=list)


class Pseudonymisation(_Model):
    keep: list[_Id] = Field(default_factory=list)
    """Items written as they are."""
    pseudonymise: list[_Id] = Field(default_factory=list)
    """Items replaced by a keyed pseudonym (the same value, the same pseudonym, in one key's
    lifetime); the key is sealed, and replacing or destroying it severs every link."""
