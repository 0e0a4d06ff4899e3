"""Published policy versions, each with its audit entry in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy.engine import Engine

from mamori.audit import AuditLog
from mamori.errors import AuditEntryError, NotFound
from mamori.publication import versions


def _publish(engine: Engine, content: str, *, actor: str = "cli:root") -> versions.PublishResult:
    canonical = f'{{"id":"kokochie","content":"{content}"}}'
    return versions.publish(
        engine,
        policy_id="kokochie",
        source_yaml=f"id: kokochie\ncontent: {content}\n",
        canonical_json=canonical,
        content_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        effective_date=dt.date(2025, 4, 1),
        actor=actor,
    )


def test_nothing_published_yet(engine: Engine) -> None:
    assert versions.current(engine) is None
    assert versions.versions(engine) == []
    with pytest.raises(NotFound, match="policy version 1 does not exist"):
        versions.get(engine, 1)


def test_publish_is_audited_in_the_same_transaction(engine: Engine) -> None:
    assert _publish(engine, "a") == versions.PublishResult(version=1, created=True)
    current = versions.current(engine)
    assert current is not None
    assert current.version == 1 and current.policy_id == "kokochie"
    assert current.effective_date == dt.date(2025, 4, 1)
    assert current.published_at.tzinfo == dt.UTC
    assert abs(dt.datetime.now(dt.UTC) - current.published_at) < dt.timedelta(minutes=1)
    assert current.source_yaml == "id: kokochie\ncontent: a\n"
    (entry,) = AuditLog(engine).tail(5)
    assert (entry.actor, entry.action) == ("cli:root", "policy.publish")
    assert entry.targets == ("policy:kokochie", "policy_version:1")
    assert entry.details["content_hash"] == current.content_hash


def test_same_content_is_a_no_op_and_changed_content_a_new_version(engine: Engine) -> None:
    first = _publish(engine, "a")
    assert _publish(engine, "a") == versions.PublishResult(version=1, created=False)
    assert _publish(engine, "b") == versions.PublishResult(version=2, created=True)
    reverted = _publish(engine, "a")  # back to the first content: a new version all the same
    assert reverted == versions.PublishResult(version=3, created=True)
    published = versions.versions(engine)
    assert [v.version for v in published] == [1, 2, 3]
    assert published[0].content_hash == published[2].content_hash != published[1].content_hash
    assert versions.get(engine, 2).canonical_json == '{"id":"kokochie","content":"b"}'
    assert first.version == 1
    log = AuditLog(engine)
    assert [e.targets[1] for e in log.tail(10)] == [
        "policy_version:1",
        "policy_version:2",
        "policy_version:3",
    ]
    assert log.verify().ok


def test_a_rejected_audit_entry_rolls_the_publication_back(engine: Engine) -> None:
    with pytest.raises(AuditEntryError):
        _publish(engine, "a", actor="山田太郎")
    assert versions.current(engine) is None
    assert AuditLog(engine).size() == 0


def test_content_hash_must_match_the_canonical_json(engine: Engine) -> None:
    with pytest.raises(ValueError, match="content_hash"):
        versions.publish(
            engine,
            policy_id="kokochie",
            source_yaml="",
            canonical_json="{}",
            content_hash="0" * 64,
            effective_date=dt.date(2025, 4, 1),
            actor="cli:root",
        )
    assert versions.versions(engine) == []
