"""The second factor of staff sign-in (:mod:`mamori.staff.factors`): each member's TOTP secret,
their single-use recovery codes, and the half-finished sign-ins waiting for a code. Secrets are
stored encrypted, recovery codes and pending tokens as keyed hashes: nothing here can sign in."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from mamori.store.tables.base import Seq, UTCDateTime, metadata

__all__ = ["staff_pending_sign_ins", "staff_recovery_codes", "staff_totp"]


def _staff_fk() -> ForeignKey:
    return ForeignKey("staff_accounts.id", ondelete="CASCADE")


staff_totp = Table(
    "staff_totp",
    metadata,
    Column("staff_id", String(32), _staff_fk(), primary_key=True),
    # The base32 secret, AES-256-GCM under the ``staff-totp`` system key, bound to the account.
    Column("secret_ct", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # None: enrolment begun (the QR code shown) but not yet confirmed with a code.
    Column("confirmed_at", UTCDateTime, nullable=True),
    # The last 30-second step whose code was accepted: that code and older ones are refused.
    Column("last_step", BigInteger, nullable=True),
)
"""A staff member's TOTP authenticator (RFC 6238)."""


staff_recovery_codes = Table(
    "staff_recovery_codes",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("staff_id", String(32), _staff_fk(), index=True, nullable=False),
    # Keyed HMAC-SHA256 (``staff-recovery`` system key) of the account id and the code.
    Column("code_hash", LargeBinary(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    UniqueConstraint("staff_id", "code_hash"),
)
"""A single-use recovery code, shown once when made; only its keyed hash is kept."""


staff_pending_sign_ins = Table(
    "staff_pending_sign_ins",
    metadata,
    # SHA-256 of the random token the ``mamori_admin_pending`` cookie holds.
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("staff_id", String(32), _staff_fk(), index=True, nullable=False),
    # ``code``: the password was right, a code is awaited; ``enrol``: enrolment is required.
    Column("stage", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, index=True, nullable=False),
    CheckConstraint("stage IN ('code', 'enrol')", name="stage_known"),
)
"""A sign-in whose password was right and which waits for the second factor: not a session."""
