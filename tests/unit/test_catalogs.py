"""The gettext catalogs are complete: every message in use has its Japanese and English text.

The keys in use are extracted from the sources as ``pybabel extract -F babel.cfg -k t:2 -k N_``
would; each must be in both catalogs with a non-empty translation, both translations must take
the same placeholders, and no catalog keeps a message nothing uses.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from mamori import i18n
from tests.helpers.paths import ROOT

KEYWORDS = {"_": None, "gettext": None, "t": (2,), "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _in_use() -> dict[str, list[str]]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        key = message if isinstance(message, str) else message[0]
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def _catalog(lang: i18n.Lang) -> dict[str, str]:
    with i18n.catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    return {
        m.id: m.string
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    }


@pytest.fixture(scope="module")
def in_use() -> dict[str, list[str]]:
    found = _in_use()
    assert len(found) > 50, "the extraction must find the catalog's keys"
    return found


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_message_in_use_has_its_translation(
    in_use: dict[str, list[str]], lang: i18n.Lang
) -> None:
    catalog = _catalog(lang)
    missing = {key: where[0] for key, where in in_use.items() if not catalog.get(key)}
    assert not missing, f"messages without a {lang} translation: {missing}"


def test_both_catalogs_hold_the_same_messages_and_nothing_unused(
    in_use: dict[str, list[str]],
) -> None:
    ja, en = _catalog("ja"), _catalog("en")
    assert set(ja) == set(en), f"in one catalog only: {sorted(set(ja) ^ set(en))}"
    unused = sorted(set(ja) - set(in_use))
    assert not unused, f"catalog messages nothing uses (remove them): {unused}"


def test_translations_take_the_same_placeholders_and_format() -> None:
    ja, en = _catalog("ja"), _catalog("en")
    for key in ja:
        names = set(PLACEHOLDER.findall(ja[key]))
        assert names == set(PLACEHOLDER.findall(en[key])), key
        for text in (ja[key], en[key]):
            text % dict.fromkeys(names, "x")  # a stray % (write %%) would raise here


def test_t_fills_placeholders_and_knows_both_languages() -> None:
    assert i18n.t("ja", "page.version_of", n=3) == "第3版"
    assert i18n.t("en", "page.version_of", n=3) == "version 3"
    with pytest.raises(ValueError):
        i18n.translations("fr")
