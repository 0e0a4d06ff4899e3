"""`mamori provisions export` as a user runs it: CSV (English by default, `--lang ja`) and JSON
Lines, to standard output or a file, filtered like the console's page, audited; a bad option
is one line and exit code 2, never a traceback. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from mamori.provisions import storage
from mamori.provisions.rules import retain_until
from mamori.provisions.storage import AcquisitionRow, RecordRow
from mamori.store import db
from tests.helpers.cli import mamori
from tests.helpers.runtime import open_test_runtime

T0 = dt.datetime(2026, 4, 1, 3, tzinfo=dt.UTC)


def _record(i: int, recipient: str, basis: str) -> RecordRow:
    at = T0 + dt.timedelta(days=i)
    return RecordRow(
        id=f"pr_{i:03d}",
        batch_id=f"pv_{i:03d}",
        provided_at=at,
        recipient_id=recipient,
        recipient={"name": {"ja": "提供先甲", "en": "Recipient A"}, "address": "東京都"},
        subject_id=f"s{i % 2}",
        items=("advertising_id",),
        purpose_id="advertising",
        basis=basis,
        consent_id="pc_1" if basis == "consent" else None,
        reason=None if basis == "consent" else "@SUM(1)",
        policy_version=1,
        actor="key:test",
        contract=False,
        retain_until=retain_until(at, contract=False),
    )


@pytest.fixture
def env(tmp_path: Path, database_url: str, env: dict[str, str]) -> dict[str, str]:
    runtime = open_test_runtime(tmp_path, database_url)
    try:
        with db.write(runtime.engine) as conn:
            storage.insert_records(
                conn,
                [_record(0, "a8net", "consent"), _record(1, "a8net", "public_authority")]
                + [_record(i, "hosting", "entrustment") for i in range(2, 5)],
            )
            storage.insert_acquisition(
                conn,
                AcquisitionRow(
                    id="pa_1",
                    subject_id="s1",
                    received_at=T0,
                    provider={"name": {"ja": "株式会社乙", "en": None}, "address": "大阪府"},
                    items=("name",),
                    contract=True,
                    policy_version=1,
                    actor="key:test",
                    recorded_at=T0,
                    retain_until=retain_until(T0, contract=True),
                ),
            )
    finally:
        runtime.close()
    return env


def test_csv_to_standard_output(env: dict[str, str]) -> None:
    ran = mamori("provisions", "export", "--recipient", "a8net", env=env)
    header, *rows = list(csv.reader(io.StringIO(ran.stdout, newline="")))
    assert header[:4] == ["Record ID", "Provided at (Asia/Tokyo)", "Recipient ID", "Recipient"]
    assert [r[0] for r in rows] == ["pr_001", "pr_000"]  # newest first
    assert rows[0][1] == "2026-04-02 12:00:00" and rows[0][3] == "Recipient A"
    assert rows[0][11] == "'@SUM(1)" and rows[0][9] == "Cooperation with a public body"
    ja = mamori("provisions", "export", "--lang", "ja", "--basis", "consent", "--bom", env=env)
    assert ja.stdout.startswith("\ufeff記録ID,提供日時 (Asia/Tokyo)")
    assert "本人の同意" in ja.stdout and ja.stdout.count("\n") == 2


def test_json_lines_to_a_file_and_audited(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "ledger.jsonl"
    ran = mamori(
        "provisions", "export", "--format", "json", "--since", "2026-04-03",
        "--until", "2026-04-04", "--output", str(target), env=env,
    )  # fmt: skip
    assert ran.stdout.strip() == f"exported 2 records to {target}"
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["pr_003", "pr_002"]
    assert lines[0]["basis"] == "entrustment" and lines[0]["provided_at"].endswith("Z")
    assert lines[0]["recipient"]["name"]["ja"] == "提供先甲"
    receipts = mamori("provisions", "export", "--receipts", "--format", "json", env=env)
    [received] = [json.loads(line) for line in receipts.stdout.splitlines()]
    assert received["id"] == "pa_1" and received["contract"] is True
    tail = mamori("audit", "tail", "-n", "3", env=env).stdout
    exports = [line for line in tail.splitlines() if "provision.ledger_export" in line]
    assert len(exports) == 2 and all(" cli " in line for line in exports)
    assert "rows=2" in exports[0] and "direction=receipts" in exports[1]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--format", "xml"], "--format: use csv or json"),
        (["--lang", "fr"], "--lang: use en or ja"),
        (["--since", "2026-02-30"], "YYYY-MM-DD"),
        (["--since", "2026-04-05", "--until", "2026-04-01"], "since > until"),
        (["--basis", "friendship"], "one of consent"),
        (["--recipient", "a8nett"], "did you mean 'a8net'"),
        (["--receipts", "--recipient", "a8net"], "no recipient or basis"),
        (["--subject", "hanako@example.jp"], "person's ID"),
    ],
)
def test_a_bad_option_is_one_line(env: dict[str, str], args: list[str], words: str) -> None:
    ran = mamori("provisions", "export", *args, env=env, check=2)
    assert ran.stderr.count("\n") == 1 and words in ran.stderr, ran.stderr
    assert ran.stdout == "" and "hanako" not in ran.stderr


def test_an_unwritable_output_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    ran = mamori(
        "provisions", "export", "--output", str(tmp_path / "missing" / "x.csv"), env=env, check=1
    )
    assert ran.stderr.count("\n") == 1 and "cannot write" in ran.stderr
