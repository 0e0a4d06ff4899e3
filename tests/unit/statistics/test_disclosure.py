"""Disclosure control and dimensions (pure): every cell and total of 1 to k-1 people
suppressed, no line of the table with a single suppressed entry (else the total would give it
back), the symmetric difference of two populations; prefectures, age bands and months."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from mamori.policy.dimensions import age_band, month, prefecture
from mamori.statistics.disclosure import Entry, Protected, difference, protect

K = 10


def _table_1d(counts: dict[str, int]) -> Protected:
    cells: dict[tuple[str | None, ...], tuple[int, int]] = {(g,): (n, n) for g, n in counts.items()}
    total = sum(counts.values())
    return protect(["d"], cells, {(): (total, total)}, K)


def _table_2d(counts: dict[tuple[str, str], int]) -> Protected:
    cells: dict[tuple[str | None, ...], tuple[int, int]] = {k: (n, n) for k, n in counts.items()}
    totals: dict[tuple[str | None, ...], tuple[int, int]] = {}
    for (r, c), n in counts.items():
        for key in (("r", r), ("c", c), ()):
            v, _ = totals.get(key, (0, 0))
            totals[key] = (v + n, v + n)
    return protect(["a", "b"], cells, totals, K)


def _lines(table: Protected, dims: int) -> list[list[Entry]]:
    grand = table.totals[-1]
    if dims == 1:
        return [[*table.cells, grand]]
    lines = []
    for key in ("a", "b"):
        margins = [t for t in table.totals if set(t.groups) == {key}]
        for total in margins:
            lines.append([e for e in table.cells if e.groups[key] == total.groups[key]] + [total])
        lines.append([*margins, grand])
    return lines


def _safe(table: Protected, dims: int) -> None:
    for entry in (*table.cells, *table.totals):
        if 0 < entry.people < K:
            assert entry.suppressed, entry
    for line in _lines(table, dims):
        assert sum(1 for e in line if e.suppressed) != 1, line


def test_a_cell_of_three_is_suppressed_with_one_more() -> None:
    table = _table_1d({"東京都": 12, "大阪府": 3, "京都府": 15})
    suppressed = {e.groups["d"]: e.suppressed for e in table.cells if e.suppressed}
    assert suppressed == {"大阪府": "primary", "東京都": "secondary"}
    assert table.totals[0].value == 30 and not table.totals[0].suppressed
    assert table.suppressed == 2


def test_a_line_of_one_small_cell_and_zeros_suppresses_its_total() -> None:
    table = _table_2d({("x", "p"): 3, ("y", "p"): 0, ("x", "q"): 0, ("y", "q"): 40})
    _safe(table, 2)


def test_a_grand_total_below_k_suppresses_everything() -> None:
    table = _table_1d({"a": 4, "b": 5})
    assert all(e.suppressed for e in (*table.cells, *table.totals))


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 40), min_size=1))
def test_one_dimension_is_always_safe(counts: dict[str, int]) -> None:
    _safe(_table_1d(counts), 1)


@given(
    st.dictionaries(
        st.tuples(st.sampled_from("abcd"), st.sampled_from("wxyz")),
        st.integers(0, 30),
        min_size=1,
    )
)
def test_two_dimensions_are_always_safe(counts: dict[tuple[str, str], int]) -> None:
    _safe(_table_2d(counts), 2)


@given(st.sets(st.integers(0, 50)), st.sets(st.integers(0, 50)))
def test_difference_is_the_symmetric_difference(a: set[int], b: set[int]) -> None:
    assert difference(sorted(f"{i:03d}" for i in a), sorted(f"{i:03d}" for i in b)) == len(a ^ b)


def test_prefectures_age_bands_and_months() -> None:
    assert prefecture("東京都千代田区千代田1-1") == "東京都"
    assert prefecture("〒600-8001 京都府京都市") == "京都府"
    assert prefecture({"prefecture": "北海道", "city": "札幌市"}) == "北海道"
    assert prefecture("神奈川県横浜市") == "神奈川県" and prefecture("大阪市北区") == "大阪府"
    assert prefecture("Springfield") is None and prefecture(None) is None
    today = dt.date(2026, 5, 1)
    assert age_band("1990-05-01", today) == "30-39"
    assert age_band("1990-05-02", today) == "30-39"
    assert age_band("1996-05-02", today) == "20-29"
    assert age_band("1930-01-01", today) == "90+" and age_band("2030-01-01", today) is None
    assert age_band("not a day", today) is None
    assert month(dt.datetime(2026, 4, 30, 15, tzinfo=dt.UTC), "Asia/Tokyo") == "2026-05"
