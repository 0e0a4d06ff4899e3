"""Helpers for the audit tests: filling a log and changing its rows behind its back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mamori.audit import AuditEntry, AuditLog, NewEntry
from mamori.store import db


def fill(log: AuditLog, count: int, *, actor: str = "staff:7") -> list[AuditEntry]:
    """Append ``count`` entries in one transaction."""
    with db.write(log.engine) as conn:
        return log.append_many(
            conn,
            [
                NewEntry(actor, "subject.read", [f"subject:{i}"], {"n": i, "purpose": "support"})
                for i in range(count)
            ],
        )


def tamper(engine: Engine, sql: str, **params: Any) -> None:
    """Run SQL directly against the database, as an intruder with write access would."""
    with engine.begin() as conn:
        conn.execute(sa.text(sql), params)
