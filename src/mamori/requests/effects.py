"""Steps of a granted request that other domains own, listed in the built-in parts
(:mod:`mamori.app.parts`): a correction and an erasure reaching the operator's connected
databases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Correction", "RequestErasure"]


@dataclass(frozen=True)
class Correction:
    """``apply(ctx, subject_id, values, actor)``: write the corrected ``values`` (item id ->
    new value) where this part keeps them, before the vault's own write; returns the rows
    changed. It runs in no transaction of the caller's; an error stops the decision."""

    name: str
    apply: Callable[[Any, str, Mapping[str, Any], str], int]


@dataclass(frozen=True)
class RequestErasure:
    """``apply(ctx, request_id, actor)``: erase the person of the erasure request
    ``request_id`` where this part keeps their data, before the vault shreds them (the vault's
    values find the rows); returns the rows erased. An error stops the decision, and the part
    keeps its own visible state (the plan, the step that failed, its reason)."""

    name: str
    apply: Callable[[Any, str, str], int]
