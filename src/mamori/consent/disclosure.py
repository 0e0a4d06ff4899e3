"""The person's cookie-consent receipts, as a section of their disclosure package (法33).

Registered with :func:`mamori.requests.package.register_section` when imported (by
:mod:`mamori.runtime`). Rows are the receipts of choices made signed in to the privacy center
(:func:`mamori.consent.receipts.for_subject`), oldest first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from mamori.consent.receipts import for_subject
from mamori.requests.package import register_section

if TYPE_CHECKING:
    from mamori.runtime import Runtime

__all__ = ["SECTION", "receipt_rows"]

SECTION = "cookie_consent_receipts"


def receipt_rows(
    conn: Connection, runtime: Runtime, subject_id: str
) -> Iterator[Mapping[str, object]]:
    return for_subject(conn, subject_id)


register_section(SECTION, receipt_rows)
