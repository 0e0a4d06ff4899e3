"""The table of roles and permissions (issue 12 part 1): what the seed's roles may do."""

from __future__ import annotations

import pytest

from mamori.errors import InvalidValue
from mamori.staff.permissions import PERMISSIONS, Permission, Role, allowed, parse_role

P = Permission


def test_the_manager_holds_everything_and_every_role_has_a_row() -> None:
    assert set(PERMISSIONS) == set(Role)
    assert PERMISSIONS[Role.manager] == frozenset(Permission)
    assert all(P.console_view in held for held in PERMISSIONS.values())


def test_only_the_manager_manages_staff() -> None:
    assert [r for r in Role if allowed(r, P.staff_manage)] == [Role.manager]


def test_only_the_manager_manages_webhooks_and_readers_of_registers_see_their_log() -> None:
    assert [r for r in Role if allowed(r, P.webhooks_manage)] == [Role.manager]
    assert {r for r in Role if allowed(r, P.registers_view)} >= {Role.lead, Role.auditor}


def test_the_lead_decides_and_the_handler_works() -> None:
    assert allowed("lead", P.requests_decide) and allowed("lead", P.incidents_manage)
    assert allowed("handler", P.requests_work) and not allowed("handler", P.requests_decide)
    assert not allowed("handler", P.incidents_manage) and not allowed("handler", P.audit_view)


def test_the_auditor_reads_the_log_and_registers_and_changes_nothing() -> None:
    held = PERMISSIONS[Role.auditor]
    assert {P.audit_view, P.registers_view, P.registers_export} <= held
    changing = {
        P.requests_work,
        P.requests_decide,
        P.contractors_manage,
        P.incidents_manage,
        P.training_manage,
        P.webhooks_manage,
        P.staff_manage,
    }
    assert not held & changing
    assert P.personal_view not in held


def test_a_viewer_sees_no_personal_value_and_does_nothing() -> None:
    assert PERMISSIONS[Role.viewer] == frozenset({P.console_view})


def test_unknown_roles_hold_nothing_and_are_refused_by_name() -> None:
    assert not allowed("admin", P.console_view) and not allowed("", P.console_view)
    with pytest.raises(InvalidValue, match="role: use one of manager, lead, handler, auditor"):
        parse_role("root")
    assert parse_role("lead") is Role.lead
