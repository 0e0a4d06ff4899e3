"""A change that needs consent gates reads of its new uses, per person, until they consent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.app import Runtime
from mamori.changes import consents
from mamori.errors import NotFound
from mamori.policy.diff import Level
from mamori.policy.rules import Refusal
from mamori.publication import records, versions
from mamori.vault.access import Caller
from tests.helpers import edits
from tests.helpers.runtime import open_test_runtime

HOST = Caller("key:host", frozenset({"partner_offers", "service_operation", "promotion"}))
SYSTEM = Caller.system("test")


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def _person(runtime: Runtime, email: str) -> str:
    return runtime.vault.create_subject(
        SYSTEM, type="customer", items={"email": email, "address": "東京都港区1-1"}
    )


def _publish(runtime: Runtime, tmp_path: Path, *changes: edits.Edit) -> int:
    path = edits.write_edited(tmp_path / "policy.yaml", *changes, edits.revision)
    return runtime.publish_file(path, actor="test").version


def test_reads_for_the_new_use_wait_for_each_persons_consent(
    runtime: Runtime, tmp_path: Path
) -> None:
    before = _person(runtime, "before@example.com")
    version = _publish(runtime, tmp_path, edits.unrelated_purpose)
    change = records.get(runtime.engine, version)
    assert change is not None and change.level is Level.consent_required
    assert change.consent_uses == {("email", "partner_offers"), ("address", "partner_offers")}
    after = _person(runtime, "after@example.com")
    vault = runtime.vault

    refused = vault.read(HOST, before, "partner_offers", ["email", "address"])
    assert refused.items == {}
    assert refused.refused == {
        "email": Refusal.consent_required,
        "address": Refusal.consent_required,
    }
    # Uses that were there before are not gated; nor is someone who came after the change.
    assert vault.read(HOST, before, "service_operation", ["email"]).items == {
        "email": "before@example.com"
    }
    assert vault.read(HOST, after, "partner_offers", ["email"]).items == {
        "email": "after@example.com"
    }
    found = vault.read_by(HOST, "email", "before@example.com", "partner_offers", ["email"])
    assert found[before].refused == {"email": Refusal.consent_required}
    assert dict(vault.bulk_read(HOST, "partner_offers", "email")) == {after: "after@example.com"}
    assert [c.version for c in consents.person_changes(vault, before).pending] == [version]
    assert consents.person_changes(vault, after).pending == ()

    consents.consent(vault, Caller.person(before), before, version, channel="center")

    released = vault.read(HOST, before, "partner_offers", ["email", "address"])
    assert released.refused == {}
    assert released.items == {"email": "before@example.com", "address": "東京都港区1-1"}
    found = vault.read_by(HOST, "email", "before@example.com", "partner_offers", ["email"])
    assert found[before].items == {"email": "before@example.com"}
    assert dict(vault.bulk_read(HOST, "partner_offers", "email")) == {
        before: "before@example.com",
        after: "after@example.com",
    }
    person = consents.person_changes(vault, before)
    assert person.pending == () and [g.version for g in person.given] == [version]
    # Consenting twice changes nothing; the audit log holds the one consent, with ids only.
    consents.consent(vault, Caller.person(before), before, version, channel="center")
    entries = [e for e in runtime.audit.tail(50) if e.action == "policy_change.consent"]
    assert len(entries) == 1
    assert list(entries[0].targets) == [f"subject:{before}", f"policy_version:{version}"]
    assert "before@example.com" not in str(entries[0].details)


def test_a_related_change_gates_nothing_and_consent_to_it_is_refused(
    runtime: Runtime, tmp_path: Path
) -> None:
    person = _person(runtime, "someone@example.com")
    version = _publish(runtime, tmp_path, edits.related_purpose)
    change = records.get(runtime.engine, version)
    assert change is not None and change.level is Level.notify
    caller = Caller("key:host", frozenset({"anniversary_mail"}))
    assert runtime.vault.read(caller, person, "anniversary_mail", ["email"]).refused == {}
    with pytest.raises(NotFound):
        consents.consent(runtime.vault, Caller.person(person), person, version, channel="api")
    unread = consents.person_changes(runtime.vault, person).unread
    assert [c.version for c in unread] == [version]
    consents.mark_read(runtime.vault, Caller.person(person), person, version)
    assert consents.person_changes(runtime.vault, person).unread == ()


def test_the_publish_audit_entry_records_the_classification(
    runtime: Runtime, tmp_path: Path
) -> None:
    version = _publish(runtime, tmp_path, edits.joint_user)
    entry = [e for e in runtime.audit.tail(5) if e.action == "policy.publish"][-1]
    assert entry.details["change_level"] == "consent_required"
    assert entry.details["consent_recipients"] == 1
    assert entry.targets[-1] == f"policy_version:{version}"
    assert versions.current(runtime.engine) is not None
    # Publishing the same content again records nothing new.
    again = runtime.publish_file(
        edits.write_edited(tmp_path / "same.yaml", edits.joint_user, edits.revision),
        actor="test",
    )
    assert again.created is False
    assert [r.version for r in records.records(runtime.engine)] == [version]


def test_consents_are_part_of_the_disclosure_package(runtime: Runtime, tmp_path: Path) -> None:
    from mamori.changes.disclosure import SECTION, consent_rows
    from mamori.requests.package import ordered_sections
    from mamori.store import db

    person = _person(runtime, "pkg@example.com")
    version = _publish(runtime, tmp_path, edits.unrelated_purpose)
    consents.consent(runtime.vault, HOST.__class__("key:host"), person, version, channel="api")
    assert ordered_sections(runtime.sections)[SECTION] is consent_rows
    with db.read(runtime.engine) as conn:
        rows = list(consent_rows(conn, person))
    assert [(r["policy_version"], r["channel"]) for r in rows] == [(version, "api")]
