"""A person's cookie choice, made on the host's site and tied to them by the host (APPI 31:
what a provision of person-related information confirms)."""

from __future__ import annotations

from mamori.app import Runtime
from mamori.consent import links
from mamori.consent.service import Consent
from mamori.vault.access import Caller

__all__ = ["cookie_choice"]

HOST = Caller("key:host", None, frozenset({"write"}))


def cookie_choice(
    runtime: Runtime,
    subject_id: str | None,
    method: str = "accept_all",
    *,
    consent_id: str | None = None,
    **choice: object,
) -> str:
    """Record a banner choice (``accept_all``, ``reject_all`` or ``custom`` with
    ``categories=``/``services=``) under ``consent_id`` (a new one by default), tie it to
    ``subject_id`` unless None, and return the consent ID."""
    consent = Consent(
        runtime.engine, runtime.audit, runtime.published, days=runtime.settings.consent_days
    )
    current = consent.current()
    banner = consent.banner(current.version, "ja", gpc=False)
    receipt, _ = consent.record(
        consent_id=consent_id,
        version=current.version,
        lang="ja",
        text_hash=banner.text_hash,
        gpc=False,
        method=method,
        source="banner",
        **choice,  # type: ignore[arg-type]
    )
    if subject_id is not None:
        links.link(runtime.vault, HOST, subject_id, receipt.consent_id)
    return receipt.consent_id
