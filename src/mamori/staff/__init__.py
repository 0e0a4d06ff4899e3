"""Staff accounts of the operator: roles, argon2id passwords, sign-in with lockout, sessions.

No web imports: the admin console (:mod:`mamori.web.admin.auth`) puts these behind cookies and
forms, and the CLI (``mamori staff ...``) behind prompts.
"""

from __future__ import annotations

from mamori.staff.accounts import ROLES, StaffAccount, StaffDirectory
from mamori.staff.lockout import Limits
from mamori.staff.permissions import PERMISSIONS, Permission, Role, allowed, parse_role
from mamori.staff.sessions import Session
from mamori.staff.signin import SignedIn, sign_in

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Limits",
    "Permission",
    "Role",
    "Session",
    "SignedIn",
    "StaffAccount",
    "StaffDirectory",
    "allowed",
    "parse_role",
    "sign_in",
]
