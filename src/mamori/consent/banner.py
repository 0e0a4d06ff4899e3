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
from typing import Any, Final

import orjson

from mamori.i18n import Lang, t
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
    shown = service.display_name or service.label  # as the provider writes it, if declared
    return {
        "id": service.id,
        "name": shown.get(lang) if shown else service.name,
        "provider": (service.provider.display_name or service.provider.name).get(lang),
        "purpose": service.purpose.get(lang),
        "privacy_policy_url": service.privacy_policy_url,
        "opt_out_url": None if service.opt_out == "none" else service.opt_out,
    }


def build_banner(policy: Policy, version: int, lang: Lang, *, gpc: bool) -> Banner:
    """The banner for ``policy`` (published as ``version``) in ``lang``."""
    cookies = policy.cookies
    off = gpc_categories(cookies) if gpc else ()
    named = (c.label.get(lang) for c in cookies.categories if c.id in off)
    labels = t(lang, "banner.list_separator").join(named) or t(lang, "banner.gpc_default")
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
    # Every text is hashed into the receipts (text_hash): a change of wording is a new text.
    content: dict[str, Any] = {
        "lang": lang,
        "title": t(lang, "banner.title"),
        "body": t(lang, "banner.body", operator=policy.operator.name.get(lang)),
        "accept": t(lang, "banner.accept_gpc", labels=labels) if off else t(lang, "banner.accept"),
        "reject": t(lang, "banner.reject"),
        "settings": t(lang, "banner.settings"),
        "save": t(lang, "banner.save"),
        "always_on": t(lang, "banner.always_on"),
        "gpc_notice": t(lang, "banner.gpc_notice", labels=labels) if off else None,
        "policy": t(lang, "banner.policy"),
        "labels": {
            "services": t(lang, "banner.services"),
            "provider": t(lang, "banner.provider"),
            "purpose": t(lang, "banner.purpose"),
            "privacy_policy": t(lang, "banner.privacy_policy"),
            "opt_out": t(lang, "banner.opt_out"),
            "opt_out_none": t(lang, "banner.opt_out_none"),
        },
        # {service} and {provider} are filled in by the banner's script, for each embed.
        "embed": {
            "notice": t(lang, "banner.embed_notice"),
            "button": t(lang, "banner.embed_button"),
        },
        "categories": categories,
    }
    text = canonical(content).decode("utf-8")
    return Banner(
        version, lang, bool(off), content, text, hashlib.sha256(text.encode()).hexdigest()
    )
