"""Steps of a granted request that other domains own, listed in the built-in parts
(:mod:`mamori.app.parts`): a correction, an erasure and a stop reaching the operator's
connected databases."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Correction", "RequestErasure", "RequestStop"]


@dataclass(frozen=True)
class Correction:
    """``apply(ctx, subject_id, values, actor)``: write the corrected ``values`` (item id ->
    new value) where this part keeps them, before the vault's own write; returns the rows
    changed. It runs in no transaction of the caller's; an error stops the decision."""

    name: str
    apply: Callable[[Any, str, Mapping[str, Any], str], int]


@dataclass(frozen=True)
class RequestErasure:
    """``apply(ctx, request_id, items, actor)``: erase, where this part keeps them, the
    person of the erasure request ``request_id`` before the vault shreds them (no ``items``),
    or only ``items`` before the vault erases those (the vault's values find the rows);
    returns the rows erased. An error stops the decision, and the part keeps its own visible
    state (the plan, the step that failed, its reason)."""

    name: str
    apply: Callable[[Any, str, Sequence[str], str], int]


@dataclass(frozen=True)
class RequestStop:
    """``apply(ctx, subject_id, items, request_id, actor)``: a granted usage stop or stop of
    third-party provision of ``items`` (empty: every item) that this part cannot carry out
    itself, recorded for the host to honour; returns the ids of the places that hold the
    stopped items for the person, to name in the notice. With ``actor`` None nothing is
    recorded (the notice's preview). An error stops the decision."""

    name: str
    apply: Callable[[Any, str, Sequence[str], str, str | None], list[str]]
