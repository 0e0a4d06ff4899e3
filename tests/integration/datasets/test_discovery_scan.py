"""`mamori datasets scan` on the example service's schema, on SQLite, PostgreSQL and MariaDB:
the right kinds, the kokochie policy's right items, and never a sampled value printed."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from benchmarks.discovery_corpus import TODAY
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from mamori.cli import app
from mamori.config import example_policy_path
from mamori.datasets.discovery import scan
from mamori.policy.loader import read_policy
from tests.helpers.discovery_schema import EXPECTED, create_schema


@pytest.fixture
def service_url(scratch_url: str) -> str:
    engine = sa.create_engine(scratch_url, poolclass=NullPool)
    try:
        create_schema(engine)
    finally:
        engine.dispose()
    return scratch_url


def _values(url: str) -> set[str]:
    """Every personal value stored in the schema (to show none is printed)."""
    engine = sa.create_engine(url, poolclass=NullPool)
    found: set[str] = set()
    try:
        with engine.connect() as conn:
            for (table, column), (kind, _) in EXPECTED.items():
                if kind is not None:
                    rows = conn.execute(sa.text(f"SELECT {column} FROM {table}")).scalars()
                    found |= {str(v) for v in rows if v is not None}
    finally:
        engine.dispose()
    return found


def test_the_scan_proposes_the_policys_items(service_url: str) -> None:
    policy = read_policy(example_policy_path()).policy
    result = scan(service_url, policy, today=TODAY, rows=50, dataset_id="yobunara")
    got = {(f.table, f.column): f.kind for f in result.findings}
    items = {(p.finding.table, p.finding.column): p.item for p in result.proposals}
    wrong = {
        key: (got.get(key), items.get(key), expected)
        for key, expected in EXPECTED.items()
        if (got.get(key), items.get(key)) != expected
    }
    assert not wrong, wrong
    assert {f.table for f in result.findings} == {
        "accounts", "rsvps", "orders", "mail_logs", "partners",
    }  # fmt: skip
    mail_body = next(f for f in result.findings if (f.table, f.column) == ("mail_logs", "body"))
    assert "phone" in mail_body.mentions
    card = next(f for f in result.findings if f.column == "card_number")
    assert card.check_digits == (50, 0)

    draft = yaml.safe_load(result.draft)
    assert draft["schema"] == "mamori-dataset/1"
    assert draft["id"] == "yobunara"
    assert draft["tables"]["accounts"]["columns"]["email"] == {"item": "email"}
    assert draft["tables"]["accounts"]["identities"] == {"email": "email", "phone": "phone"}
    assert draft["tables"]["partners"]["columns"]["contact_email"] == {"item": "contact_email"}
    assert "birthday" not in draft["tables"]["accounts"]["columns"]  # no item: a comment
    assert "# birthday: birth_date" in result.draft
    assert not any(value in result.draft for value in _values(service_url))


def test_the_command_prints_counts_and_kinds_never_values(service_url: str, tmp_path: Path) -> None:
    output = tmp_path / "draft.yaml"
    result = CliRunner().invoke(
        app, ["datasets", "scan", service_url, "--rows", "30", "--id", "shop", "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert "accounts" in result.output and "email" in result.output
    assert "30/30" in result.output
    assert "person names: SudachiPy" in result.output
    stored = _values(service_url)
    assert not any(value in result.output for value in stored)
    draft = output.read_text(encoding="utf-8")
    assert yaml.safe_load(draft)["tables"]["rsvps"]["columns"]["guest_email"] == {"item": "email"}
    assert not any(value in draft for value in stored)


def test_without_nlp_names_come_from_column_names(service_url: str) -> None:
    policy = read_policy(example_policy_path()).policy
    result = scan(service_url, policy, today=TODAY, rows=40, use_nlp=False)
    assert result.names is None
    kinds = {(f.table, f.column): f.kind for f in result.findings}
    assert kinds["accounts", "name"] == kinds["rsvps", "guest_name"] == "person_name"
    assert "NLP off" in result.draft


def test_a_postgresql_schema_other_than_the_default(scratch_url: str) -> None:
    if not scratch_url.startswith("postgresql"):
        pytest.skip("schemas are PostgreSQL's")
    engine = sa.create_engine(scratch_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE SCHEMA crm")
            conn.exec_driver_sql("CREATE TABLE crm.leads (id int PRIMARY KEY, mail text)")
            conn.exec_driver_sql(
                "INSERT INTO crm.leads SELECT i, 'lead' || i || '@example.co.jp'"
                " FROM generate_series(1, 20) AS i"
            )
    finally:
        engine.dispose()
    policy = read_policy(example_policy_path()).policy
    result = scan(scratch_url, policy, today=TODAY, schema="crm")
    assert [(f.table, f.column, f.kind) for f in result.findings if f.kind] == [
        ("leads", "mail", "email")
    ]
    assert scan(scratch_url, policy, today=TODAY).findings == []  # public is empty
