"""Reading the cells of a department file's many rows, each distinct cell parsed and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.items.base import ClearanceItem
from server.items.fields import Field, FieldProblem


class CellParser:
    """`item.parse_cells` for the many rows of one file.

    Parsing and checking a one-cell column is a pure function of the cell, and files repeat the same few values
    (0, statuses, amounts), so its result is remembered per (column, cell type, cell); rows with a bad cell, and
    columns that combine cells, go through `parse_cells` itself, which gives the error it always gave.
    """

    _LIMIT = 100_000  # distinct cells remembered, so a file of all-different amounts cannot grow it without bound

    def __init__(self, item: ClearanceItem) -> None:
        self.item = item
        self.memo: dict[tuple[str, type, Any], tuple[str, Any]] = {}
        self.one_cell: dict[str, Field] = {column.name: field for field in item.fields if field.combine is None
                                           for column in field.import_columns}

    def __call__(self, cells: Mapping[str, Any]) -> dict[str, Any]:
        """The record values of one row's cells; raises FieldProblem as `parse_cells` does."""
        memo, out = self.memo, {}
        for name, value in cells.items():
            try:
                found = memo.get((name, type(value), value))
            except TypeError:  # an unhashable cell: not remembered
                return self.item.parse_cells(cells)
            if found is None:
                field = self.one_cell.get(name)
                if field is None:
                    return self.item.parse_cells(cells)
                try:
                    found = field.name, self.item.parse_cells({name: value})[field.name]
                except FieldProblem:
                    return self.item.parse_cells(cells)  # raises, with the message of the row's first bad field
                if len(memo) >= self._LIMIT:
                    memo.clear()
                memo[name, type(value), value] = found
            out[found[0]] = found[1]
        return out
