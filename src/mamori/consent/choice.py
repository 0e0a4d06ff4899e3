"""A person's cookie choice: checked against the registry, and its first-party cookie. Pure.

A :class:`Choice` names every category and every service of the policy version with ``True``
(may run) or ``False``. Required categories are always ``True``; a service of a refused
category is ``False``; a service not named follows its category.

The cookie ``mamori_consent`` (first-party: the banner script sets it on the site's own domain,
mamori's server-rendered form on mamori's) holds no personal data::

    <consent id>.<cookie-section hash, 16 hex>.<unix time of the choice>.<granted>.<refused>

``granted``: the optional categories given consent, ``refused``: services refused inside them,
each a ``-``-separated list of ids (ids hold only ``a-z0-9_``). The script and the server read
the same format; a cookie of another cookie section, or older than the consent period, is no
choice at all (the banner asks again).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from mamori.errors import ConsentChoiceInvalid
from mamori.policy.model import Cookies

__all__ = [
    "CONSENT_ID",
    "COOKIE",
    "METHODS",
    "Choice",
    "Method",
    "StoredChoice",
    "accept_all",
    "choice_from_cookie",
    "cookie_lists",
    "decode_cookie",
    "encode_cookie",
    "new_consent_id",
    "normalise",
    "reject_all",
]

COOKIE: Final = "mamori_consent"
CONSENT_ID: Final = re.compile(r"[A-Za-z0-9_-]{22}")
"""A consent ID: 16 random bytes, base64url without padding."""

Method = Literal["accept_all", "reject_all", "custom"]
METHODS: Final = ("accept_all", "reject_all", "custom")

_COOKIE = re.compile(
    r"(?P<id>[A-Za-z0-9_-]{22})\.(?P<section>[0-9a-f]{16})\.(?P<at>[0-9]{1,12})"
    r"\.(?P<granted>[a-z0-9_-]*)\.(?P<refused>[a-z0-9_-]*)"
)


def new_consent_id() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Choice:
    categories: dict[str, bool]
    services: dict[str, bool]

    def granted(self) -> tuple[str, ...]:
        return tuple(c for c, on in self.categories.items() if on)


def normalise(
    cookies: Cookies,
    categories: Mapping[str, object],
    services: Mapping[str, object] | None = None,
) -> Choice:
    """The full choice from what the person sent; unknown ids and non-booleans are refused."""
    known = {c.id: c for c in cookies.categories}
    for name, value in categories.items():
        if name not in known:
            raise ConsentChoiceInvalid(f"unknown cookie category {name!r}"[:120])
        if not isinstance(value, bool):
            raise ConsentChoiceInvalid(f"category {name!r}: give true or false")
    service_ids = {s.id for s in cookies.services}
    for name, value in (services or {}).items():
        if name not in service_ids:
            raise ConsentChoiceInvalid(f"unknown cookie service {name!r}"[:120])
        if not isinstance(value, bool):
            raise ConsentChoiceInvalid(f"service {name!r}: give true or false")
    chosen = {c.id: c.required or categories.get(c.id) is True for c in cookies.categories}
    return Choice(
        chosen,
        {
            s.id: chosen[s.category] and (services or {}).get(s.id, True) is True
            for s in cookies.services
        },
    )


def accept_all(cookies: Cookies, *, off: tuple[str, ...] = ()) -> Choice:
    """Everything, except the categories in ``off`` (those GPC turns off)."""
    return normalise(cookies, {c.id: c.id not in off for c in cookies.categories})


def reject_all(cookies: Cookies) -> Choice:
    return normalise(cookies, {})


@dataclass(frozen=True)
class StoredChoice:
    """What the cookie says: the consent ID and, when still valid, the choice."""

    consent_id: str
    chosen_at: dt.datetime
    granted: tuple[str, ...]
    refused: tuple[str, ...]
    valid: bool


def cookie_lists(cookies: Cookies, choice: Choice) -> tuple[list[str], list[str]]:
    """What the cookie (and the banner's script) keep of a choice: the optional categories
    granted, and the services refused inside them."""
    required = {c.id for c in cookies.categories if c.required}
    granted = [c for c, on in choice.categories.items() if on and c not in required]
    refused = [
        s.id
        for s in cookies.services
        if choice.categories.get(s.category) and not choice.services.get(s.id)
    ]
    return granted, refused


def encode_cookie(
    cookies: Cookies, consent_id: str, section: str, at: dt.datetime, choice: Choice
) -> str:
    granted, refused = cookie_lists(cookies, choice)
    return (
        f"{consent_id}.{section[:16]}.{int(at.timestamp())}.{'-'.join(granted)}.{'-'.join(refused)}"
    )


def decode_cookie(
    value: str | None, *, section: str, days: int, now: dt.datetime
) -> StoredChoice | None:
    """The cookie's content, ``None`` when absent or malformed; ``valid`` is ``False`` when it
    belongs to another cookie section or is older than ``days``."""
    match = _COOKIE.fullmatch(value or "")
    if match is None:
        return None
    try:  # a time no clock can show (past year 9999, say) is a cookie to ignore
        at = dt.datetime.fromtimestamp(int(match["at"]), dt.UTC)
        expires = at + dt.timedelta(days=days)
    except (ValueError, OverflowError, OSError):
        return None
    valid = match["section"] == section[:16] and at <= now < expires
    return StoredChoice(
        match["id"],
        at,
        tuple(x for x in match["granted"].split("-") if x),
        tuple(x for x in match["refused"].split("-") if x),
        valid,
    )


def choice_from_cookie(cookies: Cookies, stored: StoredChoice) -> Choice:
    """The choice a valid cookie records (ids no longer declared are dropped)."""
    categories = {c.id for c in cookies.categories}
    services = {s.id for s in cookies.services}
    return normalise(
        cookies,
        {c: True for c in stored.granted if c in categories},
        {s: False for s in stored.refused if s in services},
    )
