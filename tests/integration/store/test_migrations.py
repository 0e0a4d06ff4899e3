"""Migrations: from an empty database to the tables declared in mamori.store.tables."""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from mamori.store import db, tables

TABLES = {
    "alembic_version",
    "anomaly_alerts",
    "anomaly_clients",
    "anomaly_counts",
    "anomaly_cursor",
    "anomaly_people",
    "audit_checkpoints",
    "audit_entries",
    "audit_nodes",
    "blind_indexes",
    "center_links",
    "center_sessions",
    "consent_links",
    "consent_receipts",
    "consent_texts",
    "contractor_checks",
    "contractor_contracts",
    "change_notice_reads",
    "incident_actions",
    "incident_people",
    "incident_reports",
    "incidents",
    "item_groups",
    "job_runs",
    "mail_optouts",
    "mail_outbox",
    "data_requests",
    "dataset_erasure_steps",
    "dataset_erasures",
    "policy_changes",
    "policy_consents",
    "policy_versions",
    "provision_acquisitions",
    "provision_consents",
    "provision_record_people",
    "provision_records",
    "request_codes",
    "request_notes",
    "request_throttle",
    "restrictions",
    "service_keys",
    "staff_accounts",
    "staff_pending_sign_ins",
    "staff_recovery_codes",
    "staff_sessions",
    "staff_sign_in_failures",
    "staff_totp",
    "subject_items",
    "subjects",
    "system_keys",
    "training_completions",
    "training_courses",
    "usage_events",
    "webhook_attempts",
    "webhook_cursor",
    "webhook_deliveries",
    "webhook_endpoints",
    "pseudonym_keys",
    "pseudonymised_exports",
    "statistics_queries",
}


LATEST = "0024_item_groups"


def test_migrations_create_the_declared_schema_and_are_idempotent(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini anywhere near: the package finds its scripts
    engine = db.create_engine(database_url)
    try:
        assert db.current_revision(engine) is None
        db.migrate(engine)
        db.migrate(engine)  # a second run changes nothing
        assert db.current_revision(engine) == LATEST
        with db.read(engine) as conn:
            assert set(sa.inspect(conn).get_table_names()) == TABLES
            differences = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_the_latest_migration_goes_down_and_up_again(database_url: str) -> None:
    """The newest revisions' downgrades leave the schema before them, and their upgrades
    bring back the declared schema."""
    engine = db.create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    try:
        db.migrate(engine)
        with db.write(engine) as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0010_acquisitions")
        assert db.current_revision(engine) == "0010_acquisitions"
        with db.read(engine) as conn:
            inspector = sa.inspect(conn)
            assert set(inspector.get_table_names()) == TABLES - {
                "anomaly_alerts",
                "anomaly_clients",
                "anomaly_counts",
                "anomaly_cursor",
                "anomaly_people",
                "training_completions",
                "training_courses",
                "webhook_attempts",
                "webhook_cursor",
                "webhook_deliveries",
                "webhook_endpoints",
                "job_runs",
                "item_groups",
                "pseudonym_keys",
                "pseudonymised_exports",
                "statistics_queries",
                "dataset_erasure_steps",
                "dataset_erasures",
                "consent_links",
                "contractor_checks",
                "contractor_contracts",
                "incident_actions",
                "incident_people",
                "incident_reports",
                "incidents",
                "provision_record_people",
                "request_notes",
                "staff_pending_sign_ins",
                "staff_recovery_codes",
                "staff_totp",
            }
            columns = {c["name"] for c in inspector.get_columns("staff_accounts")}
            assert "email_ct" not in columns
            columns = {c["name"] for c in inspector.get_columns("staff_sessions")}
            assert "authenticated_at" not in columns
            columns = {c["name"] for c in inspector.get_columns("service_keys")}
            assert "contractor_id" not in columns
            columns = {c["name"] for c in inspector.get_columns("provision_records")}
            assert "confirmation" not in columns
        db.migrate(engine)
        assert db.current_revision(engine) == LATEST
        with db.read(engine) as conn:
            assert set(sa.inspect(conn).get_table_names()) == TABLES
            assert compare_metadata(MigrationContext.configure(conn), tables.metadata) == []
    finally:
        engine.dispose()


def test_concurrent_migrations_serialise(database_url: str) -> None:
    engines = [db.create_engine(database_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            db.migrate(engines[index])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors
        assert db.current_revision(engines[0]) == LATEST
    finally:
        for engine in engines:
            engine.dispose()


def test_migrations_are_shipped_in_the_package() -> None:
    assert (db.MIGRATIONS / "env.py").is_file()
    versions = sorted(p.name for p in (db.MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert versions == [
        "0001_initial.py",
        "0002_vault.py",
        "0003_consent.py",
        "0004_staff.py",
        "0005_mail.py",
        "0006_requests.py",
        "0007_policy_changes.py",
        "0008_center_operations.py",
        "0009_provisions.py",
        "0010_acquisitions.py",
        "0011_contractors.py",
        "0012_person_related.py",
        "0013_ledger.py",
        "0014_roles.py",
        "0015_console.py",
        "0016_incidents.py",
        "0017_totp.py",
        "0018_anomalies.py",
        "0019_webhooks.py",
        "0020_statistics.py",
        "0021_datasets.py",
        "0023_job_runs.py",
        "0024_item_groups.py",
    ]
    assert os.path.isabs(db.MIGRATIONS)


def test_upgrades_carry_existing_rows_forward(database_url: str) -> None:
    """Rows written before a migration come out of it right: an ``admin`` of before the seed's
    roles is a ``manager`` (0014), and every request filed before request numbers has a valid,
    distinct one (0015)."""
    from stdnum import damm

    engine = db.create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    try:
        db.migrate(engine)
        with db.write(engine) as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0013_ledger")
        with db.write(engine) as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO staff_accounts (id, login_hash, login_ct, name_ct, role,"
                    " password_hash, created_at, password_changed_at)"
                    " VALUES ('st_old', :h, :c, :c, 'admin', 'x', :now, :now)"
                ),
                {"h": b"\x01" * 32, "c": b"ct", "now": dt.datetime.now(dt.UTC)},
            )
            for n in range(3):
                conn.execute(
                    sa.text(
                        "INSERT INTO data_requests (id, type, status, language, item_ids,"
                        " substitute, sealed, created_at, updated_at, due_at, downloads_left)"
                        " VALUES (:id, 'inquiry', 'received', 'ja', '[]', :f, :s,"
                        " :now, :now, :now, 0)"
                    ),
                    {"id": f"{n:032x}", "f": False, "s": b"sealed", "now": dt.datetime.now(dt.UTC)},
                )
        db.migrate(engine)
        with db.read(engine) as conn:
            role = conn.execute(sa.text("SELECT role FROM staff_accounts")).scalar_one()
            numbers = conn.execute(sa.text("SELECT number FROM data_requests")).scalars().all()
        assert role == "manager"
        assert len(set(numbers)) == 3
        assert all(len(n) == 12 and damm.is_valid(n) for n in numbers)
    finally:
        engine.dispose()
