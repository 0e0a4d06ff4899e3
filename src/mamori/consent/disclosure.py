"""The person's cookie-consent receipts, as a section of their disclosure package (法33).

Listed in the built-in parts (:data:`mamori.app.parts.BUILT_IN`). Rows are the receipts of
choices made signed in to the privacy center (:func:`mamori.consent.receipts.for_subject`),
oldest first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from mamori.consent.receipts import for_subject
from mamori.store.db import Connection

__all__ = ["SECTION", "receipt_rows"]

SECTION: Final = "cookie_consent_receipts"


def receipt_rows(conn: Connection, subject_id: str) -> Iterator[Mapping[str, object]]:
    return for_subject(conn, subject_id)
