"""Staff accounts of the operator: roles, argon2id passwords, a TOTP second factor with recovery
codes, sign-in with lockout, sessions.

No web imports: the admin console (:mod:`mamori.web.admin.auth`) puts these behind cookies and
forms, and the CLI (``mamori staff ...``) behind prompts.
"""

from __future__ import annotations

from mamori.staff.accounts import ROLES, StaffAccount, StaffDirectory
from mamori.staff.factors import Enrolment, FactorStatus, SecondFactors
from mamori.staff.lockout import Limits
from mamori.staff.permissions import PERMISSIONS, Permission, Role, allowed, parse_role
from mamori.staff.sessions import Session
from mamori.staff.signin import (
    Pending,
    SignedIn,
    begin_sign_in,
    enrolment_of,
    finish_enrolment,
    finish_sign_in,
    sign_in,
)

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Enrolment",
    "FactorStatus",
    "Limits",
    "Pending",
    "Permission",
    "Role",
    "SecondFactors",
    "Session",
    "SignedIn",
    "StaffAccount",
    "StaffDirectory",
    "allowed",
    "begin_sign_in",
    "enrolment_of",
    "finish_enrolment",
    "finish_sign_in",
    "parse_role",
    "sign_in",
]
