"""Several processes appending at once keep one valid chain."""

from __future__ import annotations

import multiprocessing

from sqlalchemy.engine import Engine

from mamori.audit import AuditLog
from tests.helpers.audit_workers import append_entries, group_append_entries

WORKERS = 2
EACH = 200


def test_processes_appending_concurrently_keep_one_chain(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WORKERS + 1)
    processes = [
        context.Process(target=append_entries, args=(url, worker, EACH, start))
        for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    log = AuditLog(engine)
    try:
        start.wait(timeout=60)
        checkpoints = 0
        while any(p.is_alive() for p in processes):  # checkpoint while they append
            if log.size():
                log.checkpoint()
                checkpoints += 1
            for process in processes:
                process.join(timeout=0.05)
    finally:
        for process in processes:
            process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * WORKERS

    log.checkpoint()
    report = log.verify()
    assert report.ok, report.summary
    assert report.entries == WORKERS * EACH
    entries = log.tail(WORKERS * EACH)
    for worker in range(WORKERS):
        mine = [e.details["i"] for e in entries if e.details["worker"] == worker]
        assert mine == list(range(EACH))  # each process's entries all there, in its order
    assert checkpoints >= 1


def test_group_commits_and_transactions_appending_at_once_keep_one_chain(engine: Engine) -> None:
    """The reads' group commit (on PostgreSQL BEGIN, lock and head in one query, INSERT and
    COMMIT in the next) in two processes of four threads each, beside a process appending in
    ordinary write transactions."""
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    processes = [
        context.Process(target=group_append_entries, args=(url, 0, EACH, start)),
        context.Process(target=group_append_entries, args=(url, 1, EACH, start)),
        context.Process(target=append_entries, args=(url, 2, EACH // 2, start)),
    ]
    for process in processes:
        process.start()
    try:
        start.wait(timeout=60)
    finally:
        for process in processes:
            process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    log = AuditLog(engine)
    report = log.verify()
    assert report.ok, report.summary
    assert report.entries == 2 * EACH + EACH // 2
    entries = log.tail(report.entries)
    for worker, count in ((0, EACH), (1, EACH), (2, EACH // 2)):
        mine = [e.details["i"] for e in entries if e.details["worker"] == worker]
        assert len(mine) == count and set(mine) == set(range(count))
