"""The admin console's frame: its menu, the dashboard's cards, and page rendering.

Other parts of mamori add themselves to the console here, at import time:

- :func:`add` puts an entry in the menu (``nav.add(N_("admin.nav_requests"), "/admin/requests",
  order=10)``: the key of its label in the catalogs); entries are shown by ``order``, then path,
  to the staff whose role holds the entry's ``permission`` (that of the page it leads to).
- :func:`add_card` puts a card on the dashboard: a function of a read connection and the runtime
  that returns a :class:`Card` (the key of its label, a count, a link), or ``None`` to show
  nothing; shown to the staff whose role holds its ``permission``.

Pages extend ``admin/base.html`` and fill its ``content`` block; :func:`render` gives them the
language and what the frame needs (menu, signed-in staff). The console's words are messages of
the catalogs (``admin.*``, :mod:`mamori.i18n`): ``{{ _("admin.dashboard") }}`` in templates.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from mamori.i18n import t
from mamori.staff.permissions import PERMISSIONS, Permission
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
]


@dataclass(frozen=True)
class NavEntry:
    label_key: str
    """The message key of the entry's label (mark it with ``N_``)."""
    path: str
    order: int
    permission: Permission = Permission.console_view

    def label(self, lang: Lang) -> str:
        return t(lang, self.label_key)


@dataclass(frozen=True)
class Card:
    """One card of the dashboard: a label, a value (usually a count) and where to look.

    ``label_key`` and ``note_key`` are message keys (mark them with ``N_``); ``note_params``
    fill the note's placeholders."""

    label_key: str
    value: int | str
    path: str | None = None
    note_key: str | None = None
    note_params: Mapping[str, object] = field(default_factory=dict)
    attention: bool = False
    """Shown highlighted (overdue requests, undelivered mail, ...)."""

    def label(self, lang: Lang) -> str:
        return t(lang, self.label_key)

    def note(self, lang: Lang) -> str:
        return t(lang, self.note_key, **self.note_params) if self.note_key else ""


CardSource = Callable[[Connection, "Runtime"], Card | None]

_entries: dict[str, NavEntry] = {}
_cards: dict[str, tuple[int, CardSource, Permission]] = {}


def add(
    label_key: str,
    path: str,
    order: int = 50,
    *,
    permission: Permission = Permission.console_view,
) -> None:
    """Put ``path`` in the console's menu, labelled by the message ``label_key``, for the staff
    who hold ``permission`` (adding the same path again replaces its entry)."""
    if not path.startswith("/admin"):
        raise ValueError(f"an admin-console menu entry lives under /admin, not {path!r}")
    _entries[path] = NavEntry(label_key, path, order, permission)


def entries() -> list[NavEntry]:
    return sorted(_entries.values(), key=lambda e: (e.order, e.path))


def add_card(
    key: str,
    source: CardSource,
    order: int = 50,
    *,
    permission: Permission = Permission.console_view,
) -> None:
    """Show the card ``source`` returns on the dashboard to the staff who hold ``permission``
    (the same key again replaces it)."""
    _cards[key] = (order, source, permission)


def cards(conn: Connection, runtime: Runtime, allowed: Collection[Permission]) -> list[Card]:
    """Every card whose permission is ``allowed``, in order, computed inside one read
    transaction."""
    found = []
    for _, key in sorted((order, key) for key, (order, _, _) in _cards.items()):
        _, source, permission = _cards[key]
        if permission not in allowed:
            continue
        card = source(conn, runtime)
        if card is not None:
            found.append(card)
    return found


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
    # The signed-in member's session (mamori.web.admin.auth keeps it on the request).
    session = getattr(request.state, "admin_session", None)
    allowed = PERMISSIONS[session.account.role] if session is not None else frozenset()
    found = []
    for entry in entries():
        if entry.permission not in allowed:
            continue
        current = here == entry.path or (
            entry.path != "/admin" and here.startswith(entry.path + "/")
        )
        found.append({"label": entry.label(lang), "path": entry.path, "current": current})
    return found


def _switch_language(request: Request, lang: str) -> str:
    """The page in ``lang``, with its other query parameters (a ledger's filters, a page's
    cursor) kept."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + "?" + urlencode([*params, ("lang", lang)])


templates.env.globals["admin_nav"] = _nav
templates.env.globals["admin_switch_language"] = _switch_language


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
    return page(request, name, lang, status_code=status_code, headers=headers, **context)
