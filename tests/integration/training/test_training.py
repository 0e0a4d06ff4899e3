"""Training records: who is overdue (never completed, or the completion expired on the
operator's day; roles not required and disabled accounts never), the register's audit
entries, and the pages (the matrix with the overdue highlighted, the forms, bad input: 400 and
nothing stored, permissions, the dashboard's card). On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.store import db
from mamori.training import register
from mamori.training.register import State
from mamori.web.app import create_app
from tests.helpers.clock import ManualClock
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff, csrf_token, directory

NOON_JST = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> ManualClock:
    clock = ManualClock()
    clock.freeze(NOON_JST)
    return clock


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, clock=clock, anomaly_evaluate_minutes=0)
    create_staff(runtime, "lead", PASSWORD, "lead")
    create_staff(runtime, "handler", PASSWORD, "handler")
    create_staff(runtime, "viewer", PASSWORD, "viewer")
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


def _ids(runtime: Runtime) -> dict[str, str]:
    return {a.login: a.id for a in directory(runtime).list()}


def _count(runtime: Runtime, table: str) -> int:
    with db.read(runtime.engine) as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_who_is_overdue(runtime: Runtime, clock: ManualClock) -> None:
    ids = _ids(runtime)
    course = register.add_course(
        runtime.vault,
        actor="staff:st_x",
        title_ja="個人情報保護研修",
        title_en="Data protection",
        every_months=12,
        roles=["lead", "handler"],
    )
    once = register.add_course(
        runtime.vault,
        actor="staff:st_x",
        title_ja="入社時研修",
        title_en="Induction",
        every_months=0,
        roles=["handler"],
    )
    for cid, who, day in (
        (course.id, "lead", "2025-05-01"),  # expires 2026-05-01: today in Tokyo
        (course.id, "handler", "2025-05-02"),
        (once.id, "handler", "2020-01-01"),
    ):
        register.record_completion(
            runtime.vault,
            actor="staff:st_x",
            course_id=cid,
            staff_id=ids[who],
            completed_on=day,
            known_staff=ids.values(),
        )
    m = register.matrix(runtime.vault, directory(runtime).list())
    assert m.today == dt.date(2026, 5, 1)
    assert m.cells[(ids["lead"], course.id)].state is State.overdue
    assert m.cells[(ids["handler"], course.id)].state is State.done
    assert m.cells[(ids["handler"], course.id)].due == dt.date(2026, 5, 2)
    assert m.cells[(ids["handler"], once.id)].state is State.done
    assert m.cells[(ids["lead"], once.id)].state is State.not_required
    assert m.cells[(ids["viewer"], course.id)].state is State.not_required
    assert m.overdue_staff() == [ids["lead"]]
    clock.freeze(NOON_JST + dt.timedelta(hours=12))  # 2026-05-02 in Tokyo
    m = register.matrix(runtime.vault, directory(runtime).list())
    assert m.overdue_staff() == sorted([ids["lead"], ids["handler"]])
    entries = [e for e in runtime.audit.tail(10) if e.action.startswith("training.")]
    assert [e.action for e in entries][:2] == ["training.course_add", "training.course_add"]
    assert "個人情報" not in repr(entries)


def test_due_after_keeps_to_the_month_end() -> None:
    assert register.due_after(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert register.due_after(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)
    assert register.due_after(dt.date(2026, 1, 1), 0) is None


def test_the_pages(app: FastAPI, runtime: Runtime) -> None:
    ids = _ids(runtime)
    lead = admin_client(TestClient(app, follow_redirects=False), "lead", PASSWORD)
    token = csrf_token(lead)
    added = lead.post(
        "/admin/training/courses",
        data={
            "csrf_token": token,
            "title_ja": "個人情報保護研修",
            "title_en": "Data protection",
            "every_months": "12",
            "roles": ["lead", "handler"],
        },
    )
    assert added.status_code == 303
    [course] = register.matrix(runtime.vault, []).courses
    page = lead.get("/admin/training")
    assert "個人情報保護研修" in page.text and 'class="attention" data-state="overdue"' in page.text
    done = lead.post(
        "/admin/training/completions",
        data={
            "csrf_token": token,
            "course_id": course.id,
            "staff_id": ids["lead"],
            "completed_on": "2026-04-30",
        },
    )
    assert done.status_code == 303
    dashboard = lead.get("/admin")
    assert "教育の未受講・期限切れ" in dashboard.text
    # A handler reads nothing of it (staff.view), a viewer neither; neither may record.
    handler = admin_client(TestClient(app, follow_redirects=False), "handler", PASSWORD)
    assert handler.get("/admin/training").status_code == 403
    refused = handler.post(
        "/admin/training/courses",
        data={"csrf_token": csrf_token(handler), "title_ja": "x", "title_en": "x"},
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("courses", {"title_ja": "", "title_en": "X", "every_months": "12", "roles": "lead"}),
        ("courses", {"title_ja": "研修", "title_en": "X", "every_months": "abc", "roles": "lead"}),
        ("courses", {"title_ja": "研修", "title_en": "X", "every_months": "500", "roles": "lead"}),
        ("courses", {"title_ja": "研修", "title_en": "X", "every_months": "12", "roles": "boss"}),
        ("completions", {"staff_id": "st_nobody", "completed_on": "2026-04-01"}),
        ("completions", {"staff_id": "LEAD", "completed_on": "2026-13-01"}),
        ("completions", {"staff_id": "LEAD", "completed_on": "2027-01-01"}),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    app: FastAPI, runtime: Runtime, path: str, form: dict[str, str]
) -> None:
    course = register.add_course(
        runtime.vault, actor="t", title_ja="研修", title_en="T", every_months=1, roles=["lead"]
    )
    if form.get("staff_id") == "LEAD":
        form = {**form, "staff_id": _ids(runtime)["lead"]}
    before = (_count(runtime, "training_courses"), _count(runtime, "training_completions"))
    lead = admin_client(TestClient(app, follow_redirects=False), "lead", PASSWORD)
    refused = lead.post(
        f"/admin/training/{path}",
        data={"csrf_token": csrf_token(lead), "course_id": course.id, **form},
    )
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text
    after = (_count(runtime, "training_courses"), _count(runtime, "training_completions"))
    assert after == before
