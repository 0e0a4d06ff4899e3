"""わたしのデータ: each item held of the person as a row they can read.

Values are shown as text, never as markup: a link (a ``url`` value, always http or https) is a
link with ``rel="noopener noreferrer nofollow"``; a document shows only its type and size (the
copy itself comes with a disclosure); an address's parts, an external service's ID and a JSON
value are written out on one line.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from mamori.i18n import t
from mamori.policy.model import ValueKind
from mamori.vault.normalize import ADDRESS_FIELDS
from mamori.vault.own import HeldItem
from mamori.web.i18n import Lang

__all__ = ["DataRow", "data_rows"]

_DOCUMENT_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "application/pdf": "PDF"}


@dataclass(frozen=True)
class DataRow:
    id: str
    label: str
    text: str
    href: str | None
    collected_at: dt.datetime


def _text(kind: ValueKind, value: object, lang: Lang) -> str:
    if kind is ValueKind.document and isinstance(value, Mapping):
        data = str(value.get("data", ""))
        size = len(base64.b64decode(data)) if data else 0
        name = _DOCUMENT_NAMES.get(str(value.get("content_type")), "?")
        return t(lang, "page.center_data_document", type=name, size=max(1, round(size / 1024)))
    if kind is ValueKind.address and isinstance(value, Mapping):
        return " ".join(str(value[f]) for f in ADDRESS_FIELDS if value.get(f))
    if kind is ValueKind.external_id and isinstance(value, Mapping):
        return f"{value.get('service')}: {value.get('id')}"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode("utf-8")


def data_rows(held: Sequence[HeldItem], lang: Lang) -> list[DataRow]:
    """The rows of the page, in the policy's order, in ``lang``."""
    return [
        DataRow(
            id=h.item.id,
            label=h.item.label.get(lang),
            text=_text(h.kind, h.value, lang),
            href=str(h.value) if h.kind is ValueKind.url else None,
            collected_at=h.collected_at,
        )
        for h in held
    ]
