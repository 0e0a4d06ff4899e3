"""The provision records as the tests read them: one row per person, a batch record's people
each (APPI rule 19(2): a streamed provision records each page together)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from mamori.app import Runtime
from mamori.store import db

__all__ = ["records"]

_PER_PERSON = sa.text(
    "SELECT r.id, r.batch_id, r.basis, r.recipient, r.purpose_id, r.items, r.people,"
    " r.retain_until, r.provided_at, r.contract, r.reason, r.confirmation, p.receipt,"
    " COALESCE(r.subject_id, p.subject_id) AS subject_id,"
    " COALESCE(r.consent_id, p.consent_id) AS consent_id"
    " FROM provision_records r LEFT JOIN provision_record_people p ON p.record_id = r.id"
    " ORDER BY r.provided_at, r.id, subject_id"
)


def records(runtime: Runtime) -> list[Any]:
    """Every provision record, a row per person, oldest first."""
    with db.read(runtime.engine) as conn:
        return list(conn.execute(_PER_PERSON).all())
