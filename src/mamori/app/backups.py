"""Backups that keep promises: a restore never revives a person who withdrew after the backup.

:func:`make_backup` audits the backup (the entry is inside it) and writes the copy
(:mod:`mamori.store.backup`). :func:`restore_backup` first reads and verifies the shred log
(:mod:`mamori.vault.shred_log`) with the master keys, so that a damaged log stops the restore
before the database is touched; then it restores, migrates, and withdraws again everyone the log
names who is active in the restored database, each audited, and audits the restore itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mamori.app.runtime import load_master_keys, open_runtime
from mamori.config import Settings
from mamori.store import backup, db
from mamori.vault import shred_log

__all__ = ["RestoreReport", "make_backup", "restore_backup"]


def make_backup(settings: Settings, path: Path, *, actor: str) -> None:
    """Audit ``backup.create`` and write the backup to ``path`` (a new file)."""
    runtime = open_runtime(settings, initialise=False, actor=actor)
    try:
        with db.write(runtime.engine) as conn:
            runtime.audit.append(
                conn,
                actor=actor,
                action="backup.create",
                details={"backend": runtime.engine.dialect.name},
            )
    finally:
        runtime.close()
    backup.backup(settings.effective_database_url, path)


@dataclass(frozen=True)
class RestoreReport:
    logged: int
    """Withdrawals in the shred log."""
    replayed: int
    """People the backup still held and who were withdrawn again."""


def restore_backup(settings: Settings, path: Path, *, actor: str) -> RestoreReport:
    """Replace the database with the backup at ``path`` and replay the shred log."""
    keys, _ = load_master_keys(settings, create=False)
    entries = shred_log.read(settings.effective_shred_log, keys)  # before touching anything
    backup.restore(settings.effective_database_url, path)
    runtime = open_runtime(settings, initialise=False, actor=actor)
    try:
        replayed = sum(
            runtime.vault.replay_withdrawal(entry.subject_id, entry.at, actor=actor)
            for entry in entries
        )
        with db.write(runtime.engine) as conn:
            runtime.audit.append(
                conn,
                actor=actor,
                action="backup.restore",
                details={"shred_log.entries": len(entries), "shred_log.replayed": replayed},
            )
    finally:
        runtime.close()
    return RestoreReport(len(entries), replayed)
