"""Discovery: find the personal data in an operator's database and propose annotations.

Detectors are pure functions over one value after NFKC normalisation (:func:`detect`); a
column is judged from a sample of its values and its name (:func:`judge_column`); a scan
(:func:`scan`) samples every column, judges it and proposes the policy's item for it as a
draft dataset declaration. Nothing here keeps, prints or logs a sampled value.
"""

from __future__ import annotations

from mamori.datasets.discovery.columns import ColumnFinding, judge_column
from mamori.datasets.discovery.detect import THRESHOLD, best_kind, detect
from mamori.datasets.discovery.kinds import Detection, Kind
from mamori.datasets.discovery.names import NameAnalyser, load_names
from mamori.datasets.discovery.proposal import Proposal, propose, render_yaml
from mamori.datasets.discovery.scan import Scan, scan

__all__ = [
    "THRESHOLD",
    "ColumnFinding",
    "Detection",
    "Kind",
    "NameAnalyser",
    "Proposal",
    "Scan",
    "best_kind",
    "detect",
    "judge_column",
    "load_names",
    "propose",
    "render_yaml",
    "scan",
]
