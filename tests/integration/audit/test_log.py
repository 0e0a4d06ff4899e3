"""Appending, reading, checkpoints and proofs against the real database."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from sqlalchemy.engine import Engine

from mamori.audit import AuditLog, NewEntry, merkle, queries, verify_proof
from mamori.audit.entry import GENESIS
from mamori.errors import AuditEntryError, AuditError, NotFound
from mamori.store import db
from tests.helpers.audit import fill, tamper


@pytest.fixture
def log(engine: Engine) -> AuditLog:
    return AuditLog(engine, node_level=2)  # small subtrees cached, so small logs use the cache


def test_append_then_verify(log: AuditLog) -> None:
    with db.write(log.engine) as conn:
        first = log.append(
            conn,
            actor="cli:root",
            action="policy.publish",
            targets=["policy:kokochie", "policy_version:1"],
            details={"content_hash": "ab" * 32},
        )
    more = fill(log, 20)
    assert first.seq == 1 and first.prev_hash == GENESIS
    assert [e.seq for e in more] == list(range(2, 22))
    assert more[0].prev_hash == first.entry_hash
    assert all(a.entry_hash == b.prev_hash for a, b in itertools.pairwise(more))
    assert log.size() == 21
    stored = log.get(1)
    assert stored == first  # timestamps, targets and details round-trip exactly
    assert log.tail(3) == more[-3:]
    assert log.tail(0) == []
    report = log.verify()
    assert report.ok and report.entries == 21 and report.head_hash == more[-1].entry_hash
    assert "21 entries" in report.summary


def test_empty_log(log: AuditLog) -> None:
    assert log.size() == 0
    assert log.tail() == []
    report = log.verify()
    assert report.ok and report.entries == 0 and report.head_hash == GENESIS
    with pytest.raises(NotFound):
        log.get(1)
    with pytest.raises(NotFound, match="nothing to checkpoint"):
        log.checkpoint()
    with pytest.raises(NotFound, match="no checkpoint"):
        log.prove(1)
    assert log.latest_checkpoint() is None


def test_append_rolls_back_with_the_callers_transaction(log: AuditLog) -> None:
    fill(log, 2)
    with pytest.raises(RuntimeError), db.write(log.engine) as conn:
        log.append(conn, actor="staff:7", action="subject.erase", targets=["subject:1"])
        raise RuntimeError("the business change failed")
    assert log.size() == 2
    entries = fill(log, 1)
    assert entries[0].seq == 3
    assert log.verify().ok


def test_a_stale_chain_head_is_refused_and_stores_nothing(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = fill(log, 2)[0]
    # A writer that read the head without holding the lock would reuse a sequence number.
    monkeypatch.setattr(queries, "lock_and_read_head", lambda conn: (1, first.entry_hash))
    for batch in (1, 3):
        with (
            pytest.raises(AuditError, match="written by another transaction"),
            db.write(log.engine) as conn,
        ):
            log.append_many(conn, [NewEntry("staff:7", "subject.read", (), {})] * batch)
    monkeypatch.undo()
    assert log.size() == 2
    assert log.verify().ok


@pytest.mark.parametrize(
    "details",
    [{"email": "hanako@example.com"}, {"name": "山田花子"}, {"reason": "顧客からの依頼"}],
)
def test_rejected_details_write_nothing(log: AuditLog, details: dict[str, str]) -> None:
    with pytest.raises(AuditEntryError), db.write(log.engine) as conn:
        log.append_many(
            conn,
            [
                NewEntry("staff:7", "subject.read", ["subject:1"]),
                NewEntry("staff:7", "subject.read", ["subject:1"], details),
            ],
        )
    assert log.size() == 0


def test_checkpoints_extend_each_other(log: AuditLog) -> None:
    fill(log, 10)
    first = log.checkpoint()
    assert first.tree_size == 10 and first.head_hash == log.get(10).entry_hash
    assert log.checkpoint() == first  # nothing new: the same checkpoint
    fill(log, 7)
    second = log.checkpoint()
    leaves = [log.get(seq).leaf_hash for seq in range(1, 18)]
    assert first.root_hash == merkle.root(leaves[:10])
    assert second.root_hash == merkle.root(leaves)
    assert log.latest_checkpoint() == second
    assert log.checkpoint_at(10) == first
    with pytest.raises(NotFound):
        log.checkpoint_at(11)
    report = log.verify()
    assert report.ok and report.checkpoints == 2


def test_checkpoint_refuses_to_cover_an_edited_entry(log: AuditLog) -> None:
    fill(log, 5)
    log.checkpoint()
    fill(log, 5)
    tamper(log.engine, "UPDATE audit_entries SET actor = 'staff:8' WHERE seq = 8")
    with pytest.raises(Exception, match="entry 8 was edited"):
        log.checkpoint()


def test_inclusion_proofs_verify_against_checkpoints(log: AuditLog) -> None:
    fill(log, 37)
    checkpoint = log.checkpoint()
    for seq in range(1, 38):
        proof = log.prove(seq)
        assert proof.tree_size == 37
        assert len(proof.path) <= 6  # O(log n)
        assert verify_proof(proof, checkpoint.root_hash, log.get(seq))
    fill(log, 30)
    later = log.checkpoint()
    proof = log.prove(5)
    assert proof.tree_size == 67 and verify_proof(proof, later.root_hash, log.get(5))
    old = log.prove(5, tree_size=37)  # proofs against older checkpoints still work
    assert verify_proof(old, checkpoint.root_hash, log.get(5))
    assert log.prove(50, tree_size=60).root() == merkle.root(
        [log.get(s).leaf_hash for s in range(1, 61)]
    )  # any tree size, not only checkpoints
    with pytest.raises(NotFound):
        log.prove(68)
    with pytest.raises(NotFound):
        log.prove(1, tree_size=99)


def test_a_tampered_proof_fails(log: AuditLog) -> None:
    fill(log, 20)
    checkpoint = log.checkpoint()
    proof = log.prove(7)
    entry = log.get(7)
    assert verify_proof(proof, checkpoint.root_hash, entry)
    flipped = bytes([proof.path[1][0] ^ 1]) + proof.path[1][1:]
    bad_path = dataclasses.replace(proof, path=(proof.path[0], flipped, *proof.path[2:]))
    assert not verify_proof(bad_path, checkpoint.root_hash)
    assert not verify_proof(dataclasses.replace(proof, seq=8), checkpoint.root_hash)
    assert not verify_proof(dataclasses.replace(proof, tree_size=21), checkpoint)
    assert verify_proof(proof, checkpoint, entry)
    assert not verify_proof(proof, checkpoint.root_hash, log.get(8))  # a different entry
    forged = entry._replace(details={**entry.details, "purpose": "marketing"})
    assert not verify_proof(proof, checkpoint.root_hash, forged)
    assert not verify_proof(proof, bytes(32))


def test_proofs_survive_a_corrupted_node_cache(log: AuditLog) -> None:
    fill(log, 40)
    checkpoint = log.checkpoint()
    tamper(log.engine, "UPDATE audit_nodes SET hash = :h", h=bytes(32))
    proof = log.prove(3)
    assert verify_proof(proof, checkpoint.root_hash, log.get(3))


def test_consistency_proofs(log: AuditLog) -> None:
    fill(log, 13)
    old = log.checkpoint()
    fill(log, 29)
    new = log.checkpoint()
    proof = log.prove_consistency(old.tree_size)
    assert proof.new_size == 42
    assert proof.verify(old.root_hash, new.root_hash)
    assert not proof.verify(new.root_hash, new.root_hash)


def test_verify_streams_across_pages(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "PAGE", 7)
    fill(log, 30)
    log.checkpoint()
    fill(log, 12)
    log.checkpoint()
    fill(log, 5)
    report = log.verify()
    assert report.ok and report.entries == 47 and report.checkpoints == 2
    tamper(log.engine, "DELETE FROM audit_entries WHERE seq = 35")
    assert log.verify().mismatch is not None
    assert log.verify().mismatch.seq == 35  # type: ignore[union-attr]


def test_proofs_with_the_default_node_cache(engine: Engine) -> None:
    log = AuditLog(engine)  # subtrees of 256 entries and up are cached by checkpoints
    fill(log, 700)
    first = log.checkpoint()
    fill(log, 300)
    latest = log.checkpoint()
    with db.read(engine) as conn:
        cached = conn.exec_driver_sql("SELECT level, idx FROM audit_nodes ORDER BY level, idx")
        assert [tuple(row) for row in cached] == [(8, 0), (8, 1), (8, 2), (9, 0)]
    leaves = [log.get(seq).leaf_hash for seq in range(1, 1001)]
    assert latest.root_hash == merkle.root(leaves)
    for seq in (1, 256, 257, 700, 701, 999, 1000):
        proof = log.prove(seq)
        assert proof.path == tuple(merkle.inclusion_proof(leaves, seq - 1))
        assert verify_proof(proof, latest, log.get(seq))
    assert verify_proof(log.prove(300, tree_size=700), first, log.get(300))
    assert log.prove_consistency(700).verify(first.root_hash, latest.root_hash)
