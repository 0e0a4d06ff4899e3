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
