"""Who on the staff may do what: the one table of roles and their permissions.

The roles are those the seed names (§3): the 個人情報保護管理者 (``manager``: every action, the
staff and the settings), the 個人情報取扱責任者 (``lead``: decides people's requests, incidents,
provisions and contractors' supervision), the ``handler`` who works people's requests, the
``auditor`` who reads the audit log and the registers and changes nothing, and the ``viewer``
who sees the console's counts and lists but no personal value.

Every admin route names the one permission it needs (:func:`mamori.web.admin.auth.need`); the
console shows a form or a link only to those whose role holds its permission. A test walks
every route against every role, so a route cannot be added without a place in this table.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from mamori.errors import InvalidValue

__all__ = ["PERMISSIONS", "Permission", "Role", "allowed", "parse_role"]


class Role(StrEnum):
    """A staff member's role, most able first."""

    manager = "manager"
    lead = "lead"
    handler = "handler"
    auditor = "auditor"
    viewer = "viewer"


class Permission(StrEnum):
    """One thing a staff member may do in the console."""

    console_view = "console.view"
    """The dashboard, the menu, the request queue and lists without personal values."""
    personal_view = "personal.view"
    """Personal values: identity proofs, request details as typed, mail bodies."""
    requests_work = "requests.work"
    """Work a request: review the identity check, notes, assignment."""
    requests_decide = "requests.decide"
    """Decide a request, notify the person, close it."""
    audit_view = "audit.view"
    """Read the audit log and verify its chain."""
    registers_view = "registers.view"
    """Read the ledgers and registers: recipients, provisions, acquisitions, contractors,
    incidents, alerts, training."""
    registers_export = "registers.export"
    """Download the ledgers and registers (CSV, reports)."""
    contractors_manage = "contractors.manage"
    """Record contracts and supervision checks of contractors."""
    incidents_manage = "incidents.manage"
    """Record and work incidents (漏えい等), their reports and notices; dismiss alerts."""
    training_manage = "training.manage"
    """Record courses and who completed them."""
    statistics_run = "statistics.run"
    """Run statistics queries (small cells suppressed, every query logged) and download them."""
    statistics_export = "statistics.export"
    """Make pseudonymised exports (仮名加工情報) and replace or destroy their keys."""
    webhooks_manage = "webhooks.manage"
    """Register, rotate and remove the host service's webhook endpoints; replay a delivery."""
    staff_view = "staff.view"
    """See the staff accounts and their roles."""
    staff_manage = "staff.manage"
    """Create staff accounts, change roles, disable and enable accounts."""


_P = Permission
_READ: Final = frozenset({_P.console_view})
_AUDITOR: Final = _READ | {_P.audit_view, _P.registers_view, _P.registers_export, _P.staff_view}
_HANDLER: Final = _READ | {_P.personal_view, _P.requests_work, _P.registers_view}
_LEAD: Final = (
    _AUDITOR
    | _HANDLER
    | {_P.requests_decide, _P.contractors_manage, _P.incidents_manage, _P.training_manage}
    | {_P.statistics_run, _P.statistics_export}
)

PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = {
    Role.manager: frozenset(Permission),
    Role.lead: frozenset(_LEAD),
    Role.handler: frozenset(_HANDLER),
    Role.auditor: frozenset(_AUDITOR),
    Role.viewer: frozenset(_READ),
}
"""What each role may do: the one table."""


def allowed(role: str, permission: Permission) -> bool:
    """Whether ``role`` holds ``permission`` (an unknown role holds nothing)."""
    try:
        return permission in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def parse_role(text: str) -> Role:
    """The role named ``text``; :class:`InvalidValue` naming the roles otherwise."""
    try:
        return Role(text)
    except ValueError:
        raise InvalidValue(f"role: use one of {', '.join(Role)}") from None
