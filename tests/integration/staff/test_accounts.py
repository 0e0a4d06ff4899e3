"""Staff accounts on a real database: create, roles, disable, reset; encrypted identities."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mamori.app import Runtime
from mamori.errors import InvalidValue, StaffConflict, StaffNotFound, WeakPassword
from mamori.staff import StaffDirectory
from mamori.store import db, tables
from tests.helpers.staff import PASSWORD


def test_create_stores_identities_encrypted_and_audits_ids_only(
    runtime: Runtime, staff: StaffDirectory
) -> None:
    account = staff.create("  Yamada.Hanako ", "山田 花子", "handler", PASSWORD, actor="cli")
    assert account.login == "yamada.hanako"
    assert account.display_name == "山田 花子"
    assert account.role == "handler" and account.active
    assert account.id.startswith("st_") and len(account.id) == 13
    with db.read(runtime.engine) as conn:
        row = conn.execute(sa.select(tables.staff_accounts)).one()
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    assert b"yamada" not in stored
    assert "山田".encode() not in stored
    assert PASSWORD.encode() not in stored
    assert row.password_hash.startswith("$argon2id$")
    entry = runtime.audit.tail(1)[0]
    assert (entry.actor, entry.action, entry.targets) == (
        "cli",
        "staff.create",
        (f"staff:{account.id}",),
    )
    assert entry.details == {"role": "handler"}
    assert staff.find("YAMADA.HANAKO").id == account.id
    assert [a.id for a in staff.list()] == [account.id]


@pytest.mark.parametrize(
    ("login", "name", "role", "password", "error"),
    [
        ("a", "名前", "viewer", PASSWORD, InvalidValue),
        ("has space", "名前", "viewer", PASSWORD, InvalidValue),
        ("山田", "名前", "viewer", PASSWORD, InvalidValue),
        ("taro", "", "viewer", PASSWORD, InvalidValue),
        ("taro", "a\x00b", "viewer", PASSWORD, InvalidValue),
        ("taro", "名前", "root", PASSWORD, InvalidValue),
        ("taro", "名前", "viewer", "short", WeakPassword),
    ],
)
def test_bad_input_is_refused_before_anything_is_stored(
    staff: StaffDirectory,
    login: str,
    name: str,
    role: str,
    password: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        staff.create(login, name, role, password, actor="test")
    assert staff.list() == []


def test_a_login_id_is_unique_whatever_its_case(staff: StaffDirectory) -> None:
    staff.create("taro", "太郎", "viewer", PASSWORD, actor="test")
    with pytest.raises(StaffConflict):
        staff.create("TARO", "別の太郎", "viewer", PASSWORD, actor="test")


def test_the_last_active_admin_stays(runtime: Runtime, staff: StaffDirectory) -> None:
    first = staff.create("first", "一人目", "manager", PASSWORD, actor="test")
    with pytest.raises(StaffConflict, match="last active manager"):
        staff.disable(first.id, actor="test")
    with pytest.raises(StaffConflict, match="last active manager"):
        staff.set_role(first.id, "handler", actor="test")
    second = staff.create("second", "二人目", "manager", PASSWORD, actor="test")
    assert staff.set_role(first.id, "viewer", actor=f"staff:{second.id}").role == "viewer"
    with pytest.raises(StaffConflict):
        staff.disable(second.id, actor="test")
    entry = runtime.audit.tail(1)[0]
    assert (entry.action, entry.details) == ("staff.role", {"from": "manager", "to": "viewer"})


def test_disable_and_enable(runtime: Runtime, staff: StaffDirectory) -> None:
    staff.create("boss", "管理者", "manager", PASSWORD, actor="test")
    taro = staff.create("taro", "太郎", "viewer", PASSWORD, actor="test")
    disabled = staff.disable(taro.id, actor="test")
    assert not disabled.active
    assert staff.disable(taro.id, actor="test") == disabled  # idempotent, not audited twice
    assert [e.action for e in runtime.audit.tail(2)] == ["staff.create", "staff.disable"]
    assert staff.enable(taro.id, actor="test").active
    with pytest.raises(StaffNotFound):
        staff.disable("st_nosuchone0", actor="test")


def test_reset_password(staff: StaffDirectory) -> None:
    taro = staff.create("taro", "太郎", "viewer", PASSWORD, actor="test")
    with pytest.raises(WeakPassword):
        staff.reset_password(taro.id, "short", actor="test")
    staff.reset_password(taro.id, "a brand new password", actor="test")
    assert staff.get(taro.id).password_changed_at >= taro.password_changed_at
