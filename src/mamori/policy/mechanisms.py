"""Ways in: the links the rendered policy adds where it promises something a person can do.

§5 points to the usage-stop settings, §6 to the cookie settings, §9-§11 to the request forms.
The core knows only the names of these mechanisms and the words of their links; whoever serves
the policy hands in where each one is (the web layer maps names to its own paths), so rendering
stays pure, and a policy rendered without them (the CLI's file) carries no links at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from mamori.i18n import N_, t
from mamori.policy.document import Para, Span

__all__ = ["MECHANISMS", "Mechanisms", "check_mechanisms", "mechanism_link"]

MECHANISMS: Final = (
    "usage_settings",  # §5: the usage-stop settings of the privacy center
    "cookie_settings",  # §6: the cookie settings
    "disclosure",  # §9: the disclosure request form
    "correction",  # §10 (1): the correction request form
    "usage_stop",  # §10 (1): the stop-of-use request form
    "erasure",  # §10 (2): the erasure request form
    "mail_opt_out",  # §10 (3): the form to stop mailings
    "requests",  # §10's procedure and §11 (2): every request form
)
"""The names a :data:`Mechanisms` mapping may give an address for."""

Mechanisms = Mapping[str, str]
"""Mechanism name -> the address (href) of the page where a person uses it."""

_WORDS: Final = {  # the link's words, looked up by the mechanism's name
    "usage_settings": N_("policy.mechanism_usage_settings"),
    "cookie_settings": N_("policy.mechanism_cookie_settings"),
    "disclosure": N_("policy.mechanism_disclosure"),
    "correction": N_("policy.mechanism_correction"),
    "usage_stop": N_("policy.mechanism_usage_stop"),
    "erasure": N_("policy.mechanism_erasure"),
    "mail_opt_out": N_("policy.mechanism_mail_opt_out"),
    "requests": N_("policy.mechanism_requests"),
}


def check_mechanisms(mechanisms: Mechanisms) -> None:
    """Refuse a name that is not one of :data:`MECHANISMS` (a typo would drop a link)."""
    unknown = sorted(set(mechanisms) - set(MECHANISMS))
    if unknown:
        raise ValueError(
            f"unknown mechanism {unknown[0]!r}: expected one of {', '.join(MECHANISMS)}"
        )


def mechanism_link(
    lang: Literal["ja", "en"], mechanisms: Mechanisms, *names: str
) -> tuple[Para, ...]:
    """One paragraph ``お手続き: <link>`` holding the links of ``names`` that have an address,
    or nothing when none has."""
    found = [(name, mechanisms[name]) for name in names if name in mechanisms]
    if not found:
        return ()
    spans = [Span(t(lang, "policy.mechanism_lead"))]
    for n, (name, href) in enumerate(found):
        if n:
            spans.append(Span(t(lang, "policy.list_separator")))
        spans.append(Span(t(lang, _WORDS[name]), href))
    return (Para(tuple(spans)),)
