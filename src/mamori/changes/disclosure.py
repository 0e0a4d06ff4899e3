"""The person's consents to policy changes, as a section of their disclosure package (法33).

Listed in the built-in parts (:data:`mamori.app.parts.BUILT_IN`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from mamori.changes import storage
from mamori.store.db import Connection

__all__ = ["SECTION", "consent_rows"]

SECTION: Final = "policy_change_consents"


def consent_rows(conn: Connection, subject_id: str) -> Iterator[Mapping[str, object]]:
    for row in storage.consents_of(conn, subject_id):
        yield {
            "policy_version": row.version,
            "consented_at": row.consented_at,
            "channel": row.channel,
        }
