"""Helpers shared by the web, CLI and browser tests."""

from __future__ import annotations

from pathlib import Path

from mamori.app import BUILT_IN, Parts, Runtime, open_runtime
from mamori.clock import SYSTEM, Clock
from mamori.config import Settings
from mamori.keyring import create_key_file


def open_test_runtime(
    tmp_path: Path,
    database_url: str,
    *,
    clock: Clock = SYSTEM,
    parts: Parts = BUILT_IN,
    **overrides: object,
) -> Runtime:
    """mamori as first started: on PostgreSQL with a key file made first, as `mamori init` does.

    ``clock`` is the clock the runtime measures time against (a ``ManualClock`` to move it).
    """
    if "smtp_host" in overrides:  # the tests' SMTP server (fixture smtp_server) speaks plain SMTP
        overrides.setdefault("smtp_tls", "none")
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        **overrides,  # type: ignore[arg-type]
    )
    if not settings.is_embedded:
        create_key_file(settings.effective_master_key_file)
    return open_runtime(settings, initialise=True, clock=clock, parts=parts)
