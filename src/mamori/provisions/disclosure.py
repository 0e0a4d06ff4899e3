"""The person's provision records, consents to recipients and records of data received about
them, as sections of their disclosure package (APPI 33(5): the records of provision and of
receipt are disclosed like the data itself).

Listed in the built-in parts (:data:`mamori.app.parts.BUILT_IN`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from mamori.provisions import storage
from mamori.requests.sections import PROVISIONS
from mamori.store.db import Connection

__all__ = ["ACQUISITIONS", "CONSENTS", "RECORDS", "acquisition_rows", "consent_rows", "record_rows"]

RECORDS: Final = PROVISIONS
"""The section every package has: ``third_party_provisions``."""
CONSENTS: Final = "provision_consents"
ACQUISITIONS: Final = "provision_acquisitions"


def _text(value: object, lang: str) -> str:
    return str(value.get(lang) or "") if isinstance(value, Mapping) else ""


def record_rows(conn: Connection, subject_id: str) -> Iterator[Mapping[str, object]]:
    for row in storage.records_of(conn, subject_id):
        recipient = row.recipient
        yield {
            "provided_at": row.provided_at,
            "recipient": row.recipient_id,
            "recipient_name": _text(recipient.get("name"), "ja"),
            "recipient_name_en": _text(recipient.get("name"), "en"),
            "recipient_address": _text(recipient.get("address"), "ja"),
            "recipient_representative": _text(recipient.get("representative"), "ja"),
            "recipient_country": str(recipient.get("country", "")),
            "items": ",".join(row.items),
            "purpose": row.purpose_id,
            "basis": row.basis,
            "consent_id": row.consent_id or "",
            # APPI 31: the cookie choice confirmed before person-related information went.
            "cookie_choice_receipt": str((row.confirmation or {}).get("receipt") or ""),
        }


def consent_rows(conn: Connection, subject_id: str) -> Iterator[Mapping[str, object]]:
    for row in storage.consents_of(conn, subject_id):
        yield {
            "recipient": row.recipient_id,
            "purpose": row.purpose_id,
            "policy_version": row.policy_version,
            "consented_at": row.consented_at,
            "revoked_at": row.revoked_at or "",
            "channel": row.channel,
        }


def acquisition_rows(conn: Connection, subject_id: str) -> Iterator[Mapping[str, object]]:
    for row in storage.acquisitions_of(conn, subject_id):
        provider = row.provider
        yield {
            "received_at": row.received_at,
            "provider_name": _text(provider.get("name"), "ja"),
            "provider_name_en": _text(provider.get("name"), "en"),
            "provider_address": str(provider.get("address") or ""),
            "provider_representative": str(provider.get("representative") or ""),
            "how_obtained": str(provider.get("how_obtained") or ""),
            "items": ",".join(row.items),
        }
