"""The person's consents to policy changes, as a section of their disclosure package (法33)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa
from sqlalchemy import Connection

from mamori.requests.package import register_section
from mamori.store.tables import PolicyConsentRow

if TYPE_CHECKING:
    from mamori.runtime import Runtime

__all__ = ["SECTION", "consent_rows"]

SECTION = "policy_change_consents"

consents_t = cast(sa.Table, PolicyConsentRow.__table__)


def consent_rows(
    conn: Connection, runtime: Runtime, subject_id: str
) -> Iterator[Mapping[str, object]]:
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


register_section(SECTION, consent_rows)
