"""Changes made directly in the database, behind the log's back, and the entry verify names."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from mamori.audit import AuditLog, MismatchKind
from mamori.audit.entry import canonical, chain_hash
from mamori.errors import AuditError
from mamori.store import db
from tests.helpers.audit import fill, tamper


@pytest.fixture
def log(engine: Engine) -> AuditLog:
    log = AuditLog(engine)
    fill(log, 12)
    log.checkpoint()  # covers 1..12
    fill(log, 8)  # 13..20, not yet covered
    assert log.verify().ok
    return log


def _first(log: AuditLog) -> tuple[MismatchKind, int]:
    report = log.verify()
    assert report.mismatch is not None, "the change went unnoticed"
    with pytest.raises(AuditError, match=f"{report.mismatch.seq}"):
        report.raise_for_mismatch()
    return report.mismatch.kind, report.mismatch.seq


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("UPDATE audit_entries SET actor = :v WHERE seq = 7", {"v": "staff:8"}),
        ("UPDATE audit_entries SET action = :v WHERE seq = 7", {"v": "subject.erase"}),
        ("UPDATE audit_entries SET targets = :v WHERE seq = 7", {"v": '["subject:99"]'}),
        (
            "UPDATE audit_entries SET details = :v WHERE seq = 7",
            {"v": '{"n":6,"purpose":"marketing"}'},
        ),
        ("UPDATE audit_entries SET details = :v WHERE seq = 7", {"v": '{"n": 6}'}),
        ("UPDATE audit_entries SET ts = :v WHERE seq = 7", {"v": "2020-01-01T00:00:00.000000Z"}),
        ("UPDATE audit_entries SET entry_hash = :v WHERE seq = 7", {"v": bytes(32)}),
    ],
)
def test_an_edited_field_is_named(log: AuditLog, sql: str, params: dict[str, object]) -> None:
    tamper(log.engine, sql, **params)
    assert _first(log) == (MismatchKind.EDITED, 7)


def test_an_edit_after_the_last_checkpoint_is_named(log: AuditLog) -> None:
    tamper(log.engine, "UPDATE audit_entries SET actor = 'staff:8' WHERE seq = 17")
    assert _first(log) == (MismatchKind.EDITED, 17)


def test_a_deleted_row_in_the_middle_is_named(log: AuditLog) -> None:
    tamper(log.engine, "DELETE FROM audit_entries WHERE seq = 5")
    assert _first(log) == (MismatchKind.MISSING, 5)


def test_a_deleted_first_row_is_named(log: AuditLog) -> None:
    tamper(log.engine, "DELETE FROM audit_entries WHERE seq = 1")
    assert _first(log) == (MismatchKind.MISSING, 1)


def test_a_tail_cut_below_a_checkpoint_is_named(log: AuditLog) -> None:
    tamper(log.engine, "DELETE FROM audit_entries WHERE seq >= 9")
    assert _first(log) == (MismatchKind.MISSING, 9)


def test_swapped_rows_are_named(log: AuditLog) -> None:
    tamper(log.engine, "UPDATE audit_entries SET seq = 1000 WHERE seq = 4")
    tamper(log.engine, "UPDATE audit_entries SET seq = 4 WHERE seq = 5")
    tamper(log.engine, "UPDATE audit_entries SET seq = 5 WHERE seq = 1000")
    assert _first(log) == (MismatchKind.BROKEN_LINK, 4)


def test_a_bad_prev_link_is_named(log: AuditLog) -> None:
    tamper(log.engine, "UPDATE audit_entries SET prev_hash = :h WHERE seq = 15", h=bytes(32))
    assert _first(log) == (MismatchKind.BROKEN_LINK, 15)


@pytest.mark.parametrize("column", ["root_hash", "head_hash", "frontier"])
def test_an_edited_checkpoint_is_named(log: AuditLog, column: str) -> None:
    tamper(log.engine, f"UPDATE audit_checkpoints SET {column} = :h", h=b"\x01" * 32)
    assert _first(log) == (MismatchKind.CHECKPOINT, 12)


def test_a_forged_checkpoint_beyond_the_log_is_a_cut_tail(log: AuditLog) -> None:
    tamper(
        log.engine,
        "INSERT INTO audit_checkpoints (tree_size, root_hash, head_hash, frontier, created_at) "
        "VALUES (25, :h, :h, :h, :t)",
        h=bytes(32),
        t="2025-01-01 00:00:00",
    )
    assert _first(log) == (MismatchKind.MISSING, 21)


def test_text_shifted_between_columns_is_caught(log: AuditLog) -> None:
    """Re-splitting details and targets so that the hashed bytes stay the same is caught."""
    with db.write(log.engine) as conn:
        honest = log.append(
            conn,
            actor="staff:7",
            action="subject.read",
            targets=["subject:1"],
            details={"a": 1, "seq": 21, "targets": 3},
        )
    details, targets = '{"a":1', '3},"seq":21,"targets":["subject:1"]'
    same_bytes = canonical(21, honest.ts_text, "staff:7", "subject.read", targets, details)
    assert same_bytes == honest.canonical()  # the hash alone cannot tell
    tamper(
        log.engine,
        "UPDATE audit_entries SET details = :d, targets = :t WHERE seq = 21",
        d=details,
        t=targets,
    )
    assert _first(log) == (MismatchKind.EDITED, 21)


def test_a_rewritten_chain_is_caught_by_the_checkpoint_only(log: AuditLog) -> None:
    """An intruder who recomputes every hash after an edit defeats the chain, not the checkpoint.

    Below the last checkpoint the rewrite is caught (at the checkpoint); after it, nothing can
    tell: that is why checkpoint roots must be anchored outside the database.
    """
    _rewrite_from(log, 5)
    assert _first(log) == (MismatchKind.CHECKPOINT, 12)


def test_a_rewritten_uncheckpointed_tail_goes_unnoticed(log: AuditLog) -> None:
    _rewrite_from(log, 15)
    assert log.verify().ok  # documented limit: take checkpoints often, anchor them elsewhere


def _rewrite_from(log: AuditLog, start: int) -> None:
    entries = [log.get(seq) for seq in range(1, log.size() + 1)]
    prev = entries[start - 2].entry_hash
    for e in entries[start - 1 :]:
        actor = "staff:666" if e.seq == start else e.actor
        body = canonical(e.seq, e.ts_text, actor, e.action, '["subject:0"]', '{"n":0}')
        new = chain_hash(prev, body)
        tamper(
            log.engine,
            "UPDATE audit_entries SET actor = :a, targets = :t, details = :d, prev_hash = :p, "
            "entry_hash = :h WHERE seq = :s",
            a=actor,
            t='["subject:0"]',
            d='{"n":0}',
            p=prev,
            h=new,
            s=e.seq,
        )
        prev = new
