"""The periodic evaluation of the anomaly rules over the audit log (job ``anomalies.evaluate``).

:func:`evaluate` reads the entries after the stored cursor a page at a time (at most ``page``
entries in memory), applies :mod:`mamori.anomalies.rules`, adds the tallies to the stored
counts and raises (or brings up to date) an alert for every count beyond its threshold; then it
moves the cursor. Each page is one write transaction holding the cursor's lock, so several
processes may run the job at once: they take turns, and each page is evaluated exactly once.
An alert's key (rule, actor, window) is unique: a window goes on raising the same alert, whose
evidence grows (bounded to :data:`~mamori.anomalies.rules.EVIDENCE_MAX` entry numbers).
"""

from __future__ import annotations

import datetime as dt
import secrets
from contextlib import closing
from dataclasses import dataclass
from typing import Final

from mamori.anomalies import rules, storage
from mamori.anomalies.rules import Entry, Rule, Tally, Thresholds
from mamori.audit import queries as audit_queries
from mamori.audit.entry import decode_fields, parse_ts
from mamori.clock import Clock
from mamori.config import Settings
from mamori.store import db
from mamori.store.db import Connection, Engine

__all__ = ["NAME", "PAGE", "Evaluated", "evaluate", "thresholds"]

NAME: Final = "anomalies.evaluate"
PAGE: Final = 1_000
"""Audit entries read and evaluated per transaction."""


@dataclass(frozen=True)
class Evaluated:
    entries: int
    raised: int
    cursor: int


def thresholds(settings: Settings) -> Thresholds:
    """The rules' thresholds from the settings MAMORI_ANOMALY_*."""
    return Thresholds(
        window_minutes=settings.anomaly_window_minutes,
        volume_min=settings.anomaly_volume_min,
        volume_factor=settings.anomaly_volume_factor,
        baseline_windows=settings.anomaly_baseline_windows,
        hours_start=settings.anomaly_hours_start,
        hours_end=settings.anomaly_hours_end,
        refusal_burst=settings.anomaly_refusal_burst,
        export_max=settings.anomaly_export_max,
        time_zone=settings.time_zone,
    )


def evaluate(
    engine: Engine, settings: Settings, clock: Clock, *, page: int = PAGE, pages: int | None = None
) -> Evaluated:
    """Evaluate every entry after the cursor (or ``pages`` pages of them)."""
    th = thresholds(settings)
    entries = raised = 0
    last = 0
    done = 0
    while pages is None or done < pages:
        with db.write(engine) as conn:
            after = storage.lock_cursor(conn)
            batch = _page(conn, after, page)
            last = batch[-1].seq if batch else after
            if not batch:
                break
            raised += _apply(conn, batch, th, clock.now())
            storage.set_cursor(conn, last)
        entries += len(batch)
        done += 1
    return Evaluated(entries, raised, last)


def _page(conn: Connection, after: int, page: int) -> list[Entry]:
    with closing(audit_queries.stream_entries(conn, after, after + page)) as pages:
        rows = next(pages, [])
    found: list[Entry] = []
    for seq, ts, actor, action, targets_json, details_json, _prev, _hash in rows[:page]:
        targets, details = decode_fields(targets_json, details_json)
        found.append(Entry(seq, parse_ts(ts), actor, action, targets, details))
    return found


def _bounded(seqs: list[int]) -> tuple[int, ...]:
    if len(seqs) <= rules.EVIDENCE_MAX:
        return tuple(seqs)
    return (*seqs[: rules.EVIDENCE_MAX - 1], seqs[-1])


def _apply(conn: Connection, batch: list[Entry], th: Thresholds, now: dt.datetime) -> int:
    tallies = rules.tally_all(batch, th)
    sign_ins = {e.actor for e in batch if e.action == "staff.sign_in"}
    client_tallies, first = rules.new_clients(batch, storage.known_clients(conn, sign_ins), th)
    storage.add_clients(conn, first)
    tallies += client_tallies
    keys = [(t.rule.value, t.actor, t.window) for t in tallies]
    held = storage.counts(conn, keys)
    raised = 0
    for tally in tallies:
        if tally.rule is Rule.volume:  # each person once per window, across pages
            tally.count = storage.new_people(conn, tally.actor, tally.window, tally.people)
        key = (tally.rule.value, tally.actor, tally.window)
        before = held.get(key)
        seqs = [*(before.evidence if before else ()), *tally.seqs]
        total = storage.CountRow(
            rule=tally.rule.value,
            actor=tally.actor,
            window_start=tally.window,
            count=(before.count if before else 0) + tally.count,
            first_seq=before.first_seq if before else tally.seqs[0],
            last_seq=tally.seqs[-1],
            evidence=_bounded(seqs),
        )
        storage.upsert_count(conn, total, new=before is None)
        raised += _check(conn, tally, total, th, now)
    earliest = min(e.ts for e in batch)
    storage.purge_counts(
        conn,
        rules.window_of(earliest - th.window * (th.baseline_windows + 1), th.window_minutes),
        rules.window_of(earliest - th.window, th.window_minutes),
    )
    return raised


def _check(
    conn: Connection, tally: Tally, total: storage.CountRow, th: Thresholds, now: dt.datetime
) -> int:
    history: list[int] = []
    if tally.rule is Rule.volume:
        since = tally.window - th.window * th.baseline_windows
        counts = storage.history(conn, Rule.volume.value, tally.actor, since, tally.window)
        history = [counts.get(since + th.window * i, 0) for i in range(th.baseline_windows)]
    limit = rules.exceeds(tally.rule, total.count, history, th)
    if limit is None:
        return 0
    row = storage.AlertRow(
        id=f"al_{secrets.token_hex(12)}",
        key=f"{tally.rule.value}:{tally.actor}:{tally.window.isoformat()}",
        rule=tally.rule.value,
        actor=tally.actor,
        window_start=tally.window,
        window_end=tally.window + th.window,
        count=total.count,
        threshold=limit,
        first_seq=total.first_seq,
        last_seq=total.last_seq,
        evidence=total.evidence,
        status="open",
        reason=None,
        note=None,
        dismissed_by=None,
        dismissed_at=None,
        incident_id=None,
        created_at=now,
        updated_at=now,
    )
    return 1 if storage.upsert_alert(conn, row) else 0
