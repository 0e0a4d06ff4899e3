"""Pseudonymised exports as Parquet: read back with pyarrow, the same rows and columns as the
CSV, one row group a page, no direct identifier or identifier code in any cell nor in the raw
bytes of an uncompressed file, pseudonyms that change when the key is replaced, the format
recorded and audited, a bad format and a missing pyarrow each one line (or a 400). On SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from mamori.app import Runtime
from mamori.errors import UserInputError
from mamori.statistics import exports, parquet, pseudonyms, storage
from mamori.store import db
from mamori.vault import aggregate, restrictions
from mamori.web.app import create_app
from tests.helpers.cli import mamori
from tests.helpers.runtime import open_test_runtime
from tests.helpers.staff import PASSWORD, admin_client, create_staff, csrf_token
from tests.helpers.statistics import statistics_policy_file
from tests.integration.statistics.test_exports import ANALYST, DOCUMENT, HOST, _items, _people

HEADER = ["pseudonym", "device_model", "os_version", "email", "device_id"]


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    return statistics_policy_file(tmp_path / "policy")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, policy: Path) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url, policy=policy)
    yield runtime
    runtime.close()


def _export(
    runtime: Runtime, format: str = "parquet", *, compression: bool = True
) -> tuple[bytes, storage.ExportRow]:
    sink = io.BytesIO()
    record = exports.export(
        runtime.vault, ANALYST, "research", sink, format=format, compression=compression
    )
    return sink.getvalue(), record


def _table(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))


def _without_pyarrow(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import pyarrow.parquet`` raises ImportError, as without the extra."""
    for name in [n for n in sys.modules if n == "pyarrow" or n.startswith("pyarrow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)


def test_the_parquet_file_holds_the_rows_and_columns_of_the_csv(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _people(runtime, 5)
    restrictions.set_stops(
        runtime.vault, HOST, made[0], stopped_items=["device_id"], stopped_purposes=[]
    )
    # Pages of two people: the file is written a page at a time, one row group each.
    pages = functools.partial(aggregate.people, batch=2)
    monkeypatch.setattr(aggregate, "people", pages)
    data, record = _export(runtime)
    text, csv_record = _export(runtime, "csv")
    table = _table(data)
    assert table.column_names == HEADER
    assert all(field.type == pa.string() for field in table.schema)
    assert pq.ParquetFile(io.BytesIO(data)).num_row_groups == 3
    rows = table.to_pylist()
    expected = [
        {k: (v or None) for k, v in r.items()}
        for r in csv.DictReader(io.StringIO(text.decode("utf-8")))
    ]
    assert rows == expected and len(rows) == 5 == record.rows == csv_record.rows
    assert sum(r["device_id"] is None for r in rows) == 1  # the stopped item: null, not ""
    assert {r["device_model"] for r in rows} == {"iPhone 15"}
    assert record.format == "parquet" and csv_record.format == "csv"
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    about = table.schema.metadata
    assert about[b"mamori.export"] == record.id.encode()
    assert about[b"mamori.purpose"] == b"research"
    assert about[b"mamori.key_generation"] == b"1"
    with db.read(runtime.engine) as conn:
        listed = {r.id: r.format for r in storage.export_rows(conn)}
    assert listed == {record.id: "parquet", csv_record.id: "csv"}
    audited = [e for e in runtime.audit.tail(20) if e.action == "statistics.export"]
    assert sorted(str(e.details["format"]) for e in audited) == ["csv", "parquet"]


def test_no_cell_and_no_byte_holds_an_identifier(runtime: Runtime) -> None:
    made = _people(runtime, 6)
    data, _record = _export(runtime)
    raw, _ = _export(runtime, compression=False)
    cells = [str(v) for row in _table(data).to_pylist() for v in row.values() if v is not None]
    assert len(cells) == 6 * len(HEADER)
    assert _table(raw).to_pylist() == _table(data).to_pylist()
    # Uncompressed, the values are in the bytes as they are: the search can find them.
    assert b"iPhone 15" in raw and cells[0].encode() in raw
    for i, subject in enumerate(made):
        values = _items(i)
        found = [
            *(str(values[k]) for k in ("name", "email", "phone", "address", "device_id")),
            *("佐藤", "taro", "090-1234", "芝公園", "application/pdf", DOCUMENT[:12], subject),
        ]
        for part in found:
            assert not [c for c in cells if part in c], part
            assert part.encode("utf-8") not in raw, part


def test_pseudonyms_change_when_the_key_is_replaced(runtime: Runtime) -> None:
    _people(runtime, 3)
    first, one = _export(runtime)
    again, _ = _export(runtime)
    assert _table(first).to_pylist() == _table(again).to_pylist()  # one key: the same
    pseudonyms.replace(runtime.vault, "research", "staff:1")
    replaced, two = _export(runtime)
    assert (one.key_generation, two.key_generation) == (1, 2)
    before, after = _table(first).to_pydict(), _table(replaced).to_pydict()
    for column in ("pseudonym", "email", "device_id"):
        assert len(set(before[column])) == 3 and not set(before[column]) & set(after[column])
    assert before["device_model"] == after["device_model"]  # kept: the same
    assert _table(replaced).schema.metadata[b"mamori.key_generation"] == b"2"


def test_a_bad_format_is_one_line(
    runtime: Runtime, env: dict[str, str], policy: Path, tmp_path: Path
) -> None:
    _people(runtime, 1)
    with pytest.raises(UserInputError, match=r"^format: use csv or parquet, not 'xlsx'$"):
        exports.export(runtime.vault, ANALYST, "research", io.BytesIO(), format="xlsx")
    target = tmp_path / "research.xlsx"
    env = {**env, "MAMORI_POLICY": str(policy)}
    bad = mamori(
        "statistics", "export", "research", "--format", "xlsx", "-o", str(target), env=env, check=2
    )
    assert bad.stderr.strip() == "mamori: format: use csv or parquet, not 'xlsx'"
    assert not target.exists()  # refused before the file is opened
    with db.read(runtime.engine) as conn:
        assert storage.export_rows(conn) == []


def test_the_cli_writes_parquet(
    runtime: Runtime, env: dict[str, str], policy: Path, tmp_path: Path
) -> None:
    _people(runtime, 2)
    target = tmp_path / "research.parquet"
    env = {**env, "MAMORI_POLICY": str(policy)}
    ran = mamori(
        "statistics", "export", "research", "--format", "parquet", "-o", str(target), env=env
    )
    assert "exported 2 rows" in ran.stdout and "parquet" in ran.stdout
    table = pq.read_table(target)
    assert table.column_names == HEADER and table.num_rows == 2
    listed = mamori("statistics", "exports", env=env)
    assert '"format":"parquet"' in listed.stdout


def test_without_pyarrow_parquet_is_refused_naming_the_extra(
    runtime: Runtime,
    env: dict[str, str],
    policy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _people(runtime, 1)
    _without_pyarrow(monkeypatch)
    with pytest.raises(UserInputError) as refused:
        _export(runtime)
    assert refused.value.message == parquet.MISSING
    assert "mamori[parquet]" in parquet.MISSING
    target = tmp_path / "research.parquet"
    env = {**env, "MAMORI_POLICY": str(policy)}
    bad = mamori(
        "statistics",
        "export",
        "research",
        "--format",
        "parquet",
        "-o",
        str(target),
        env=env,
        check=2,
    )
    assert bad.stderr.strip() == f"mamori: {parquet.MISSING}"
    assert not target.exists()
    create_staff(runtime, "lead", PASSWORD, "lead")
    lead = admin_client(
        TestClient(create_app(runtime=runtime), follow_redirects=False), "lead", PASSWORD
    )
    answer = lead.post(
        "/admin/statistics/exports",
        data={"csrf_token": csrf_token(lead), "purpose": "research", "format": "parquet"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json() == {"error": parquet.MISSING, "status": 400}
    # Nothing made: no export recorded, no key generated, the CSV still works.
    with db.read(runtime.engine) as conn:
        assert storage.export_rows(conn) == []
        assert storage.current_generation(conn, "research") is None
    text, record = _export(runtime, "csv")
    assert record.rows == 1 and text.startswith(b"pseudonym,")
