"""Languages of the pages: negotiation and the words of the page chrome (Japanese first)."""

from __future__ import annotations

from typing import Literal

__all__ = ["LANGUAGES", "Lang", "negotiate", "parse_accept_language", "words"]

Lang = Literal["ja", "en"]
LANGUAGES: tuple[Lang, ...] = ("ja", "en")


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


_WORDS: dict[str, dict[Lang, str]] = {
    "site_title": {"ja": "mamori", "en": "mamori"},
    "tagline": {
        "ja": "プライバシーポリシーを、宣言どおりに動く仕組みに。",
        "en": "The privacy policy that enforces itself.",
    },
    "privacy_policy": {"ja": "プライバシーポリシー", "en": "Privacy policy"},
    "versions": {"ja": "改訂履歴と過去の版", "en": "Revision history and earlier versions"},
    "version": {"ja": "版", "en": "Version"},
    "published_at": {"ja": "公開日時", "en": "Published"},
    "effective_date": {"ja": "施行日", "en": "Effective"},
    "content_hash": {"ja": "内容のハッシュ値", "en": "Content hash"},
    "current": {"ja": "現行版", "en": "current"},
    "switch_language": {"ja": "English", "en": "日本語"},
    "api": {"ja": "API (OpenAPI)", "en": "API (OpenAPI)"},
    "health": {"ja": "稼働状況", "en": "Health"},
    "not_found": {"ja": "ページが見つかりません", "en": "Page not found"},
    "error": {"ja": "エラー", "en": "Error"},
    "back_home": {"ja": "トップへ戻る", "en": "Back to the start page"},
    "version_of": {"ja": "第{n}版", "en": "version {n}"},
    "earlier_version_notice": {
        "ja": "これは過去の版です。現行版は次のページにあります:",
        "en": "This is an earlier version. The current version is here:",
    },
}


def words(lang: Lang) -> dict[str, str]:
    return {key: value[lang] for key, value in _WORDS.items()}
