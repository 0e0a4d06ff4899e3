"""Cookie consent in a running mamori: banners of every published version, and choices recorded.

:class:`Consent` is what the web layer and the CLI use. It builds (once per version, language
and GPC state) the banner people see, checks a choice against the version it was made on, and
stores its receipt. Banners of earlier versions stay valid: a page opened before a publication
records the version and text it showed.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from mamori.audit.log import AuditLog
from mamori.consent.banner import Banner, build_banner, gpc_categories, section_hash
from mamori.consent.choice import (
    CONSENT_ID,
    METHODS,
    Choice,
    accept_all,
    new_consent_id,
    normalise,
    reject_all,
)
from mamori.consent.receipts import NewReceipt, Receipt, ReceiptLog
from mamori.errors import ConsentChoiceInvalid, NotFound
from mamori.i18n import Lang
from mamori.policy.loader import parse_policy
from mamori.policy.model import Policy
from mamori.publication import versions
from mamori.publication.current import PublishedPolicy
from mamori.store.db import Engine

__all__ = ["Consent", "Current"]

SOURCES = ("banner", "form", "center")


@dataclass(frozen=True)
class Current:
    version: int
    policy: Policy
    section: str


class Consent:
    def __init__(
        self, engine: Engine, audit: AuditLog, published: PublishedPolicy, *, days: int
    ) -> None:
        self.engine = engine
        self.published = published
        self.days = days
        self.receipts = ReceiptLog(engine, audit, days=days)
        self._lock = threading.Lock()
        self._policies: dict[int, Current] = {}
        self._banners: dict[tuple[int, str, bool], Banner] = {}

    def current(self) -> Current:
        published = self.published.current()
        return self._remember(published.version, published.policy)

    def _remember(self, version: int, policy: Policy) -> Current:
        found = self._policies.get(version)
        if found is None:
            found = Current(version, policy, section_hash(policy.cookies))
            with self._lock:
                self._policies[version] = found
        return found

    def version(self, version: int) -> Current:
        """A published version (parsed once); :class:`ConsentChoiceInvalid` if there is none."""
        found = self._policies.get(version)
        if found is not None:
            return found
        current = self.current()
        if current.version == version:
            return current
        try:
            stored = versions.get(self.engine, version)
        except NotFound:
            raise ConsentChoiceInvalid(f"policy version {version} was never published") from None
        return self._remember(version, parse_policy(stored.source_yaml, f"version {version}"))

    def banner(self, version: int, lang: Lang, *, gpc: bool) -> Banner:
        key = (version, lang, gpc)
        found = self._banners.get(key)
        if found is None:
            found = build_banner(self.version(version).policy, version, lang, gpc=gpc)
            with self._lock:
                self._banners[key] = found
        return found

    def choice(
        self,
        current: Current,
        method: str,
        *,
        gpc: bool,
        categories: Mapping[str, object] | None = None,
        services: Mapping[str, object] | None = None,
    ) -> Choice:
        cookies = current.policy.cookies
        if method == "accept_all":
            return accept_all(cookies, off=gpc_categories(cookies) if gpc else ())
        if method == "reject_all":
            return reject_all(cookies)
        if method == "custom":
            return normalise(cookies, categories or {}, services)
        raise ConsentChoiceInvalid(f"method: give one of {', '.join(METHODS)}")

    def record(
        self,
        *,
        consent_id: str | None,
        version: int,
        lang: str,
        text_hash: str,
        gpc: bool,
        method: str,
        source: str,
        categories: Mapping[str, object] | None = None,
        services: Mapping[str, object] | None = None,
        subject_id: str | None = None,
    ) -> tuple[Receipt, Choice]:
        """Check and store one choice; returns its receipt and the full choice."""
        if consent_id is None:
            consent_id = new_consent_id()
        elif not CONSENT_ID.fullmatch(consent_id):
            raise ConsentChoiceInvalid("consent_id: 22 characters of base64url")
        if lang not in ("ja", "en"):
            raise ConsentChoiceInvalid("lang: give ja or en")
        if source not in SOURCES:
            raise ConsentChoiceInvalid(f"source: give one of {', '.join(SOURCES)}")
        current = self.version(version)
        shown = next(
            (
                b
                for b in (
                    self.banner(version, lang, gpc=False),  # type: ignore[arg-type]
                    self.banner(version, lang, gpc=True),  # type: ignore[arg-type]
                )
                if b.text_hash == text_hash
            ),
            None,
        )
        if shown is None:
            raise ConsentChoiceInvalid(
                f"the banner text hash is not that of policy version {version} in {lang!r}"
            )
        gpc = gpc or shown.gpc
        choice = self.choice(
            current, method, gpc=shown.gpc, categories=categories, services=services
        )
        receipt = self.receipts.record(
            NewReceipt(
                consent_id=consent_id,
                subject_id=subject_id,
                policy_version=version,
                section_hash=current.section,
                language=lang,
                text_hash=text_hash,
                gpc=gpc,
                method=method,
                source=source,
                categories=choice.categories,
                services=choice.services,
            ),
            shown,
        )
        return receipt, choice
