"""The admin console's frame: its menu, the dashboard's cards, its words, and page rendering.

Other parts of mamori add themselves to the console here, at import time:

- :func:`add` puts an entry in the menu (``admin_nav.add("受付一覧", "Requests",
  "/admin/requests", order=10)``); entries are shown by ``order``, then path.
- :func:`add_card` puts a card on the dashboard: a function of a read connection and the runtime
  that returns a :class:`Card` (a label, a count, a link), or ``None`` to show nothing.

Pages extend ``admin/base.html`` and fill its ``content`` block; :func:`render` gives them the
language, the words (``aw`` in templates) and what the frame needs (menu, signed-in staff).
The frame's words are in ``templates/admin/words.toml``, Japanese and English.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from mamori.store.db import Connection
from mamori.web.i18n import LANGUAGES, Lang
from mamori.web.rendering import page, request_lang, templates

if TYPE_CHECKING:
    from mamori.app import Runtime

__all__ = [
    "Card",
    "NavEntry",
    "add",
    "add_card",
    "cards",
    "entries",
    "lang_url",
    "render",
    "words",
]

WORDS_FILE = Path(__file__).resolve().parents[1] / "templates" / "admin" / "words.toml"


@dataclass(frozen=True)
class NavEntry:
    label_ja: str
    label_en: str
    path: str
    order: int

    def label(self, lang: Lang) -> str:
        return self.label_ja if lang == "ja" else self.label_en


@dataclass(frozen=True)
class Card:
    """One card of the dashboard: a label, a value (usually a count) and where to look."""

    label_ja: str
    label_en: str
    value: int | str
    path: str | None = None
    note_ja: str = ""
    note_en: str = ""
    attention: bool = False
    """Shown highlighted (overdue requests, undelivered mail, ...)."""

    def label(self, lang: Lang) -> str:
        return self.label_ja if lang == "ja" else self.label_en

    def note(self, lang: Lang) -> str:
        return self.note_ja if lang == "ja" else self.note_en


CardSource = Callable[[Connection, "Runtime"], Card | None]

_entries: dict[str, NavEntry] = {}
_cards: dict[str, tuple[int, CardSource]] = {}


def add(label_ja: str, label_en: str, path: str, order: int = 50) -> None:
    """Put ``path`` in the console's menu (adding the same path again replaces its entry)."""
    if not path.startswith("/admin"):
        raise ValueError(f"an admin-console menu entry lives under /admin, not {path!r}")
    _entries[path] = NavEntry(label_ja, label_en, path, order)


def entries() -> list[NavEntry]:
    return sorted(_entries.values(), key=lambda e: (e.order, e.path))


def add_card(key: str, source: CardSource, order: int = 50) -> None:
    """Show the card ``source`` returns on the dashboard (the same key again replaces it)."""
    _cards[key] = (order, source)


def cards(conn: Connection, runtime: Runtime) -> list[Card]:
    """Every card, in order, computed inside one read transaction."""
    found = []
    for _, key in sorted((order, key) for key, (order, _) in _cards.items()):
        card = _cards[key][1](conn, runtime)
        if card is not None:
            found.append(card)
    return found


@functools.cache
def _words() -> dict[str, dict[str, str]]:
    with WORDS_FILE.open("rb") as f:
        data = tomllib.load(f)
    for key, value in data.items():
        if set(value) != set(LANGUAGES):
            raise ValueError(f"{WORDS_FILE.name}: {key} needs exactly ja and en")
    return data


def words(lang: Lang) -> dict[str, str]:
    """The console's words in ``lang`` (``aw.key`` in templates)."""
    return {key: value[lang] for key, value in _words().items()}


def lang_url(request: Request, path: str, **query: str) -> str:
    """``path`` with ``query``, keeping an explicit, valid ``?lang=`` of the request."""
    lang = request.query_params.get("lang")
    params = dict(query)
    if lang in LANGUAGES:
        params = {"lang": lang, **params}
    if not params:
        return path
    return path + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def _nav(request: Request) -> list[dict[str, Any]]:
    lang = request_lang(request, strict=False)
    here = request.url.path
    found = []
    for entry in entries():
        current = here == entry.path or (
            entry.path != "/admin" and here.startswith(entry.path + "/")
        )
        found.append({"label": entry.label(lang), "path": entry.path, "current": current})
    return found


templates.env.globals["admin_nav"] = _nav
templates.env.globals["admin_words"] = words


def render(
    request: Request,
    name: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The console page ``name`` in the request's language (``admin/base.html`` and its frame)."""
    lang = request_lang(request)
    return page(
        request,
        name,
        lang,
        status_code=status_code,
        headers=headers,
        aw=words(lang),
        **context,
    )
