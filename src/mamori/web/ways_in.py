"""Ways in: where each mechanism a person may use is served, for the links to it.

The rendered policy links its promises to these pages (§5 the usage-stop settings, §6 the cookie
settings, §9-§11 the request forms; the policy core only names them, see
:mod:`mamori.policy.mechanisms`), and the header and footer of every public page link to the
request forms, the cookie settings and the privacy center.
"""

from __future__ import annotations

from typing import Final

from mamori.policy.mechanisms import Mechanisms
from mamori.web.i18n import Lang

__all__ = ["CENTER", "COOKIES", "PATHS", "REQUESTS", "mechanisms"]

CENTER: Final = "/center"
COOKIES: Final = "/consent"  # the public cookie settings (the center's own: /center/cookies)
REQUESTS: Final = "/center/requests"

PATHS: Final[dict[str, str]] = {
    "usage_settings": f"{CENTER}/settings",
    "cookie_settings": COOKIES,
    "disclosure": f"{REQUESTS}/new/disclosure",
    "correction": f"{REQUESTS}/new/correction",
    "usage_stop": f"{REQUESTS}/new/usage_stop",
    "erasure": f"{REQUESTS}/new/erasure",
    "mail_opt_out": f"{REQUESTS}/new/mail_opt_out",
    "requests": REQUESTS,
}
"""Mechanism name (:data:`mamori.policy.mechanisms.MECHANISMS`) -> the page that serves it."""


def mechanisms(lang: Lang) -> Mechanisms:
    """The addresses the rendered policy links to, in the page's language."""
    out = {}
    for name, path in PATHS.items():
        base, hash_, anchor = path.partition("#")
        out[name] = f"{base}?lang={lang}{hash_}{anchor}"
    return out
