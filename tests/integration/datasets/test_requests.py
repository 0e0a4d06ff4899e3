"""Granted requests reaching the connected databases (PostgreSQL and MariaDB, scratch databases
made by the tests): a usage stop or a stop of provision recorded for the host to honour and
named in the notice; an erasure of chosen items applied to the columns that hold them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from mamori.app import Runtime
from mamori.datasets import erasure
from mamori.requests import service
from mamori.requests.intake import check_intake
from mamori.requests.model import Outcome, Verification
from mamori.requests.workflow import Decision
from tests.helpers import datasets as ds
from tests.helpers.requests import BASE, HOST, mails
from tests.helpers.runtime import open_test_runtime

STAFF = "staff:st_1"


@pytest.fixture(params=["postgresql", "mariadb"])
def operator_db(request: pytest.FixtureRequest) -> Iterator[str]:
    with ds.scratch_database(str(request.param)) as url:
        ds.seed(url)
        yield url


@pytest.fixture
def runtime(
    tmp_path: Path, database_url: str, operator_db: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    monkeypatch.setenv("MAMORI_TEST_SERVICE_URL", operator_db)
    policy = ds.write_policy_folder(
        tmp_path, {"service": ds.dataset_yaml("service", "MAMORI_TEST_SERVICE_URL")}
    )
    rt = open_test_runtime(tmp_path, database_url, policy=policy)
    yield rt
    rt.close()


def _person(runtime: Runtime, n: int) -> str:
    return runtime.vault.create_subject(
        HOST,
        type="customer",
        items={"name": f"利用者 {n}", "email": f"p{n}@example.jp", "phone": f"090-1234-567{n}"},
    )


def _filed(
    runtime: Runtime, subject: str, kind: str, items: list[str], *, n: int = 1, lang: str = "ja"
) -> str:
    grounds = {
        "usage_stop": "rights_harmed",
        "provision_stop": "provision_without_consent",
        "erasure": "no_longer_needed",
    }
    intake = check_intake(
        runtime.vault.rules(),
        type=kind,
        language=lang,
        email=f"p{n}@example.jp",
        ground=grounds[kind],
        items=items,
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
    service.start_review(runtime, request.id, actor=STAFF)
    return request.id


def _recorded(runtime: Runtime, request_id: str) -> list[dict[str, object]]:
    return [
        dict(e.details)
        for e in runtime.audit.tail(30)
        if e.action == "datasets.stop_recorded" and f"request:{request_id}" in e.targets
    ]


def test_a_usage_stop_is_recorded_where_the_datasets_hold_the_items(runtime: Runtime) -> None:
    subject = _person(runtime, 1)
    request = _filed(runtime, subject, "usage_stop", ["phone", "address"])
    # the preview names the dataset, and records nothing
    _, preview = service.preview_decision(
        runtime, request, Decision(Outcome.fulfilled), base_url=BASE
    )
    assert "連携データベース(service)" in preview.body
    assert _recorded(runtime, request) == []
    service.decide(runtime, request, Decision(Outcome.fulfilled), actor=STAFF, base_url=BASE)
    # person 1's phone in their account, their address in their two orders
    assert _recorded(runtime, request) == [
        {
            "dataset": "service",
            "rows": 3,
            "rows.accounts": 1,
            "rows.orders": 2,
            "item.address": True,
            "item.phone": True,
        }
    ]
    decided = [e for e in runtime.audit.tail(30) if e.action == "request.decide"]
    assert decided[-1].details["stop_datasets"] == "service"
    body = mails(runtime, "request_decided")[-1].body or ""
    assert "連携データベース(service)" in body
    assert "090" not in str(_recorded(runtime, request))


def test_a_provision_stop_names_the_datasets_in_english(runtime: Runtime) -> None:
    subject = _person(runtime, 2)
    request = _filed(runtime, subject, "provision_stop", ["address"], n=2, lang="en")
    service.decide(runtime, request, Decision(Outcome.fulfilled), actor=STAFF, base_url=BASE)
    assert _recorded(runtime, request) == [
        {"dataset": "service", "rows": 2, "rows.orders": 2, "item.address": True}
    ]
    body = mails(runtime, "request_decided")[-1].body or ""
    assert "connected databases (service)" in body


def test_nothing_is_named_where_no_dataset_holds_the_persons_items(runtime: Runtime) -> None:
    subject = _person(runtime, 9)  # no rows in the service's database
    request = _filed(runtime, subject, "usage_stop", ["phone"], n=9)
    service.decide(runtime, request, Decision(Outcome.fulfilled), actor=STAFF, base_url=BASE)
    assert _recorded(runtime, request) == []
    assert "連携データベース" not in (mails(runtime, "request_decided")[-1].body or "")
    # a substitute measure stops nothing: nothing is recorded, nothing named
    other = _person(runtime, 3)
    substitute = _filed(runtime, other, "usage_stop", ["phone"], n=3)
    service.decide(
        runtime,
        substitute,
        Decision(Outcome.fulfilled, substitute=True, reason="配信を止めました"),
        actor=STAFF,
        base_url=BASE,
    )
    assert _recorded(runtime, substitute) == []
    assert "連携データベース" not in (mails(runtime, "request_decided")[-1].body or "")


def _rows(url: str, table: sa.Table, *ids: int) -> list[sa.Row[Any]]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(table).where(table.c.id.in_(ids))).all())
    finally:
        engine.dispose()


def test_an_erasure_of_chosen_items_reaches_only_their_columns(
    runtime: Runtime, operator_db: str
) -> None:
    subject = _person(runtime, 1)
    request = _filed(runtime, subject, "erasure", ["address"])
    before = ds.counts(operator_db, "p1@example.jp", 1)
    service.decide(runtime, request, Decision(Outcome.fulfilled), actor=STAFF, base_url=BASE)
    found, steps = erasure.status(runtime, request)
    assert found is not None and found.state == "verified" and found.row_count == 2
    assert [(s.table, s.action, list(s.columns)) for s in steps] == [
        ("orders", "update", ["shipping_address"])
    ]
    orders = {
        r.id: (r.account_id, r.shipping_address, r.total)
        for r in _rows(operator_db, ds.orders, 10, 11, 20)
    }
    assert orders == {
        10: (1, "(erased)", 1000),
        11: (1, "(erased)", 2000),
        20: (2, "東京都 2-0", 1000),
    }
    # nothing else of the person's changed, in the service's database or the vault
    assert ds.counts(operator_db, "p1@example.jp", 1) == before
    assert runtime.vault.get_subject(subject).status == "active"
    decided = [e for e in runtime.audit.tail(30) if e.action == "request.decide"]
    assert decided[-1].details["connected_rows"] == 2


def test_an_erased_item_whose_column_deletes_takes_the_rows_that_need_it(
    runtime: Runtime, operator_db: str
) -> None:
    subject = _person(runtime, 1)
    request = _filed(runtime, subject, "erasure", ["email"])
    service.decide(runtime, request, Decision(Outcome.fulfilled), actor=STAFF, base_url=BASE)
    found, steps = erasure.status(runtime, request)
    assert found is not None and found.state == "verified"
    planned = {(s.table, s.action) for s in steps}
    # the account goes (its e-mail says delete), with the rows that cannot stay without it;
    # the orders stay, unlinked, with their address; the mail logs' address is hashed
    assert planned == {
        ("orders", "update"),
        ("mail_logs", "update"),
        ("access_logs", "delete"),
        ("rsvps", "delete"),
        ("invitations", "delete"),
        ("accounts", "delete"),
    }
    orders = {
        r.id: (r.account_id, r.shipping_address) for r in _rows(operator_db, ds.orders, 10, 11)
    }
    assert orders == {10: (None, "東京都 1-0"), 11: (None, "東京都 1-1")}
    left = ds.counts(operator_db, "p1@example.jp", 1)
    assert left["accounts"] == left["invitations"] == left["access_logs"] == 0
    assert all(
        str(r.to_address).startswith("h1:") for r in _rows(operator_db, ds.mail_logs, 10, 11)
    )
    assert ds.counts(operator_db, "p2@example.jp", 2)["accounts"] == 1


def test_the_commands_plan_an_erasure_of_chosen_items(
    env: dict[str, str], tmp_path: Path, runtime: Runtime, operator_db: str
) -> None:
    from tests.helpers.cli import mamori

    request = _filed(runtime, _person(runtime, 1), "erasure", ["address"])
    env = {
        **env,
        "MAMORI_POLICY": str(tmp_path / "policy" / "policy.yaml"),
        "MAMORI_TEST_SERVICE_URL": operator_db,
    }
    plan = mamori("datasets", "erase-plan", request, "--items", "address", env=env)
    assert plan.stdout.splitlines()[1:] == [
        "1\tservice\torders\tupdate\tshipping_address=rewrite\t2"
    ]
    refused = mamori("datasets", "erase-plan", request, "--items", "adress", env=env, check=None)
    assert refused.returncode != 0 and "unknown data item 'adress'" in refused.stderr
    assert refused.stderr.count("\n") == 1
    done = mamori("datasets", "erase", request, "--items", "address", env=env).stdout
    assert done.startswith("verified\t1 steps\t2 rows")
