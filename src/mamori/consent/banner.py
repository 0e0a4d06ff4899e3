"""What the cookie banner shows, built from the declaration's cookie registry. Pure, no I/O.

One :class:`Banner` per policy version, language and GPC state: its :attr:`Banner.content` is
everything the banner can put on the screen (title, body, buttons, every category with its
services: name, provider, purpose, privacy-policy and opt-out links, the video placeholder's
words). The script and the server-rendered form both render exactly this content, and a receipt
records :attr:`Banner.text_hash`: SHA-256 of its canonical JSON (keys sorted, UTF-8, compact), so
the text a person saw can be proven later (the text itself is kept beside the receipts).

Global Privacy Control turns *advertising and marketing* categories off by default: the
categories that are not required and grant a Google Consent Mode ``ad_*`` type, or are named
``advertising`` or ``marketing``. With GPC the banner says so, and "accept" leaves them off; a
person who turns one on in the settings gets it (an explicit choice wins).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson

from mamori.policy.model import ConsentCategory, Cookies, Policy

__all__ = [
    "CONSENT_MODE_TYPES",
    "Banner",
    "build_banner",
    "canonical",
    "consent_mode_state",
    "gpc_categories",
    "section_hash",
]

Lang = Literal["ja", "en"]

CONSENT_MODE_TYPES: Final = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)
"""The seven Google Consent Mode v2 types; a type no granted category maps stays denied."""

_AD_TYPES: Final = frozenset({"ad_storage", "ad_user_data", "ad_personalization"})
_AD_NAMES: Final = frozenset({"advertising", "marketing", "ads"})

_WORDS: Final[dict[str, dict[Lang, str]]] = {
    "title": {"ja": "クッキーの利用について", "en": "Cookies on this site"},
    "body": {
        "ja": "{operator}は、本サイト等でクッキーと外部のツールを利用しています。必須のもの以外は、"
        "同意いただいたものだけを利用します。選択は、いつでも変更できます。",
        "en": "{operator} uses cookies and external tools on this site. Apart from the strictly "
        "necessary ones, we use only those you agree to. You can change your choice at any time.",
    },
    "accept": {"ja": "すべて同意する", "en": "Accept all"},
    "accept_gpc": {"ja": "同意する({labels}を除く)", "en": "Accept (except {labels})"},
    "reject": {"ja": "すべて拒否する", "en": "Reject all"},
    "settings": {"ja": "項目ごとに選ぶ", "en": "Choose by category"},
    "save": {"ja": "選んだ内容で保存する", "en": "Save my choice"},
    "always_on": {"ja": "常に有効", "en": "Always on"},
    "services": {"ja": "サービスごとの設定", "en": "Settings by service"},
    "provider": {"ja": "提供者", "en": "Provider"},
    "purpose": {"ja": "利用目的", "en": "Purpose"},
    "privacy_policy": {"ja": "プライバシーポリシー", "en": "Privacy policy"},
    "opt_out": {"ja": "オプトアウト", "en": "Opt-out"},
    "opt_out_none": {"ja": "オプトアウト: 提供なし", "en": "Opt-out: none offered"},
    "policy": {"ja": "プライバシーポリシー(Cookieについて)", "en": "Privacy policy (cookies)"},
    "gpc_notice": {
        "ja": "ブラウザーからグローバル・プライバシー・コントロール(GPC)の信号を受け取ったため、"
        "{labels}はオフにしています。項目ごとの設定でオンにすることもできます。",
        "en": "Your browser sent a Global Privacy Control (GPC) signal, so {labels} is off. You "
        "can still turn it on in the settings by category.",
    },
    "embed_notice": {
        "ja": "このコンテンツは{service}({provider})から読み込まれます。表示すると、{provider}が"
        "クッキーを利用します。",
        "en": "This content is loaded from {service} ({provider}). If you show it, {provider} "
        "uses cookies.",
    },
    "embed_button": {"ja": "同意して表示する", "en": "Agree and show"},
}

_LIST_SEP: Final[dict[Lang, str]] = {"ja": "・", "en": " and "}


def canonical(value: Any) -> bytes:
    """Compact JSON, keys sorted, UTF-8: the bytes that are hashed."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _sha256(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def section_hash(cookies: Cookies) -> str:
    """SHA-256 (hex) of the policy's cookie section: a change asks everyone again."""
    return _sha256(cookies.model_dump(mode="json", by_alias=True))


def _is_gpc(category: ConsentCategory) -> bool:
    if category.required:
        return False
    return bool(_AD_TYPES.intersection(category.consent_mode)) or category.id in _AD_NAMES


def gpc_categories(cookies: Cookies) -> tuple[str, ...]:
    """The categories Global Privacy Control turns off by default (advertising, marketing)."""
    return tuple(c.id for c in cookies.categories if _is_gpc(c))


def consent_mode_state(cookies: Cookies, granted: Mapping[str, bool] | None) -> dict[str, str]:
    """Google Consent Mode v2 state of all seven types.

    ``granted``: the person's categories (``None`` before any choice: only required ones).
    A type is granted when any granted category maps it.
    """
    on: set[str] = set()
    for category in cookies.categories:
        if category.required or (granted is not None and granted.get(category.id)):
            on.update(category.consent_mode)
    return {t: "granted" if t in on else "denied" for t in CONSENT_MODE_TYPES}


@dataclass(frozen=True)
class Banner:
    """The banner of one policy version, in one language, with or without the GPC signal."""

    version: int
    lang: Lang
    gpc: bool
    content: dict[str, Any]
    text: str
    """Canonical JSON of :attr:`content`: exactly what is hashed and kept as proof."""
    text_hash: str


def _service(policy: Policy, lang: Lang, service_id: str) -> dict[str, Any]:
    service = next(s for s in policy.cookies.services if s.id == service_id)
    return {
        "id": service.id,
        "name": service.label.get(lang) if service.label else service.name,
        "provider": service.provider.name.get(lang),
        "purpose": service.purpose.get(lang),
        "privacy_policy_url": service.privacy_policy_url,
        "opt_out_url": None if service.opt_out == "none" else service.opt_out,
    }


def build_banner(policy: Policy, version: int, lang: Lang, *, gpc: bool) -> Banner:
    """The banner for ``policy`` (published as ``version``) in ``lang``."""
    cookies = policy.cookies
    words = {key: value[lang] for key, value in _WORDS.items()}
    off = gpc_categories(cookies) if gpc else ()
    labels = _LIST_SEP[lang].join(c.label.get(lang) for c in cookies.categories if c.id in off) or (
        "広告" if lang == "ja" else "advertising"
    )
    categories = [
        {
            "id": c.id,
            "label": c.label.get(lang),
            "description": c.description.get(lang) if c.description else None,
            "required": c.required,
            "gpc": c.id in off,
            "services": [
                _service(policy, lang, s.id) for s in cookies.services if s.category == c.id
            ],
        }
        for c in cookies.categories
    ]
    content: dict[str, Any] = {
        "lang": lang,
        "title": words["title"],
        "body": words["body"].format(operator=policy.operator.name.get(lang)),
        "accept": words["accept_gpc"].format(labels=labels) if off else words["accept"],
        "reject": words["reject"],
        "settings": words["settings"],
        "save": words["save"],
        "always_on": words["always_on"],
        "gpc_notice": words["gpc_notice"].format(labels=labels) if off else None,
        "policy": words["policy"],
        "labels": {
            key: words[key]
            for key in ("services", "provider", "purpose", "privacy_policy", "opt_out")
        }
        | {"opt_out_none": words["opt_out_none"]},
        "embed": {"notice": words["embed_notice"], "button": words["embed_button"]},
        "categories": categories,
    }
    text = canonical(content).decode("utf-8")
    return Banner(
        version, lang, bool(off), content, text, hashlib.sha256(text.encode()).hexdigest()
    )
