"""The person's consents to policy changes, as a section of their disclosure package (法33).

Listed in the built-in parts (:data:`mamori.app.parts.BUILT_IN`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.store import tables

__all__ = ["SECTION", "consent_rows"]

SECTION: Final = "policy_change_consents"

consents_t = tables.policy_consents


def consent_rows(conn: Connection, subject_id: str) -> Iterator[Mapping[str, object]]:
    rows = conn.execute(
        sa.select(consents_t)
        .where(consents_t.c.subject_id == subject_id)
        .order_by(consents_t.c.version)
    )
    for row in rows:
        yield {
            "policy_version": row.version,
            "consented_at": row.consented_at,
            "channel": row.channel,
        }
