"""The page language of a request: ``?lang=``, then Accept-Language, then the default.

The words themselves are in the gettext catalogs (:mod:`mamori.i18n`)."""

from __future__ import annotations

from mamori.i18n import LANGUAGES, Lang

__all__ = ["LANGUAGES", "Lang", "negotiate", "parse_accept_language"]


def parse_accept_language(header: str) -> list[str]:
    """Primary language tags of an Accept-Language header, best first (RFC 9110 12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, tag.split("-")[0]))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(query: str | None, accept_language: str | None, default: Lang) -> Lang:
    """``?lang=`` wins, then Accept-Language, then the default. Raises ValueError on bad query."""
    if query is not None:
        if query not in LANGUAGES:
            raise ValueError(query)
        return query
    for tag in parse_accept_language(accept_language or ""):
        if tag == "ja":
            return "ja"
        if tag == "en":
            return "en"
        if tag == "*":
            return default
    return default
