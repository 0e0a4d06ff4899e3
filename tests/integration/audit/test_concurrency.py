"""Several processes appending at once keep one valid chain."""

from __future__ import annotations

import multiprocessing

from sqlalchemy.engine import Engine

from mamori.audit import AuditLog
from tests.helpers.audit_workers import append_entries

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
