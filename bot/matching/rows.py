"""Rows of numbers stored end to end (the index's postings and associations), and grouping millions of
numbers into rows without a temporary the size of all of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SLICE = 1 << 18  # items per slice where millions are regrouped (see grouped)


@dataclass
class Rows:
    """One row of numbers per term, stored end to end: row n is items[start[n]:start[n + 1]] (and values alike)."""

    start: np.ndarray               # int64, one more than there are rows
    items: np.ndarray               # int32
    values: np.ndarray | None = None

    @classmethod
    def group(cls, rows: np.ndarray, count: int, items: np.ndarray, values: np.ndarray | None = None) -> Rows:
        """Items (and values) grouped by their row number, each row in the given order."""
        columns = [items.__getitem__] if values is None else [items.__getitem__, values.__getitem__]
        start, columns = grouped(rows, count, columns, [items.dtype] + ([] if values is None else [values.dtype]))
        return cls(start, *columns)

    def bounds(self, row: int) -> tuple[int, int]:
        return int(self.start[row]), int(self.start[row + 1])


def grouped(rows: np.ndarray, count: int, columns: list[Callable[[slice], np.ndarray]],
            dtypes: list[np.dtype]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Where each row starts, and the columns' items grouped by row, each row's items in their given order: a
    stable counting sort, a slice of items at a time (a column is a function of a slice giving its items), so
    that no temporary is the size of all the items (at x100 there are millions)."""
    parts = [slice(low, low + SLICE) for low in range(0, len(rows), SLICE)]
    sizes = np.zeros(count, dtype=np.int64)
    for part in parts:
        sizes += np.bincount(rows[part], minlength=count)
    start = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(sizes, out=start[1:])
    results = [np.empty(len(rows), dtype=dtype) for dtype in dtypes]
    free = start[:-1].copy()  # row -> where its next item goes
    for part in parts:
        mine = rows[part]
        order = np.argsort(mine, kind="stable")
        ordered = mine[order]
        # An item's place: its row's next free one, plus how many items of its row come before it in the slice.
        places = free[ordered] + (np.arange(len(ordered)) - np.searchsorted(ordered, ordered))
        for column, result in zip(columns, results):
            result[places] = column(part)[order]
        free += np.bincount(mine, minlength=count)
    return start, results
