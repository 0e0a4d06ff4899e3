"""The document tree the policy templates render: sections of paragraphs, lists, tables and
sub-sections, each made of text spans (a link when a span has an href). Built by
:mod:`mamori.policy.render`; nothing here knows the policy."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

__all__ = [
    "Block",
    "Document",
    "Entry",
    "Inline",
    "ListBlock",
    "Para",
    "Part",
    "Section",
    "Span",
    "Sub",
    "Table",
    "circled",
    "md_escape",
    "md_inline",
    "para",
    "plain",
    "roman",
]

Lang = Literal["ja", "en"]


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text, a link when ``href`` is set."""

    text: str
    href: str | None = None


Inline = tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Para:
    kind: ClassVar[str] = "para"
    spans: Inline
    marker: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    spans: Inline
    marker: str | None = None
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True, slots=True)
class ListBlock:
    kind: ClassVar[str] = "list"
    entries: tuple[Entry, ...]
    numbered: bool


@dataclass(frozen=True, slots=True)
class Table:
    kind: ClassVar[str] = "table"
    head: tuple[str, ...]
    rows: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True, slots=True)
class Sub:
    """A sub-section: ``(1) heading`` followed by its blocks."""

    kind: ClassVar[str] = "sub"
    marker: str | None
    heading: str
    blocks: tuple[Block, ...]


Block = Para | ListBlock | Table | Sub


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    number: int
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Document:
    lang: Lang
    title: str
    page_title: str
    preamble: tuple[Para, ...]
    sections: tuple[Section, ...]
    version: int | None


Part = tuple[str, str, Sequence[Block]]
"""A section before numbering: its key, heading and blocks."""


def plain(text: str) -> Inline:
    return (Span(text),)


def para(text: str, marker: str | None = None) -> Para:
    return Para(plain(text), marker)


def circled(n: int) -> str:
    """①-⑳, ㉑-㉟, ㊱-㊿ as Japanese documents number list entries; (51) beyond."""
    if 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if 21 <= n <= 35:
        return chr(0x3251 + n - 21)
    if 36 <= n <= 50:
        return chr(0x32B1 + n - 36)
    return f"({n})"


def roman(n: int) -> str:
    numerals = (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    )  # fmt: skip
    out = []
    for value, numeral in numerals:
        count, n = divmod(n, value)
        out.append(numeral * count)
    return "".join(out)


# Markdown escaping: text from the declaration must never become markup.

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_LINE_START = re.compile(r"^([#+=-]|\d+(?=[.)]))")


def md_escape(text: str, *, line_start: bool = True) -> str:
    """Escape text for Markdown, on one line (also safe inside a table cell).

    With ``line_start``, also escape what would open a block there (``#``, ``-``, ``1.``, ...).
    """
    text = " ".join(text.splitlines())
    text = _MD_ENTITY.sub(r"\\&", _MD_SPECIAL.sub(r"\\\1", text))
    match = _MD_LINE_START.match(text) if line_start else None
    if match is None:
        return text
    if match.group(1)[0].isdigit():
        end = match.end()
        return f"{text[:end]}\\{text[end:]}"
    return "\\" + text


_MD_DESTINATION = re.compile(r"([\\()<>])")


def _link(text: str, href: str, *, line_start: bool) -> str:
    if text == href and not re.search(r"[<>\s]", href):
        return f"<{href}>"
    label = md_escape(text, line_start=line_start)
    destination = _MD_DESTINATION.sub(r"\\\1", href)
    return f"[{label}]({destination})"


def md_inline(spans: Sequence[Span]) -> str:
    """Markdown for a run of spans: escaped text and links."""
    out = []
    for n, span in enumerate(spans):
        if span.href is None:
            out.append(md_escape(span.text, line_start=n == 0))
        else:
            out.append(_link(span.text, span.href, line_start=n == 0))
    return "".join(out)
