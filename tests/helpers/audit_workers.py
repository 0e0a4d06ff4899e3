"""Code run in child processes by the concurrency tests (importable under spawn)."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier

from mamori.audit import AuditLog
from mamori.store import db


def append_entries(url: str, worker: int, count: int, start: Barrier) -> None:
    """Append ``count`` entries, one transaction each, as fast as possible."""
    engine = db.create_engine(url)
    log = AuditLog(engine)
    try:
        db.check_connection(engine)  # connect before the race starts
        start.wait(timeout=60)
        for i in range(count):
            with db.write(engine) as conn:
                log.append(
                    conn,
                    actor=f"worker:{worker}",
                    action="test.append",
                    targets=[f"item:{i}"],
                    details={"worker": worker, "i": i},
                )
    finally:
        engine.dispose()


def group_append_entries(url: str, worker: int, count: int, start: Barrier) -> None:
    """Append ``count`` entries through a group commit from 4 threads (the reads' path)."""
    import threading

    from mamori.audit.group import GroupCommitter

    engine = db.create_engine(url)
    group = GroupCommitter(AuditLog(engine))
    failures: list[BaseException] = []

    def thread(t: int) -> None:
        try:
            for i in range(t, count, 4):
                group.append(
                    actor=f"worker:{worker}",
                    action="test.append",
                    targets=[f"item:{i}"],
                    details={"worker": worker, "i": i},
                )
        except BaseException as exc:  # pragma: no cover - reported by the exit code
            failures.append(exc)

    try:
        db.check_connection(engine)
        start.wait(timeout=60)
        threads = [threading.Thread(target=thread, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise failures[0]
    finally:
        engine.dispose()
