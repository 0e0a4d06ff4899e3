"""The audit benchmark runs end to end on a scratch database and cleans up after itself."""

from __future__ import annotations

import io
from pathlib import Path

from benchmarks import audit as bench
from rich.console import Console
from sqlalchemy.engine import make_url


def test_bench_runs_and_prints_the_table(database_url: str) -> None:
    out = io.StringIO()
    result = bench.main(database_url, 60, 20, console=Console(file=out, width=120))
    assert result.n == 60 and result.batch == 20
    assert result.verified_entries == 2 * 60 + 60  # both shapes and the warm-up
    assert min(result.plain_single, result.audit_single, result.verify) > 0
    text = out.getvalue()
    assert "20 per transaction" in text and "audit/plain" in text
    if make_url(database_url).get_backend_name() == "sqlite":
        folder = Path(make_url(database_url).database or "").parent
        assert not list(folder.glob("mamori-bench-*"))  # the scratch folder is gone
