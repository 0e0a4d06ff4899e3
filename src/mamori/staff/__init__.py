"""Staff accounts of the operator: roles, argon2id passwords, sign-in with lockout, sessions.

No web imports: the admin console (:mod:`mamori.web.admin.auth`) puts these behind cookies and
forms, and the CLI (``mamori staff ...``) behind prompts.
"""

from __future__ import annotations

from mamori.staff.accounts import ROLES, Role, StaffAccount, StaffDirectory, allows, parse_role
from mamori.staff.lockout import Limits
from mamori.staff.sessions import Session
from mamori.staff.signin import SignedIn, sign_in

__all__ = [
    "ROLES",
    "Limits",
    "Role",
    "Session",
    "SignedIn",
    "StaffAccount",
    "StaffDirectory",
    "allows",
    "parse_role",
    "sign_in",
]
