"""Disclosure control (pure, no I/O): a table whose small cells cannot be read or recovered.

:func:`protect` takes the cells of a table grouped by up to two dimensions, each with its value
(people or events) and the number of distinct people behind it, adds the totals (a total per
row and per column, and the grand total) and suppresses:

1. **primary**: every cell and total counting between 1 and k-1 people (a zero is shown: it
   says nobody, and reveals no one);
2. **secondary**: in every line of the table (a row with its total, a column with its total,
   the row totals with the grand total, the column totals with the grand total) where exactly
   one entry is suppressed, the sum and the others would give it back, so the smallest other
   non-zero entry is suppressed too (a cell before the line's total), until no line has a
   single suppressed entry. When the grand total itself counts fewer than k people, everything
   is suppressed.

:func:`difference` is the size of the symmetric difference of two sorted populations: a query
whose population differs from an earlier one's by 1 to k-1 people isolates them (the two
results subtracted describe those few), and :mod:`mamori.statistics.queries` refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

__all__ = ["Entry", "Protected", "difference", "protect"]

Key = tuple[str | None, ...]
Token = TypeVar("Token", str, bytes)


@dataclass
class Entry:
    """A cell (``groups`` of every dimension) or a total (``groups`` of fewer)."""

    groups: dict[str, str | None]
    value: int
    people: int
    total: bool = False
    suppressed: Literal["primary", "secondary"] | None = None
    sum: int | None = None
    """For a measure with a quantity (ages): its sum over the entry's people. Suppressed with
    the entry: the lines are additive in sums as in counts."""

    @property
    def mean(self) -> float | None:
        if self.sum is None or not self.value:
            return None
        return round(self.sum / self.value, 1)


@dataclass
class Protected:
    cells: list[Entry] = field(default_factory=list)
    totals: list[Entry] = field(default_factory=list)

    @property
    def suppressed(self) -> int:
        return sum(1 for e in (*self.cells, *self.totals) if e.suppressed)


def _line_fix(line: Sequence[Entry]) -> bool:
    """Suppress one more entry of ``line`` when exactly one is suppressed; whether it did."""
    if sum(1 for e in line if e.suppressed) != 1:
        return False
    open_ = [e for e in line if not e.suppressed and e.value > 0]
    if not open_:
        return False  # every other entry is a known zero: the one suppressed is the total's
    open_.sort(key=lambda e: (e.total, e.value))
    open_[0].suppressed = "secondary"
    return True


def protect(
    dims: Sequence[str],
    cells: Mapping[Key, tuple[int, int]],
    totals: Mapping[Key, tuple[int, int]],
    k: int,
    sums: Mapping[Key, int] | None = None,
) -> Protected:
    """The table of ``cells`` (groups -> (value, people)) with its totals, protected for
    threshold ``k``.

    ``totals`` maps margin keys to (value, people): for one dimension ``()`` is the grand
    total; for two, ``("r", row_group)`` the total of a row, ``("c", column_group)`` of a
    column, and ``()`` the grand total. The people of a total are counted distinct by the
    caller (one person's events may fall in several cells). ``sums`` (cells' and totals' keys
    alike) gives each entry its sum of a quantity.
    """
    if len(dims) > 2:
        raise ValueError("at most two dimensions")
    grand_value, grand_people = totals.get((), (0, 0))
    grand = Entry({}, grand_value, grand_people, total=True)
    table = Protected()
    if not dims:
        table.totals.append(grand)
    elif len(dims) == 1:
        entries = [
            Entry({dims[0]: key[0]}, v, p) for key, (v, p) in sorted(cells.items(), key=_order)
        ]
        table.cells = entries
        table.totals = [grand]
    else:
        rows = sorted({key[0] for key in cells}, key=_none_last)
        cols = sorted({key[1] for key in cells}, key=_none_last)
        grid: dict[Key, Entry] = {}
        for r in rows:
            for c in cols:
                value, people = cells.get((r, c), (0, 0))
                grid[(r, c)] = Entry({dims[0]: r, dims[1]: c}, value, people)
        row_totals = {
            r: Entry({dims[0]: r}, *totals.get(("r", r), (0, 0)), total=True) for r in rows
        }
        col_totals = {
            c: Entry({dims[1]: c}, *totals.get(("c", c), (0, 0)), total=True) for c in cols
        }
        table.cells = list(grid.values())
        table.totals = [*row_totals.values(), *col_totals.values(), grand]
    everything = [*table.cells, *table.totals]
    if sums is not None:
        _sums(dims, table, sums)
    if 0 < grand.people < k:
        for entry in everything:
            entry.suppressed = "primary"
        return table
    for entry in everything:
        if 0 < entry.people < k:
            entry.suppressed = "primary"
    lines = list(_lines(dims, table))
    changed = True
    while changed:
        changed = False
        for line in lines:
            changed |= _line_fix(line)
    return table


def _sums(dims: Sequence[str], table: Protected, sums: Mapping[Key, int]) -> None:
    for entry in table.cells:
        entry.sum = sums.get(tuple(entry.groups[d] for d in dims), 0)
    for entry in table.totals:
        if not entry.groups:
            key: Key = ()
        elif len(dims) == 1:
            key = ()
        elif dims[0] in entry.groups:
            key = ("r", entry.groups[dims[0]])
        else:
            key = ("c", entry.groups[dims[1]])
        entry.sum = sums.get(key, 0)


def _lines(dims: Sequence[str], table: Protected) -> Iterable[list[Entry]]:
    grand = table.totals[-1]
    if len(dims) == 1:
        yield [*table.cells, grand]
    elif len(dims) == 2:
        a, b = dims
        row_totals = [e for e in table.totals if set(e.groups) == {a}]
        col_totals = [e for e in table.totals if set(e.groups) == {b}]
        for total in row_totals:
            yield [*(e for e in table.cells if e.groups[a] == total.groups[a]), total]
        for total in col_totals:
            yield [*(e for e in table.cells if e.groups[b] == total.groups[b]), total]
        yield [*row_totals, grand]
        yield [*col_totals, grand]


def _none_last(group: str | None) -> tuple[bool, str]:
    return (group is None, group or "")


def _order(item: tuple[Key, tuple[int, int]]) -> tuple[tuple[bool, str], ...]:
    return tuple(_none_last(g) for g in item[0])


def difference(a: Sequence[Token], b: Sequence[Token]) -> int:
    """|A △ B| of two sorted sequences of distinct ids or tokens, of one type (a merge: linear
    time)."""
    i = j = both = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            both += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return len(a) + len(b) - 2 * both
