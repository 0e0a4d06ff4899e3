"""Reading the provision ledger: the records of what was provided, to whom and on what basis
(APPI 29), for the person (the privacy center, the disclosure package) and for staff."""

from __future__ import annotations

from mamori.errors import NotFound
from mamori.provisions import storage
from mamori.provisions.storage import RecordRow
from mamori.store import db
from mamori.vault.core import Vault
from mamori.vault.storage import subjects

__all__ = ["RecordRow", "of_subject"]


def of_subject(vault: Vault, subject_id: str) -> list[RecordRow]:
    """Every provision record about the person, newest first."""
    with db.read(vault.engine) as conn:
        if subjects.record(conn, subject_id) is None:
            raise NotFound(f"no subject '{subject_id}'")
        return list(reversed(storage.records_of(conn, subject_id)))
