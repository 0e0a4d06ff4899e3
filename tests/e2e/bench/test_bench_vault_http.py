"""The HTTP vault benchmark starts the real server, drives it, and reports clean figures."""

from __future__ import annotations

import io
import re

from benchmarks import vault_http as bench
from benchmarks.cli import app
from rich.console import Console
from typer.testing import CliRunner


def test_bench_runs_the_server_and_reports_every_figure(database_url: str) -> None:
    out = io.StringIO()
    result = bench.main(
        database_url,
        people=20,
        reads=200,
        connections=4,
        generator="python",
        console=Console(file=out, width=200),
    )
    assert result.generator == "python"
    assert result.workers == 2
    assert len(result.loads) == 3
    for load in result.loads:
        assert load.errors == 0, load.error_sample
        assert load.requests == 200
        assert load.rate > 0 and 0 < load.p50_ms <= load.p99_ms
        assert load.server_cpu_seconds > 0
        assert len(load.worker_cpu_seconds) == 2
    # Every authorised read and lookup, warm-up included, left an audit entry; the chain holds.
    assert result.audit_reads >= 2 * (200 + 100)
    assert result.audit_verified > result.audit_reads
    labels = [sample.label for sample in result.memory]
    assert labels[0] == "after start-up"
    assert {"after warm-up", "before authorised reads", "after authorised reads"} <= set(labels)
    assert len(result.memory_growth_kib()) == 2
    assert all(len(s.rss_kib) == 2 and min(s.rss_kib) > 10_000 for s in result.memory)
    text = out.getvalue()
    assert "authorised: read 3 items by id" in text
    assert "resident memory of the server workers" in text
    assert re.search(r"goal 1,500/s: (met|NOT met)", text)


def test_cli_command_prints_the_tables(database_url: str) -> None:
    command = ["vault-http", "--database-url", database_url, "--people", "10"]
    command += ["--reads", "100", "--connections", "4", "--no-lookup"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "bare: GET" in result.output and "authorised: read 3" in result.output
    assert "lookup by e-mail" not in result.output
    assert "audit:" in result.output and "resident memory across" in result.output
