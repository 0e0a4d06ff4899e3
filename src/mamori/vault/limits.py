"""The vault's size limits and blind-index width (from the settings)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    max_value_bytes: int = 64 * 1024
    max_document_bytes: int = 5 * 1024 * 1024
    blind_index_bits: int = 19
