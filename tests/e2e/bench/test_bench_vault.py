"""The in-process vault benchmark runs on the backend under test and prints every figure."""

from __future__ import annotations

import io

from benchmarks import vault as bench
from rich.console import Console


def test_bench_vault_reports_three_reads_and_both_ratios(database_url: str) -> None:
    out = io.StringIO()
    result = bench.main(
        database_url, people=20, reads=200, threads=2, console=Console(file=out, width=200)
    )
    for figures in (result.plain, result.driver, result.mamori):
        assert figures.rate > 0 and 0 < figures.p50_ms <= figures.p99_ms
    assert result.ratio == result.mamori.rate / result.plain.rate
    assert result.driver_ratio == result.mamori.rate / result.driver.rate
    text = out.getvalue()
    for row in ("plain row by primary key", "plain row, driver alone", "mamori / driver alone"):
        assert row in text
