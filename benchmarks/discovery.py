"""Discovery's precision and recall per kind on the labelled corpus, beside a naive baseline.

The corpus (:mod:`benchmarks.discovery_corpus`) is built from a seed: positives of every kind
and hard negatives. Two measures:

* values: each value is judged alone with its column's name (:func:`best_kind`); a kind's
  precision is the share of values taken for it that are of it, its recall the share of its
  values taken for it;
* columns: 50 values per column, judged as a scan judges one (:func:`judge_column`), for a
  hinted and a neutrally named column of each kind and a column of each sort of negative.

The baseline, measured in the same run on the same values, is what a first attempt does:
regular expressions with ``\\b``, no NFKC, no check digit, no issuer prefixes, no column name.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from benchmarks.discovery_corpus import TODAY, Sample, columns, corpus
from mamori.datasets.discovery import Kind, NameAnalyser, best_kind, detect, judge_column
from mamori.datasets.discovery.hints import hinted_kinds
from mamori.datasets.discovery.names import load_names

__all__ = ["Scores", "baseline_kind", "evaluate", "evaluate_columns", "main"]


@dataclass(frozen=True, slots=True)
class Scores:
    true_positives: int
    false_positives: int
    positives: int

    @property
    def precision(self) -> float:
        taken = self.true_positives + self.false_positives
        return self.true_positives / taken if taken else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0


def _scores(pairs: list[tuple[Kind | None, Kind | None]]) -> dict[Kind, Scores]:
    tp: Counter[Kind] = Counter()
    fp: Counter[Kind] = Counter()
    positives: Counter[Kind] = Counter()
    for truth, guess in pairs:
        if truth is not None:
            positives[truth] += 1
        if guess is not None:
            (tp if guess == truth else fp)[guess] += 1
    return {k: Scores(tp[k], fp[k], positives[k]) for k in Kind}


def evaluate(
    samples: list[Sample],
    *,
    analyser: NameAnalyser | None,
    judge: Callable[[Sample], Kind | None] | None = None,
) -> dict[Kind, Scores]:
    """Precision and recall per kind of judging each value alone (with its column's name)."""

    def discovery(sample: Sample) -> Kind | None:
        hints = hinted_kinds(sample.column)
        return best_kind(detect(sample.value, today=TODAY, hints=hints, analyser=analyser))

    guess = judge or discovery
    return _scores([(s.kind, guess(s)) for s in samples])


def evaluate_columns(*, analyser: NameAnalyser | None, seed: int = 20261201) -> dict[Kind, Scores]:
    """Precision and recall per kind of judging whole columns as a scan does."""
    pairs = []
    for name, kind, values in columns(seed):
        finding = judge_column("corpus", name, values, today=TODAY, analyser=analyser)
        pairs.append((kind, finding.kind))
    return _scores(pairs)


# The naive baseline.
_NAIVE: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    (Kind.email, re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)*\b")),
    (Kind.phone, re.compile(r"\b0\d{1,4}-?\d{1,4}-?\d{4}\b")),
    (Kind.postal_code, re.compile(r"\b\d{3}-?\d{4}\b")),
    (Kind.card_number, re.compile(r"\b(?:\d[ -]?){13,19}\b")),
    (Kind.corporate_number, re.compile(r"\b\d{13}\b")),
    (Kind.my_number, re.compile(r"\b\d{4}[ -]?\d{4}[ -]?\d{4}\b")),
    (Kind.birth_date, re.compile(r"\b(19|20)\d\d[-/]\d\d?[-/]\d\d?\b")),
    (Kind.address, re.compile(r"(都|道|府|県).+(市|区|町|村)")),
)


def baseline_kind(sample: Sample) -> Kind | None:
    """The first naive pattern that matches the whole value."""
    for kind, pattern in _NAIVE:
        if pattern.fullmatch(sample.value.strip()):
            return kind
    return None


def _table(title: str, ours: dict[Kind, Scores], base: dict[Kind, Scores] | None) -> Table:
    table = Table(title=title)
    for heading in ("kind", "precision", "recall", "TP", "FP", "positives"):
        table.add_column(heading, justify="left" if heading == "kind" else "right")
    if base is not None:
        table.add_column("baseline P", justify="right")
        table.add_column("baseline R", justify="right")
    for kind in Kind:
        s = ours[kind]
        row = [str(kind), f"{s.precision:.3f}", f"{s.recall:.3f}", str(s.true_positives),
               str(s.false_positives), str(s.positives)]  # fmt: skip
        if base is not None:
            b = base[kind]
            row += [f"{b.precision:.3f}", f"{b.recall:.3f}"]
        table.add_row(*row)
    return table


def main(seed: int, per_kind: int, nlp: bool) -> None:
    console = Console(highlight=False, width=110)
    analyser = load_names() if nlp else None
    samples = corpus(seed, per_kind=per_kind)
    negatives = sum(1 for s in samples if s.kind is None)
    started = time.perf_counter()
    ours = evaluate(samples, analyser=analyser)
    elapsed = time.perf_counter() - started
    base = evaluate(samples, analyser=None, judge=baseline_kind)
    console.print(
        f"corpus: seed {seed}, {len(samples) - negatives} positives ({per_kind} per kind, half"
        f" in hinted columns), {negatives} hard negatives; person names:"
        f" {analyser.name if analyser else 'NLP off'}"
    )
    console.print(_table("values (each judged alone, with its column's name)", ours, base))
    console.print(f"{len(samples) / elapsed:,.0f} values/s")
    console.print(
        _table(
            "columns (50 values each, judged as a scan does)",
            evaluate_columns(analyser=analyser, seed=seed),
            None,
        )
    )
