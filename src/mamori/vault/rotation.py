"""Master-key rotation: rewrap every data key and system key under the newest master version.

Only the 65-byte wrapped keys change; no value is re-encrypted, so rotation costs a few
microseconds of cryptography per person. It runs in short batches (``batch`` subjects per
transaction, in order of id), each committed with one audit entry (counts and IDs only), so it
holds no lock for long, can be stopped at any time, and resumes where it stopped: a run skips
every row already under the target version. Reads keep working throughout, because the old
versions stay in the key file until :func:`retire` removes them, and it removes a version only
when nothing is wrapped by it any more.

Each row is updated only if its wrapped key is still the one that was read (compare and set):
a subject withdrawn meanwhile (wrapped key shredded) stays shredded, and two rotations running
at once never overwrite each other's work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mamori.audit.log import AuditLog
from mamori.errors import MasterKeyInUse
from mamori.keyring import MasterKeys
from mamori.store import db
from mamori.store.db import Connection, Engine
from mamori.vault import crypto, key_file
from mamori.vault.storage import keys as storage
from mamori.vault.system_keys import SystemKeys

__all__ = [
    "DEFAULT_BATCH",
    "RotationJob",
    "RotationProgress",
    "RotationReport",
    "WrappedCount",
    "add_version",
    "in_use_error",
    "retire",
    "rotate",
    "wrapped_by",
]

DEFAULT_BATCH: Final = 500


@dataclass(frozen=True, slots=True)
class RotationProgress:
    """How far a rotation has got: ``done`` of ``total`` keys looked at."""

    master_version: int
    done: int
    total: int
    finished: bool = False


@dataclass(frozen=True, slots=True)
class RotationReport:
    """What a rotation did."""

    master_version: int
    subjects: int
    """Subject data keys rewrapped."""
    system_keys: int
    """System keys rewrapped."""
    skipped: int
    """Keys changed by someone else while they were being rewrapped (withdrawn, rewrapped)."""
    batches: int
    seconds: float
    complete: bool
    """False when the run was stopped before the end; run it again to finish."""


@dataclass(frozen=True, slots=True)
class WrappedCount:
    """How many keys one master-key version still wraps."""

    subjects: int
    system_keys: int

    @property
    def total(self) -> int:
        return self.subjects + self.system_keys


def add_version(
    engine: Engine, path: Path, audit: AuditLog, *, actor: str = "system"
) -> MasterKeys:
    """Add the next master-key version to the key file at ``path`` (audited); the new keys.

    Run :func:`rotate` next to rewrap what the older versions wrap.
    """
    with db.write(engine) as conn:
        keys = key_file.add_version(path)
        audit.append(
            conn,
            actor=actor,
            action="keys.master.add",
            targets=[f"master-key:{keys.current_version}"],
            details={"origin": "key-file"},
        )
    return keys


def _pending(conn: Connection, target: int) -> int:
    subjects, system = storage.count_wrapped(conn, target, older=True)
    return subjects + system


def rotate(
    engine: Engine,
    keys: crypto.MasterKeySource,
    audit: AuditLog,
    *,
    batch: int = DEFAULT_BATCH,
    actor: str = "system",
    progress: Callable[[RotationProgress], None] | None = None,
    stop: threading.Event | None = None,
) -> RotationReport:
    """Rewrap every key under an older master version with the current one (see the module)."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    started = time.monotonic()
    target = keys.current_version
    with db.read(engine) as conn:
        total = _pending(conn, target)
    done = subjects = skipped = batches = 0
    last_id = ""
    if progress:
        progress(RotationProgress(target, 0, total))
    while not (stop is not None and stop.is_set()):
        with db.read(engine) as conn:
            rows = storage.subjects_to_rewrap(conn, target, after=last_id, limit=batch)
        if not rows:
            break
        # The cryptography runs outside the write transaction, which only compares and sets.
        rewrapped = [
            (sid, old, crypto.rewrap_key(keys, old, context=f"subject:{sid}")) for sid, old in rows
        ]
        with db.write(engine) as conn:
            changed = 0
            for sid, old, new in rewrapped:
                changed += storage.rewrap_subject_key(
                    conn, sid, old, new, crypto.wrapped_version(new)
                )
            audit.append(
                conn,
                actor=actor,
                action="keys.master.rewrap",
                targets=[f"master-key:{target}"],
                details={
                    "table": "subjects",
                    "first": f"subject:{rows[0][0]}",
                    "last": f"subject:{rows[-1][0]}",
                    "rewrapped": changed,
                    "skipped": len(rows) - changed,
                },
            )
        last_id = rows[-1][0]
        subjects += changed
        skipped += len(rows) - changed
        batches += 1
        done += len(rows)
        if progress:
            progress(RotationProgress(target, done, max(total, done)))
    complete = not (stop is not None and stop.is_set())
    system_keys = 0
    if complete:
        with db.write(engine) as conn:
            system_keys = len(SystemKeys(engine, keys).rewrap_all(conn))
            done += system_keys
            audit.append(
                conn,
                actor=actor,
                action="keys.master.rotate",
                targets=[f"master-key:{target}"],
                details={
                    "subjects": subjects,
                    "system_keys": system_keys,
                    "skipped": skipped,
                    "batches": batches,
                },
            )
    report = RotationReport(
        target, subjects, system_keys, skipped, batches, time.monotonic() - started, complete
    )
    if progress:
        progress(RotationProgress(target, done, max(total, done), finished=True))
    return report


class RotationJob:
    """:func:`rotate` in a background thread, with its progress; ``wait`` for its report."""

    def __init__(
        self,
        engine: Engine,
        keys: crypto.MasterKeySource,
        audit: AuditLog,
        *,
        batch: int = DEFAULT_BATCH,
        actor: str = "system",
    ) -> None:
        self._stop = threading.Event()
        self._progress = RotationProgress(keys.current_version, 0, 0)
        self._report: RotationReport | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._report = rotate(
                    engine,
                    keys,
                    audit,
                    batch=batch,
                    actor=actor,
                    progress=self._record,
                    stop=self._stop,
                )
            except BaseException as exc:  # handed to the caller of wait()
                self._error = exc

        self._thread = threading.Thread(target=run, name="mamori-key-rotation", daemon=True)
        self._thread.start()

    def _record(self, progress: RotationProgress) -> None:
        self._progress = progress

    @property
    def progress(self) -> RotationProgress:
        return self._progress

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def cancel(self) -> None:
        """Stop after the batch in progress (committed batches stay done)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> RotationReport | None:
        """The report once the run ends (``None`` if ``timeout`` passes first); re-raises its
        error."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            return None
        if self._error is not None:
            raise self._error
        return self._report


def wrapped_by(engine: Engine, version: int) -> WrappedCount:
    """How many subject data keys and system keys master version ``version`` still wraps."""
    with db.read(engine) as conn:
        return _wrapped_by(conn, version)


def _wrapped_by(conn: Connection, version: int) -> WrappedCount:
    return WrappedCount(*storage.count_wrapped(conn, version, older=False))


def in_use_error(version: int, count: WrappedCount) -> MasterKeyInUse:
    """The refusal to retire ``version`` while ``count`` keys are still wrapped by it."""
    return MasterKeyInUse(
        f"master key version {version} still wraps {count.subjects} subject keys and "
        f"{count.system_keys} system keys; run `mamori keys rotate --rewrap-only` first"
    )


def retire(
    engine: Engine, path: Path, version: int, audit: AuditLog, *, actor: str = "system"
) -> MasterKeys:
    """Remove ``version`` from the key file at ``path``, only if nothing is wrapped by it.

    The count, the file change and the audit entry happen inside one write transaction (on
    SQLite it holds the write lock, so no key can be wrapped meanwhile). Returns the keys left.
    """
    with db.write(engine) as conn:

        def check(_keys: MasterKeys) -> None:
            count = _wrapped_by(conn, version)
            if count.total:
                raise in_use_error(version, count)

        left = key_file.remove_version(path, version, check=check)
        audit.append(
            conn,
            actor=actor,
            action="keys.master.retire",
            targets=[f"master-key:{version}"],
            details={"origin": "key-file", "current": left.current_version},
        )
    return left
