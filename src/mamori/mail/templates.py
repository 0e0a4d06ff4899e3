"""Mail templates: Jinja2 text, packaged once for both languages, and the operator's overrides.

A packaged template is ``<name>.txt`` beside this module: a first line ``Subject: ...``, a blank
line, then the body. Its words are messages of the catalogs (:mod:`mamori.i18n`), one a
paragraph: ``{{ _("mail.test.body") }}``, ``{{ _("mail.test.subject", operator=operator) }}``,
translated into the mail's language (the variable ``lang``, which every template gets). Both
lines are Jinja2 (autoescape off: this is text); a variable the context lacks is an error, never
an empty string.

The operator's templates, in ``MAMORI_MAIL_TEMPLATES_DIR``, are one file per language,
``<name>.<lang>.txt`` (``lang`` is ``ja`` or ``en``), of the same form (written out, or with
``_()`` too): each replaces the packaged template of that name in that language, and a new name
adds a template. Every template must exist in both languages: :meth:`MailTemplates.check` says
which do not (an operator's template with no packaged one behind it and only one language), and
:class:`~mamori.mail.mailer.Mailer` runs it at start.

Names starting with ``_`` are parts mamori adds to other mail (the opt-out footer of marketing
mail), not mail of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import jinja2

from mamori import i18n
from mamori.errors import MailTemplateError

__all__ = ["LANGUAGES", "PACKAGED", "MailTemplates", "Rendered"]

LANGUAGES: Final = ("ja", "en")
PACKAGED: Final = Path(__file__).parent / "templates"
_NAME = r"(_?[a-z][a-z0-9_]{0,62})"
_FILE = re.compile(_NAME + r"\.([a-z]{2})\.txt")
"""An operator's template: one language."""
_PACKAGED_FILE = re.compile(_NAME + r"\.txt")
"""A packaged template: both languages, through the catalogs."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@dataclass(frozen=True)
class _Source:
    path: Path
    subject: str
    body: str


class MailTemplates:
    """The templates of the packaged folder, overridden by the operator's folder (if any)."""

    def __init__(self, override: Path | None = None) -> None:
        self.override = override
        self._env = i18n.install(
            jinja2.Environment(
                autoescape=False,
                undefined=jinja2.StrictUndefined,
                keep_trailing_newline=True,
            )
        )
        self._files: dict[tuple[str, str], Path] = {}
        self._scan_packaged()
        if override is not None:
            if not override.is_dir():
                raise MailTemplateError(f"MAMORI_MAIL_TEMPLATES_DIR: {override} is not a folder")
            self._scan(override)
        self._cache: dict[tuple[str, str], tuple[jinja2.Template, jinja2.Template]] = {}

    def _scan_packaged(self) -> None:
        for path in sorted(PACKAGED.glob("*.txt")):
            match = _PACKAGED_FILE.fullmatch(path.name)
            if match is None:
                raise MailTemplateError(f"{path}: a packaged mail template is named <template>.txt")
            for lang in LANGUAGES:
                self._files[(match[1], lang)] = path

    def _scan(self, folder: Path) -> None:
        for path in sorted(folder.glob("*.txt")):
            match = _FILE.fullmatch(path.name)
            if match is None:
                raise MailTemplateError(
                    f"{path}: a mail template is named <template>.<ja|en>.txt "
                    "(lower-case letters, digits and _)"
                )
            name, lang = match[1], match[2]
            if lang not in LANGUAGES:
                raise MailTemplateError(f"{path}: language '{lang}' is not ja or en")
            self._files[(name, lang)] = path

    @property
    def names(self) -> list[str]:
        return sorted({name for name, _ in self._files})

    def path(self, name: str, lang: str) -> Path:
        path = self._files.get((name, lang))
        if path is None:
            if not any(n == name for n, _ in self._files):
                raise MailTemplateError(f"mail template '{name}' does not exist")
            raise MailTemplateError(f"mail template '{name}' has no '{lang}' version")
        return path

    def _read(self, name: str, lang: str) -> _Source:
        path = self.path(name, lang)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MailTemplateError(
                f"{path}: cannot be read as UTF-8 ({type(exc).__name__})"
            ) from None
        first, sep, body = text.replace("\r\n", "\n").partition("\n")
        if name.startswith("_"):  # a part: body only
            return _Source(path, "", text)
        if not first.startswith("Subject:") or not sep or not body.startswith("\n"):
            raise MailTemplateError(
                f"{path}:1: a mail template starts with 'Subject: ...' and a blank line"
            )
        return _Source(path, first.removeprefix("Subject:").strip(), body[1:])

    def _compiled(self, name: str, lang: str) -> tuple[jinja2.Template, jinja2.Template]:
        compiled = self._cache.get((name, lang))
        if compiled is None:
            source = self._read(name, lang)
            offset = 0  # the body starts on line 3 of the file (line 1 for a part)
            try:
                subject = self._env.from_string(source.subject)
                offset = 0 if name.startswith("_") else 2
                compiled = (subject, self._env.from_string(source.body))
            except jinja2.TemplateSyntaxError as exc:
                raise MailTemplateError(
                    f"{source.path}:{exc.lineno + offset}: template syntax error: {exc.message}"
                ) from None
            self._cache[(name, lang)] = compiled
        return compiled

    def render(self, name: str, lang: str, context: Mapping[str, object]) -> Rendered:
        """Subject (whitespace folded to single spaces: it is a header) and body of ``name``."""
        if lang not in LANGUAGES:
            raise MailTemplateError(f"mail language '{lang}' is not ja or en")
        subject, body = self._compiled(name, lang)
        full = {**context, "lang": lang}  # the language _() translates into
        try:
            rendered_subject = subject.render(full)
            rendered_body = body.render(full)
        except jinja2.UndefinedError as exc:
            # Jinja's message names the missing variable ("'code' is undefined"), not a value.
            raise MailTemplateError(f"mail template '{name}' ({lang}): {exc.message}") from None
        return Rendered(" ".join(rendered_subject.split()), rendered_body)

    def check(self) -> list[str]:
        """Problems with the templates (missing language, bad first line, syntax), one a line."""
        problems: list[str] = []
        for name in self.names:
            for lang in LANGUAGES:
                try:
                    self._compiled(name, lang)
                except MailTemplateError as exc:
                    problems.append(exc.message)
        return problems
