"""Statistics in the admin console: the lead runs a query and sees the small cell marked
suppressed, downloads the same answer as CSV, runs a logged query again; a refused query is
shown with its reason and nothing logged; the list of pseudonymised exports, a new export
downloaded and recorded, the key replaced; an auditor reads but runs nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.statistics import storage
from mamori.store import db
from mamori.vault.access import Caller
from mamori.web.app import create_app
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff, csrf_token
from tests.helpers.statistics import statistics_policy_file

HOST = Caller("key:host")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(
        tmp_path, database_url, policy=statistics_policy_file(tmp_path / "policy")
    )
    for prefecture, n in {"東京都": 12, "大阪府": 3, "京都府": 15}.items():
        for i in range(n):
            runtime.vault.create_subject(
                HOST,
                type="customer",
                items={
                    "name": "山田 花子",
                    "email": f"p{n}-{i}@example.jp",
                    "address": f"{prefecture}中央{i}",
                    "device_model": "iPhone 15",
                },
            )
    create_staff(runtime, "lead", PASSWORD, "lead")
    create_staff(runtime, "auditor", PASSWORD, "auditor")
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


def _client(app: FastAPI, login: str) -> TestClient:
    return admin_client(TestClient(app, follow_redirects=False), login, PASSWORD)


def test_the_lead_runs_a_query_downloads_it_and_runs_it_again(
    app: FastAPI, runtime: Runtime
) -> None:
    lead = _client(app, "lead")
    token = csrf_token(lead)
    page = lead.get("/admin/statistics")
    assert page.status_code == 200 and "prefecture" in page.text
    ran = lead.post(
        "/admin/statistics/run",
        data={
            "csrf_token": token,
            "purpose": "statistics",
            "measure": "people",
            "by": "prefecture",
        },
    )
    assert ran.status_code == 200, ran.text
    assert 'data-suppressed="primary"' in ran.text and 'data-suppressed="secondary"' in ran.text
    assert ">3<" not in ran.text
    with db.read(runtime.engine) as conn:
        [logged] = storage.logged_queries(conn)
    csv_answer = lead.post(
        "/admin/statistics/run", data={"csrf_token": token, "query": logged.id, "format": "csv"}
    )
    assert csv_answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["prefecture", "value", "suppressed"]
    assert ["大阪府", "", "primary"] in rows and ["*", "30", ""] in rows
    bad = lead.post(
        "/admin/statistics/run",
        data={"csrf_token": token, "purpose": "statistics", "by": "planet"},
    )
    assert bad.status_code == 400 and "declares no dimension" in bad.text


def test_exports_are_listed_made_and_keyed(app: FastAPI, runtime: Runtime) -> None:
    lead = _client(app, "lead")
    token = csrf_token(lead)
    listing = lead.get("/admin/statistics/exports")
    assert listing.status_code == 200 and "identity_document" in listing.text
    made = lead.post("/admin/statistics/exports", data={"csrf_token": token, "purpose": "research"})
    assert made.status_code == 200, made.text
    assert "@example.jp" not in made.text and "山田" not in made.text
    assert made.text.splitlines()[0] == "pseudonym,device_model,os_version,email,device_id"
    assert made.headers["content-disposition"].endswith('.csv"')
    as_parquet = lead.post(
        "/admin/statistics/exports",
        data={"csrf_token": token, "purpose": "research", "format": "parquet"},
    )
    assert as_parquet.status_code == 200
    assert as_parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert as_parquet.headers["content-disposition"].endswith('.parquet"')
    table = pq.read_table(io.BytesIO(as_parquet.content))
    assert table.column_names == ["pseudonym", "device_model", "os_version", "email", "device_id"]
    assert table.num_rows == 30 and "@example.jp" not in str(table.to_pylist())
    bad = lead.post(
        "/admin/statistics/exports",
        data={"csrf_token": token, "purpose": "research", "format": "xlsx"},
    )
    assert bad.status_code == 400 and "use csv or parquet" in bad.text
    replaced = lead.post(
        "/admin/statistics/keys",
        data={"csrf_token": token, "purpose": "research", "action": "replace"},
    )
    assert replaced.status_code == 303
    listed = lead.get("/admin/statistics/exports")
    assert listed.text.count("data-export=") == 2
    assert "<td>parquet</td>" in listed.text and "<td>csv</td>" in listed.text
    assert 'name="format" value="parquet"' in listing.text
    unknown = lead.post("/admin/statistics/exports", data={"csrf_token": token, "purpose": "x"})
    assert unknown.status_code == 404


def test_the_auditor_reads_and_runs_nothing(app: FastAPI) -> None:
    auditor = _client(app, "auditor")
    token = csrf_token(auditor)
    assert auditor.get("/admin/statistics").status_code == 200
    refused = auditor.post(
        "/admin/statistics/run", data={"csrf_token": token, "purpose": "statistics"}
    )
    assert refused.status_code == 403
