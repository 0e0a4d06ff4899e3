"""Connected databases on real servers (PostgreSQL and MariaDB, scratch databases made by the
tests): check, disclosure through the graph, erasure in constraint order with its plan recorded
first, checkpoints, resumption after a crash, and the re-query that proves 0 rows are left."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from mamori.app import Runtime
from mamori.datasets import erasure
from mamori.datasets.checks import check
from mamori.datasets.storage import StepRecord
from mamori.errors import DatasetError, DatasetStepFailed
from mamori.requests import package, service
from mamori.requests.intake import check_intake
from mamori.requests.model import Verification
from tests.helpers import datasets as ds
from tests.helpers.requests import BASE, HOST
from tests.helpers.runtime import open_test_runtime

BACKENDS = ["postgresql", "mariadb"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def operator_db(backend: str) -> Iterator[str]:
    with ds.scratch_database(backend) as url:
        ds.seed(url)
        yield url


def _runtime(tmp_path: Path, database_url: str, datasets: dict[str, str]) -> Runtime:
    policy = ds.write_policy_folder(tmp_path, datasets)
    return open_test_runtime(tmp_path, database_url, policy=policy)


@pytest.fixture
def runtime(
    tmp_path: Path, database_url: str, operator_db: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    monkeypatch.setenv("MAMORI_TEST_SERVICE_URL", operator_db)
    rt = _runtime(
        tmp_path, database_url, {"service": ds.dataset_yaml("service", "MAMORI_TEST_SERVICE_URL")}
    )
    yield rt
    rt.close()


def _person(runtime: Runtime, n: int = 1) -> str:
    return runtime.vault.create_subject(
        HOST,
        type="customer",
        items={"name": f"利用者 {n}", "email": f"p{n}@example.jp", "phone": f"090-1234-567{n}"},
    )


def _request(runtime: Runtime, subject: str, kind: str, n: int = 1) -> str:
    intake = check_intake(
        runtime.vault.rules(),
        type=kind,
        language="ja",
        email=f"p{n}@example.jp",
        ground="no_longer_needed" if kind == "erasure" else None,
        items=["email", "phone", "name"] if kind == "erasure" else (),
    )
    request = service.file_request(
        runtime,
        intake,
        actor=f"subject:{subject}",
        client="c",
        base_url=BASE,
        subject_id=subject,
        verified_by=Verification.session,
    )
    return request.id


def _sections(runtime: Runtime, subject: str) -> list[dict[str, object]]:
    out = io.BytesIO()
    package.build(runtime, subject, out, language="ja")
    out.seek(0)
    zf = zipfile.ZipFile(out)
    rows: list[dict[str, object]] = json.loads(zf.read("package.json"))["sections"][
        "connected_datasets"
    ]
    page = zf.read("index.html").decode()
    assert "連携データベースに保有する情報" in page
    if rows:
        csv_text = zf.read("sections/connected_datasets.csv").decode("utf-8-sig")
        assert csv_text.splitlines()[0] == "データベース,テーブル,行,項目,内容"
    return rows


def test_check_passes_on_the_example_schema(runtime: Runtime) -> None:
    assert [str(p) for p in check(runtime)] == []


def test_disclosure_finds_the_persons_rows_through_the_graph(runtime: Runtime) -> None:
    subject = _person(runtime, 1)
    rows = _sections(runtime, subject)
    by_table: dict[str, set[str]] = {}
    for row in rows:
        assert row["dataset"] == "service"
        by_table.setdefault(str(row["table"]), set()).add(str(row["row"]))
    # person 1: the account, their invitation, their own RSVP (not the guests' RSVPs to their
    # invitation: not_through), two orders, two mail logs, three access logs
    assert by_table == {
        "accounts": {"1"},
        "invitations": {"1"},
        "rsvps": {"1"},
        "orders": {"10", "11"},
        "mail_logs": {"10", "11"},
        "access_logs": {"10", "11", "12"},
    }
    values = {(r["table"], r["item"]): r["value"] for r in rows}
    assert values[("accounts", "phone")] == "090-1234-5671"  # found from the vault's E.164
    assert values[("orders", "address")] in {"東京都 1-0", "東京都 1-1"}
    assert not any(r["value"] == "guest@example.jp" for r in rows)


def test_erasure_plan_runs_in_constraint_order_and_leaves_nothing(
    runtime: Runtime, operator_db: str
) -> None:
    subject = _person(runtime, 1)
    request = _request(runtime, subject, "erasure")
    plan = erasure.compute(runtime, request)
    actions = [(s.table, s.action) for s in plan.steps]
    # updates first, then deletes children before parents
    assert set(actions[:2]) == {("orders", "update"), ("mail_logs", "update")}
    deletes = [t for t, a in actions if a == "delete"]
    assert deletes.index("rsvps") < deletes.index("invitations") < deletes.index("accounts")
    assert deletes.index("access_logs") < deletes.index("accounts")
    assert [(k.table, k.column) for k in plan.kept] == [("orders", "total")]
    # the dry run changed nothing, and recorded nothing
    assert ds.counts(operator_db, "p1@example.jp", 1)["accounts"] == 1
    assert erasure.status(runtime, request)[0] is None
    recorded = erasure.record(runtime, plan, actor="staff:st_1")
    assert recorded.state == "planned" and recorded.row_count == plan.rows
    planned = runtime.audit.tail(1)[0]
    assert planned.action == "datasets.erasure_planned"
    assert f"request:{request}" in planned.targets and planned.details["rows"] == plan.rows
    done = erasure.run(runtime, request, actor="staff:st_1")
    assert done.state == "verified"
    assert [e.action for e in runtime.audit.tail(2)] == [
        "datasets.erasure_started",
        "datasets.erasure_verified",
    ]
    assert ds.counts(operator_db, "p1@example.jp", 1) == dict.fromkeys(
        ["accounts", "invitations", "rsvps", "orders", "mail_logs", "access_logs"], 0
    )
    # other people untouched; kept columns kept; the hashed address is a keyed hash
    assert ds.counts(operator_db, "p2@example.jp", 2)["accounts"] == 1
    engine = sa.create_engine(operator_db, poolclass=NullPool)
    with engine.connect() as conn:
        kept = conn.execute(
            sa.select(
                ds.orders.c.total, ds.orders.c.shipping_address, ds.orders.c.account_id
            ).where(ds.orders.c.id.in_([10, 11]))
        ).all()
        hashed = conn.execute(
            sa.select(ds.mail_logs.c.to_address).where(ds.mail_logs.c.id == 10)
        ).scalar_one()
    engine.dispose()
    assert sorted(kept) == [(1000, "(erased)", None), (2000, "(erased)", None)]
    assert hashed.startswith("h1:") and len(hashed) == 43
    # and the disclosure now finds nothing
    assert _sections(runtime, subject) == []


class _Crash(BaseException):
    """The process dies: nothing after this point of the step runs."""


def test_a_crash_mid_erasure_resumes_without_redoing_or_skipping(
    runtime: Runtime, operator_db: str
) -> None:
    subject = _person(runtime, 1)
    request = _request(runtime, subject, "erasure")
    erasure.record(runtime, erasure.compute(runtime, request), actor="staff:st_1")
    ran: list[int] = []

    def crash_on_third(step: StepRecord) -> None:
        ran.append(step.seq)
        if step.seq == 3:
            raise _Crash  # committed in the service's database, not yet checkpointed

    with pytest.raises(_Crash):
        erasure.run(runtime, request, actor="staff:st_1", after_step=crash_on_third)
    found, steps = erasure.status(runtime, request)
    assert found is not None and found.state == "running"
    assert [s.seq for s in steps if s.done_at] == [1, 2]
    before = {s.seq: (s.done_at, s.affected) for s in steps if s.done_at}

    resumed: list[int] = []
    done = erasure.run(
        runtime, request, actor="staff:st_1", after_step=lambda s: resumed.append(s.seq)
    )
    assert done.state == "verified"
    assert resumed[0] == 3  # the step in flight again (it changes nothing twice), none before
    assert sorted(set(ran[:2]) | set(resumed)) == list(range(1, done.steps + 1))
    _, steps = erasure.status(runtime, request)
    assert {s.seq: (s.done_at, s.affected) for s in steps if s.seq in before} == before
    assert all(s.done_at for s in steps)
    assert sum(ds.counts(operator_db, "p1@example.jp", 1).values()) == 0


def test_a_refused_step_stops_in_a_visible_state_and_resumes(
    runtime: Runtime, operator_db: str
) -> None:
    subject = _person(runtime, 1)
    request = _request(runtime, subject, "erasure")
    erasure.record(runtime, erasure.compute(runtime, request), actor="staff:st_1")
    # the service adds a row that refers to the person's account after the plan was made
    engine = sa.create_engine(operator_db, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            ds.invitations.insert().values(id=500, host_account_id=1, title="新", starts_at=ds.NOW)
        )
    with pytest.raises(DatasetStepFailed) as caught:
        erasure.run(runtime, request, actor="staff:st_1")
    assert "accounts, delete" in str(caught.value)
    assert "p1@example.jp" not in str(caught.value)
    found, _ = erasure.status(runtime, request)
    assert found is not None and found.state == "failed" and found.reason
    with engine.begin() as conn:
        conn.execute(ds.invitations.delete().where(ds.invitations.c.id == 500))
    engine.dispose()
    assert erasure.run(runtime, request, actor="staff:st_1").state == "verified"


def test_check_reports_what_would_break(
    tmp_path: Path, database_url: str, operator_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_TEST_SERVICE_URL", operator_db)
    text = ds.dataset_yaml("service", "MAMORI_TEST_SERVICE_URL")
    text = text.replace("      account_id: {item: linked_service_id, erase: set_null}\n", "")
    text = text.replace(
        "    references:\n      - {columns: [account_id], table: accounts, to: [id]}\n", ""
    )
    text = text.replace(
        "      name: {item: name, erase: delete}",
        "      name: {item: name, erase: delete}\n      nickname: {item: name}",
    )
    text += "  coupons:\n    columns:\n      code: {item: content}\n"
    rt = _runtime(tmp_path, database_url, {"service": text})
    try:
        problems = check(rt)
        found = [f"{p.path}: {p.message}" for p in problems]
        with pytest.raises(DatasetError):
            erasure.compute(rt, _request(rt, _person(rt), "erasure"))
    finally:
        rt.close()
    joined = "\n".join(found)
    assert "tables.coupons: the database has no table 'coupons'" in joined
    assert "tables.accounts.columns: the table has no column 'nickname'" in joined
    assert "tables.access_logs: unreachable" in joined
    assert "would break the reference orders(account_id)" in joined
    # each problem names the file and the line of its path
    coupons = next(p for p in problems if p.path == "tables.coupons")
    assert coupons.file.endswith("datasets/service.yaml") and coupons.line is not None
    assert str(coupons).startswith(f"{coupons.file}:{coupons.line}: tables.coupons: ")


def test_disclosure_reads_both_databases(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ds.scratch_database("postgresql") as pg, ds.scratch_database("mariadb") as maria:
        ds.seed(pg)
        ds.seed(maria)
        monkeypatch.setenv("MAMORI_TEST_PG_URL", pg)
        monkeypatch.setenv("MAMORI_TEST_MARIA_URL", maria)
        rt = _runtime(
            tmp_path,
            database_url,
            {
                "orders_pg": ds.dataset_yaml("orders_pg", "MAMORI_TEST_PG_URL"),
                "events_maria": ds.dataset_yaml("events_maria", "MAMORI_TEST_MARIA_URL"),
            },
        )
        try:
            rows = _sections(rt, _person(rt, 2))
        finally:
            rt.close()
    assert {r["dataset"] for r in rows} == {"orders_pg", "events_maria"}
    for dataset in ("orders_pg", "events_maria"):
        mine = [r for r in rows if r["dataset"] == dataset]
        assert {r["table"] for r in mine} == {
            "accounts",
            "invitations",
            "rsvps",
            "orders",
            "mail_logs",
            "access_logs",
        }


def test_the_commands_as_staff_type_them(
    env: dict[str, str], tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers.cli import mamori

    with ds.scratch_database("postgresql") as url:
        ds.seed(url)
        monkeypatch.setenv("MAMORI_TEST_SERVICE_URL", url)
        rt = _runtime(
            tmp_path,
            database_url,
            {"service": ds.dataset_yaml("service", "MAMORI_TEST_SERVICE_URL")},
        )
        try:
            request = _request(rt, _person(rt, 1), "erasure")
        finally:
            rt.close()
        env = {
            **env,
            "MAMORI_POLICY": str(tmp_path / "policy" / "policy.yaml"),
            "MAMORI_TEST_SERVICE_URL": url,
        }
        assert "no problems" in mamori("datasets", "check", env=env).stderr
        plan = mamori("datasets", "erase-plan", request, env=env)
        lines = plan.stdout.splitlines()
        assert lines[0] == "step\tdataset\ttable\taction\tcolumns\trows"
        assert any("\taccounts\tdelete\t" in line for line in lines)
        assert any("\tkeep\ttotal\t" in line for line in lines)
        assert "dry run, nothing changed" in plan.stderr
        assert ds.counts(url, "p1@example.jp", 1)["accounts"] == 1
        status = mamori("datasets", "status", request, env=env, check=1)
        assert status.stderr.count("\n") == 1
        done = mamori("datasets", "erase", request, env=env).stdout
        assert done.startswith("verified\t")
        assert mamori("datasets", "status", request, env=env).stdout.startswith("verified\t")
        assert sum(ds.counts(url, "p1@example.jp", 1).values()) == 0
        # a mistake in a file: every problem on its own line, file:line: path: message
        bad = tmp_path / "policy" / "datasets" / "service.yaml"
        bad.write_text(bad.read_text().replace("item: email, erase: delete}", "item: emial}", 1))
        ran = mamori("datasets", "check", env=env, check=1)
        assert "service.yaml:" in ran.stdout
        assert "tables.accounts.columns.email.item: unknown data item 'emial'" in ran.stdout
        assert "(did you mean 'email'?)" in ran.stdout
        refused = mamori("datasets", "erase-plan", "rq_none", env=env, check=None)
        assert refused.returncode != 0 and refused.stderr.count("\n") == 1


def test_a_granted_correction_reaches_the_connected_columns(
    runtime: Runtime, operator_db: str
) -> None:
    from mamori.requests.model import Outcome
    from mamori.requests.workflow import Decision

    subject = _person(runtime, 1)
    intake = check_intake(
        runtime.vault.rules(),
        type="correction",
        language="ja",
        email="p1@example.jp",
        corrections={"name": "新しい 名前"},
    )
    request = service.file_request(
        runtime,
        intake,
        actor=f"subject:{subject}",
        client="c",
        base_url=BASE,
        subject_id=subject,
        verified_by=Verification.session,
    )
    service.start_review(runtime, request.id, actor="staff:st_1")
    service.decide(
        runtime, request.id, Decision(Outcome.fulfilled), actor="staff:st_1", base_url=BASE
    )
    engine = sa.create_engine(operator_db, poolclass=NullPool)
    with engine.connect() as conn:
        names = conn.execute(sa.select(ds.accounts.c.id, ds.accounts.c.name)).all()
        guests = conn.execute(sa.select(ds.rsvps.c.id, ds.rsvps.c.guest_name)).all()
    engine.dispose()
    assert dict(names) == {1: "新しい 名前", 2: "利用者 2", 3: "利用者 3"}
    assert dict(guests)[1] == "新しい 名前" and dict(guests)[1000] == "ゲスト"
    corrected = [e for e in runtime.audit.tail(10) if e.action == "datasets.correct"]
    assert corrected and corrected[0].details["rows"] == 2


def test_a_granted_erasure_erases_the_connected_rows_before_the_vault_shreds(
    runtime: Runtime, operator_db: str
) -> None:
    from mamori.requests.model import Outcome
    from mamori.requests.workflow import Decision

    subject = _person(runtime, 1)
    request = _request(runtime, subject, "erasure")
    service.start_review(runtime, request, actor="staff:st_1")
    # the service's database refuses a step: the decision stops, the vault keeps the person
    engine = sa.create_engine(operator_db, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE coupons (id INTEGER PRIMARY KEY, account_id INTEGER)")
        conn.exec_driver_sql(
            "ALTER TABLE coupons ADD FOREIGN KEY (account_id) REFERENCES accounts (id)"
        )
        conn.exec_driver_sql("INSERT INTO coupons VALUES (1, 1)")
    with pytest.raises(DatasetStepFailed):
        service.decide(
            runtime,
            request,
            Decision(Outcome.fulfilled, withdraw=True),
            actor="staff:st_1",
            base_url=BASE,
        )
    found, _ = erasure.status(runtime, request)
    assert found is not None and found.state == "failed"
    assert runtime.vault.get_subject(subject).status == "active"
    assert service.get(runtime, request, actor="staff:st_1").status.value == "in_review"
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE coupons")
    engine.dispose()
    # decided again: the erasure resumes, is verified, then the vault shreds
    service.decide(
        runtime,
        request,
        Decision(Outcome.fulfilled, withdraw=True),
        actor="staff:st_1",
        base_url=BASE,
    )
    assert erasure.status(runtime, request)[0].state == "verified"  # type: ignore[union-attr]
    assert sum(ds.counts(operator_db, "p1@example.jp", 1).values()) == 0
    assert runtime.vault.get_subject(subject).status != "active"
