"""A staff member's e-mail, where the reminders of incidents go: optional, stored encrypted,
audited as whether one is set (never the address); given by `mamori staff create --email`,
on the staff page, or changed later; a bad address refused with nothing stored."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.errors import InvalidValue
from mamori.store import db
from mamori.web.app import create_app
from tests.helpers.cli import mamori
from tests.helpers.staff import PASSWORD, admin_client, create_staff, csrf_token, directory


def _raw(runtime: Runtime) -> list[bytes | None]:
    with db.read(runtime.engine) as conn:
        rows = conn.execute(sa.text("SELECT email_ct FROM staff_accounts ORDER BY created_at"))
        return [None if r[0] is None else bytes(r[0]) for r in rows]


def test_the_email_is_sealed_and_audited_as_a_flag(runtime: Runtime) -> None:
    staff = directory(runtime)
    made = staff.create("hanako", "山田 花子", "lead", PASSWORD, actor="test", email="h@example.jp")
    assert made.email == "h@example.jp" and staff.get(made.id).email == "h@example.jp"
    plain = staff.create("taro", "山田 太郎", "viewer", PASSWORD, actor="test")
    assert plain.email is None
    assert all(b"example.jp" not in (raw or b"") for raw in _raw(runtime))
    changed = staff.set_email(plain.id, "t@example.jp", actor="test")
    assert changed.email == "t@example.jp"
    assert staff.set_email(plain.id, "", actor="test").email is None
    with pytest.raises(InvalidValue):
        staff.create("jiro", "次郎", "viewer", PASSWORD, actor="test", email="not an address")
    assert len(staff.list()) == 2
    with db.read(runtime.engine) as conn:
        entries = conn.execute(
            sa.text("SELECT details FROM audit_entries WHERE action LIKE 'staff.%' ORDER BY seq")
        ).all()
    details = [orjson.loads(d[0]) for d in entries]
    assert details[0]["email"] is True and "email" not in details[1]
    assert "example.jp" not in str(details)


def test_the_staff_page_takes_an_email(runtime: Runtime) -> None:
    create_staff(runtime, "boss", PASSWORD, "manager")
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        admin_client(client, "boss", PASSWORD)
        page = client.get("/admin/staff")
        assert "メールアドレス(任意)" in page.text
        form = {
            "login": "hanako",
            "display_name": "山田 花子",
            "role": "lead",
            "email": "hanako@example.jp",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "csrf_token": csrf_token(client),
        }
        assert client.post("/admin/staff", data=form).status_code == 303
        assert "hanako@example.jp" in client.get("/admin/staff").text
        bad = client.post("/admin/staff", data={**form, "login": "jiro", "email": "bad"})
        assert bad.status_code == 400
    assert directory(runtime).find("hanako").email == "hanako@example.jp"
    assert len(directory(runtime).list()) == 2


def test_mamori_staff_create_with_email(tmp_path: Path, database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(MAMORI_DATA_DIR=str(tmp_path / "cli"), MAMORI_DATABASE_URL=database_url)
    mamori("init", env=env)
    made = mamori(
        "staff", "create", "hanako", "--role", "lead", "--name", "山田 花子",
        "--email", "hanako@example.jp", "--password-stdin", env=env, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.stdout.startswith("created staff account st_")
    bad = mamori(
        "staff", "create", "taro", "--role", "lead", "--name", "太郎",
        "--email", "nope", "--password-stdin", env=env, stdin=PASSWORD + "\n", check=2,
    )  # fmt: skip
    assert "email" in bad.stderr and "Traceback" not in bad.stderr
