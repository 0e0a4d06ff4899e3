"""`mamori datasets scan`: sample every column of a database, judge each, propose items."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mamori.datasets.discovery import storage
from mamori.datasets.discovery.columns import ColumnFinding, judge_column
from mamori.datasets.discovery.names import NameAnalyser, load_names
from mamori.datasets.discovery.proposal import Proposal, propose, render_yaml
from mamori.policy.model import Policy

__all__ = ["Scan", "scan"]


@dataclass(frozen=True, slots=True)
class Scan:
    """The outcome of a scan: a finding per column, the proposals, the draft YAML."""

    findings: list[ColumnFinding]
    proposals: list[Proposal]
    draft: str
    names: str | None
    """The NLP library that recognised people's names, or ``None`` (NLP off)."""

    @property
    def tables(self) -> int:
        return len({f.table for f in self.findings})


def scan(
    url: str,
    policy: Policy,
    *,
    today: dt.date,
    rows: int = 200,
    schema: str | None = None,
    dataset_id: str = "draft",
    connection: str = "DATASET_URL",
    analyser: NameAnalyser | None = None,
    use_nlp: bool = True,
) -> Scan:
    """Scan the database at ``url``: up to ``rows`` values of each column, judged with the
    column's name; the draft names ``connection`` as the setting holding the URL."""
    names = analyser if analyser is not None else load_names() if use_nlp else None
    engine = storage.open_database(url)
    try:
        findings = [
            judge_column(s.table, s.column, s.values, today=today, analyser=names)
            for s in storage.samples(engine, rows=rows, schema=schema)
        ]
    finally:
        engine.dispose()
    proposals = propose(policy, findings)
    draft = render_yaml(
        dataset_id=dataset_id,
        connection=connection,
        proposals=proposals,
        findings=findings,
        rows=rows,
        names=names.name if names else None,
    )
    return Scan(findings, proposals, draft, names.name if names else None)
