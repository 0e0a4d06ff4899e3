"""What people read, in Japanese first and English: gettext catalogs and the language tag.

Every string a person reads (pages, mail, command-line messages, the words the rendered policy
adds around the declaration) is a message of the ``mamori`` catalog, found by a stable key such
as ``center.title``, with one translation per language in
``mamori/locale/<lang>/LC_MESSAGES/mamori.po``. Neither language is the source: both catalogs
are complete, and a test fails when a message lacks either translation
(``tests/test_catalogs.py``). The ``.po`` files are compiled in memory on first use, so
there is no build step and no compiled file to keep in step. The policy's own texts (purposes,
items, the operator's name) stay in policy.yaml.

- Python: ``t(lang, "center.title")``; with placeholders ``t(lang, "version.of", n=3)``
  (``%(n)s`` in the catalog, printf style, so a literal percent sign is ``%%``).
- Jinja2 templates: :func:`install` adds the i18n extension; ``{{ _("center.title") }}`` and
  ``{{ _("version.of", n=3) }}`` translate into the template's ``lang`` variable.

``pybabel extract -F babel.cfg -k t:2 -k N_`` finds every key in use (the keywords ``_``, ``t``
(its second argument) and ``N_``, which marks a key a table holds for later).
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any, Final, Literal, get_args

import jinja2
import markupsafe
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "N_", "Lang", "catalog_path", "install", "t"]

Lang = Literal["ja", "en"]
LANGUAGES: Final[tuple[Lang, ...]] = get_args(Lang)
"""The languages people read, Japanese first."""

DOMAIN: Final = "mamori"
LOCALE_DIR: Final = Path(__file__).parent / "locale"


def catalog_path(lang: Lang) -> Path:
    """The ``.po`` file of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: Lang) -> Translations:
    """The compiled catalog of ``lang`` (read and compiled once per process)."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalog for language {lang!r}")
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def t(lang: Lang, key: str, /, **params: object) -> str:
    """The message ``key`` in ``lang``, its ``%(name)s`` placeholders filled from ``params``.

    Always %-formatted, as Jinja's newstyle gettext does: ``%%`` is a percent sign either way."""
    text: str = translations(lang).gettext(key)
    return text % params


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, key: str) -> str:
    text: str = translations(_lang_of(context)).gettext(key)
    # Escaped like any other text of an HTML template (the i18n extension would otherwise mark
    # the translation safe); the placeholders' values are escaped as they are filled in.
    return markupsafe.escape(text) if context.eval_ctx.autoescape else text


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    text: str = translations(_lang_of(context)).ngettext(singular, plural, n)
    return markupsafe.escape(text) if context.eval_ctx.autoescape else text


def N_(key: str) -> str:
    """Mark ``key`` as a message for extraction where it is looked up later (``t(lang, key)``
    with a key held in a table)."""
    return key


def _lang_of(context: jinja2.runtime.Context) -> Lang:
    lang: Any = context.get("lang")
    if lang not in LANGUAGES:
        raise jinja2.UndefinedError("a translated template needs 'lang' (ja or en) in its context")
    return lang  # type: ignore[no-any-return]


def install(env: jinja2.Environment) -> jinja2.Environment:
    """Let ``env``'s templates translate with ``_()`` into their context's ``lang``."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    return env
