"""The append-only, hash-chained audit log: entries, checkpoints, proofs, verification.

See ``docs/explanation/audit-log.md`` for how it works and what it protects against.
"""

from __future__ import annotations

from mamori.audit.entry import AuditEntry, Details, NewEntry, Scalar
from mamori.audit.log import AuditLog
from mamori.audit.proofs import Checkpoint, ConsistencyProof, InclusionProof, verify_proof
from mamori.audit.verify import Mismatch, MismatchKind, VerifyReport

__all__ = [
    "AuditEntry",
    "AuditLog",
    "Checkpoint",
    "ConsistencyProof",
    "Details",
    "InclusionProof",
    "Mismatch",
    "MismatchKind",
    "NewEntry",
    "Scalar",
    "VerifyReport",
    "verify_proof",
]
