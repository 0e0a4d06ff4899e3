"""Every basis of a provision writes a record with what that basis requires (APPI 29, rule
20): the consent relied on for ``consent``, the stated reason for an exception of 27(1), the
relationship for a recipient that is not a third party; the recipient's name, address and
representative as the policy declared them in each. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from mamori.app import Runtime
from mamori.provisions import consents, gate
from mamori.provisions.rules import EXCEPTIONS, Basis
from mamori.vault.access import Caller
from tests.helpers import edits
from tests.helpers.cookies import cookie_choice
from tests.helpers.ledger import records
from tests.helpers.requests import person
from tests.helpers.runtime import open_test_runtime

HOST = Caller("key:host", None, frozenset({"read", "provide"}))
REASON = "法令に基づく照会(令和8年第7号)"


def _successor(data: dict[str, Any]) -> None:
    data["recipients"].append(
        {
            "id": "successor_co",
            "name": {"ja": "株式会社承継先(例)", "en": "Successor Co. (illustrative)"},
            "address": {"ja": "東京都千代田区1-1", "en": "1-1 Chiyoda, Tokyo"},
            "relationship": "successor",
            "items": ["name", "email"],
            "purposes": ["service_operation"],
            "country": "JP",
            "illustrative": True,
        }
    )


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = open_test_runtime(tmp_path, database_url)
    path = edits.write_edited(tmp_path / "successor.yaml", _successor, edits.revision)
    runtime.publish_file(path, actor="test")
    yield runtime
    runtime.close()


CASES = [
    (Basis.consent, "a8net", "advertising", ["advertising_id"]),
    (Basis.entrustment, "hosting", "service_operation", ["name"]),
    (Basis.joint_use, "payment_processor", "service_operation", ["name"]),
    (Basis.business_succession, "successor_co", "service_operation", ["name"]),
    *((basis, "a8net", "advertising", ["advertising_id"]) for basis in sorted(EXCEPTIONS)),
]


@pytest.mark.parametrize(("basis", "recipient", "purpose", "items"), CASES)
def test_each_basis_writes_the_record_it_requires(
    runtime: Runtime, basis: Basis, recipient: str, purpose: str, items: list[str]
) -> None:
    subject = person(runtime, "basis@example.jp", advertising_id="ad-1")
    consent_id = None
    if basis is Basis.consent:
        cookie_choice(runtime, subject)
        consent_id = consents.give(
            runtime.vault, Caller.person(subject), subject, recipient, purpose, channel="api"
        ).id
    provision = gate.provide(
        runtime.vault,
        HOST,
        recipient=recipient,
        subjects_=[subject],
        items=items,
        purpose=purpose,
        basis=basis.value,
        reason=REASON if basis in EXCEPTIONS else None,
    )
    [provided] = provision.people
    assert list(provided.items) == items and provided.record_id is not None
    assert provision.basis is basis
    [record] = records(runtime)
    assert record.id == provided.record_id and record.basis == basis.value
    assert record.subject_id == subject and record.purpose_id == purpose
    assert orjson.loads(record.items) == items
    declared = runtime.vault.rules().recipients[recipient]
    kept = orjson.loads(record.recipient)
    assert kept["name"] == declared.name.model_dump(mode="json")
    assert kept["relationship"] == declared.relationship.value
    if declared.address is not None:
        assert kept["address"] == declared.address.model_dump(mode="json")
    assert record.consent_id == consent_id
    assert record.reason == (REASON if basis in EXCEPTIONS else None)
    assert record.retain_until > record.provided_at
