"""The anomaly rules over audit entries: volume against a reader's median, reads at unusual
hours in Asia/Tokyo (also across midnight), refusal bursts, bulk exports, sign-ins from a new
client."""

from __future__ import annotations

import datetime as dt

from mamori.anomalies import rules
from mamori.anomalies.rules import Entry, Rule, Thresholds

TH = Thresholds(window_minutes=60, volume_min=10, volume_factor=3, refusal_burst=3, export_max=2)
NOON_JST = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)


def _read(
    seq: int,
    actor: str,
    *subjects: str,
    at: dt.datetime = NOON_JST,
    details: dict[str, object] | None = None,
) -> Entry:
    return Entry(
        seq, at, actor, "subject.read", tuple(f"subject:{s}" for s in subjects), details or {}
    )


def test_volume_counts_distinct_people_per_reader_and_window() -> None:
    entries = [_read(i, "key:k1", f"s{i % 5}") for i in range(1, 21)]
    entries.append(_read(21, "key:k2", "s1"))
    entries.append(_read(22, "system:reminders", "s1"))
    entries.append(_read(23, "key:k1", "s9", at=NOON_JST + dt.timedelta(hours=1)))
    tallies = {(t.actor, t.window): t for t in rules.volume(entries, TH)}
    first = tallies[("key:k1", NOON_JST)]
    assert first.count == 5 and first.seqs == list(range(1, 21))
    assert tallies[("key:k2", NOON_JST)].count == 1
    assert tallies[("key:k1", NOON_JST + dt.timedelta(hours=1))].count == 1
    assert all(not a.startswith("system:") for a, _ in tallies)


def test_far_more_than_usual_exceeds_and_usual_volume_does_not() -> None:
    usual = [8, 9, 10, 8, 9]
    assert rules.exceeds(Rule.volume, 27, usual, TH) is None  # 3 x median 9 = 27
    assert rules.exceeds(Rule.volume, 28, usual, TH) == 27
    # A reader with no history is held to the minimum.
    assert rules.exceeds(Rule.volume, 10, [], TH) is None
    assert rules.exceeds(Rule.volume, 11, [0, 0, 0], TH) == 10


def test_unusual_hours_are_judged_in_tokyo_time() -> None:
    day = Thresholds(hours_start=7, hours_end=21)
    jst = dt.timezone(dt.timedelta(hours=9))
    assert not rules.unusual_hour(dt.datetime(2026, 5, 1, 7, 0, tzinfo=jst), day)
    assert not rules.unusual_hour(dt.datetime(2026, 5, 1, 20, 59, tzinfo=jst), day)
    assert rules.unusual_hour(dt.datetime(2026, 5, 1, 21, 0, tzinfo=jst), day)
    # 22:00 UTC is 07:00 in Tokyo: usual, though the UTC hour is late.
    assert not rules.unusual_hour(dt.datetime(2026, 5, 1, 22, 0, tzinfo=dt.UTC), day)
    assert rules.unusual_hour(dt.datetime(2026, 5, 1, 19, 0, tzinfo=dt.UTC), day)  # 04:00 JST


def test_usual_hours_across_midnight() -> None:
    night = Thresholds(hours_start=22, hours_end=6)  # a night shift
    jst = dt.timezone(dt.timedelta(hours=9))
    assert not rules.unusual_hour(dt.datetime(2026, 5, 1, 23, 30, tzinfo=jst), night)
    assert not rules.unusual_hour(dt.datetime(2026, 5, 2, 5, 59, tzinfo=jst), night)
    assert rules.unusual_hour(dt.datetime(2026, 5, 2, 6, 0, tzinfo=jst), night)
    assert rules.unusual_hour(dt.datetime(2026, 5, 2, 12, 0, tzinfo=jst), night)
    assert not rules.unusual_hour(NOON_JST, Thresholds(hours_start=9, hours_end=9))
    late = NOON_JST + dt.timedelta(hours=12)  # midnight in Tokyo
    found = rules.hours(
        [
            _read(1, "staff:st_a", "s1", at=late),
            _read(2, "staff:st_a", "s2"),
            _read(3, "key:k1", "s3", at=late),  # a host service reads at any hour
        ],
        TH,
    )
    assert [(t.rule, t.actor, t.seqs) for t in found] == [(Rule.hours, "staff:st_a", [1])]


def test_a_burst_of_refused_reads() -> None:
    entries = [
        _read(1, "key:k1", "s1", details={"item.email": "purpose_not_allowed"}),
        _read(
            2,
            "key:k1",
            "s2",
            details={"item.email": "key_not_granted", "item.name": "key_not_granted"},
        ),
        _read(3, "key:k1", "s3", details={"item.email": "released"}),
        _read(4, "key:k1", "s4", details={"item.email": "stopped_item"}),
    ]
    [tally] = rules.refusals(entries, TH)
    assert tally.count == 3 and tally.seqs == [1, 2]
    assert rules.exceeds(Rule.refusals, 3, [], TH) == 3
    assert rules.exceeds(Rule.refusals, 2, [], TH) is None


def test_bulk_exports_beyond_the_count() -> None:
    entries = [
        Entry(i, NOON_JST, "staff:st_a", action, (), {})
        for i, action in enumerate(
            ["provision.ledger_export", "subject.disclose", "consent.export", "policy.publish"], 1
        )
    ]
    [tally] = rules.exports(entries, TH)
    assert tally.count == 3 and tally.seqs == [1, 2, 3]
    assert rules.exceeds(Rule.exports, 3, [], TH) == 2
    assert rules.exceeds(Rule.exports, 2, [], TH) is None


def _sign_in(seq: int, actor: str, client: str, result: str = "ok") -> Entry:
    return Entry(
        seq, NOON_JST, actor, "staff.sign_in", (actor,), {"result": result, "client": client}
    )


def test_a_sign_in_from_a_new_client() -> None:
    entries = [
        _sign_in(1, "staff:st_a", "c1"),  # first ever: the baseline
        _sign_in(2, "staff:st_a", "c1"),
        _sign_in(3, "staff:st_b", "c7"),  # known already
        _sign_in(4, "staff:st_b", "c8", result="failed"),  # failures are not counted
        _sign_in(5, "staff:st_a", "c2"),
    ]
    tallies, first = rules.new_clients(entries, {"staff:st_b": {"c7"}}, TH)
    assert [(t.actor, t.seqs) for t in tallies] == [("staff:st_a", [5])]
    assert first == [("staff:st_a", "c1", 1), ("staff:st_a", "c2", 5)]
