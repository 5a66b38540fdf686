"""A sheet under construction: builders place cells by (row, column), then freeze it into a
:class:`~finops_workbooks.model.Sheet`.

The draft is the only mutable piece of the layout code, and it lives only inside a builder call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from openpyxl.utils.cell import get_column_letter

from finops_workbooks import formats as f
from finops_workbooks.model import (
    PLAIN,
    Cell,
    CellValue,
    Chart,
    Formula,
    Sheet,
    Style,
    Table,
    ref,
)


def start_sheet(name: str, title: str, note: str | None = None, *,
                landscape: bool = True) -> SheetDraft:
    """A new sheet opened the way every layout opens one: its title in A1 and, when given, a note on
    where its figures come from in A2."""
    s = SheetDraft(name, landscape=landscape)
    s.heading(title, note)
    return s


class SheetDraft:
    """Collects the cells, widths, tables and charts of one sheet."""

    def __init__(self, name: str, *, landscape: bool = False):
        self.name = name
        self.landscape = landscape
        self.freeze: str | None = None
        self._cells: dict[tuple[int, int], Cell] = {}
        self._widths: dict[int, float] = {}
        self._heights: dict[int, float] = {}
        self._tables: list[Table] = []
        self._charts: list[Chart] = []

    def put(self, row: int, column: int, value: CellValue, style: Style = PLAIN) -> str:
        """Place one cell (replacing what was there); returns its A1 reference."""
        at = ref(row, column)
        self._cells[(row, column)] = Cell(at, value, style)
        return at

    def put_row(self, row: int, column: int, values: Iterable[CellValue],
                style: Style = PLAIN) -> list[str]:
        """Place values left to right from (row, column); returns their references."""
        return [self.put(row, column + i, v, style) for i, v in enumerate(values)]

    def heading(self, title: str, note: str | None = None) -> None:
        """The sheet's title in A1 and, when given, a note in A2."""
        self.put(1, 1, title, f.TITLE)
        if note is not None:
            self.put(2, 1, note, f.NOTE)

    def section(self, row: int, label: str, headings: Iterable[CellValue], style: Style = f.HEADER_LEFT) -> int:
        """The top of a labelled table: ``label`` in column A of ``row``, the column ``headings`` on the
        row below from column A. Returns the headings' row."""
        self.put(row, 1, label, f.LABEL)
        self.put_row(row + 1, 1, headings, style)
        return row + 1

    def settings_rows(self, row: int, rows: Iterable[tuple[str, CellValue, Style, str]]) -> int:
        """Lay out (label, value, style, note) rows from ``row`` down: the label in A, the value in B
        in its style, the note (when there is one) in C. Returns the row after the last."""
        rows = tuple(rows)
        for r, (label, value, style, note) in enumerate(rows, start=row):
            self.put(r, 1, label, f.LABEL)
            self.put(r, 2, value, style)
            if note:
                self.put(r, 3, note, f.NOTE)
        return row + len(rows)

    def month_grid(self, *, key_row: int, head_row: int, headings: Sequence[str],
                   months: Sequence, amount: Callable[[int, int], Formula],
                   total: str, change: str) -> int:
        """Lay out a months-down grid: a key and heading per column, ``amount(row, column)`` in
        each body cell, a row total, the change on the prior month's total and a column-total row.

        Columns run from B; the row total sits right of the last heading and the change right of
        that. Returns the column-total row.
        """
        first, last = head_row + 1, head_row + len(months)
        total_col = 2 + len(headings)
        self.put(key_row, 1, "key", f.KEY)
        self.put(head_row, 1, "Month", f.HEADER_LEFT)
        for i, heading in enumerate(headings):
            self.put(key_row, 2 + i, i + 1, f.KEY)
            self.put(head_row, 2 + i, heading, f.HEADER)
        self.put(head_row, total_col, total, f.HEADER)
        self.put(head_row, total_col + 1, change, f.HEADER)
        for r, month in enumerate(months, start=first):
            self.put(r, 1, month, f.MONTH_CELL)
            for c in range(2, total_col):
                self.put(r, c, amount(r, c), f.MONEY)
            self.put(r, total_col, Formula(f"=SUM({ref(r, 2)}:{ref(r, total_col - 1)})"),
                     f.MONEY_TOTAL)
            if r > first:
                prev, cur = ref(r - 1, total_col), ref(r, total_col)
                self.put(r, total_col + 1, Formula(f'=IF({prev}=0,"",{cur}/{prev}-1)'), f.CHANGE)
        total_row = last + 1
        self.put(total_row, 1, total, f.MONTH_TOTAL)
        for c in range(2, total_col + 1):
            self.put(total_row, c, Formula(f"=SUM({ref(first, c)}:{ref(last, c)})"),
                     f.MONEY_TOTAL)
        return total_row

    def width(self, column: int, characters: float) -> None:
        """Set a column's width (in characters of the default font)."""
        self._widths[column] = characters

    def widths(self, *characters: float, first: int = 1) -> None:
        """Set the widths of consecutive columns from ``first`` (in characters of the default font)."""
        for column, width in enumerate(characters, start=first):
            self._widths[column] = width

    def height(self, row: int, points: float) -> None:
        """Set a row's height (in points)."""
        self._heights[row] = points

    def fit_height(self, row: int, columns: Iterable[int], *, line: float = 15.0) -> None:
        """Make ``row`` tall enough for its wrapped text, estimated from the column widths."""
        lines = 1
        for column in columns:
            cell = self._cells.get((row, column))
            if cell is not None and isinstance(cell.value, str):
                per_line = max(int(self._widths.get(column, 8.43)) - 2, 1)
                lines = max(lines, -(-len(cell.value) // per_line))
        if lines > 1:
            self._heights[row] = line * lines

    def table(self, table: Table) -> None:
        self._tables.append(table)

    def chart(self, chart: Chart) -> None:
        self._charts.append(chart)

    def build(self) -> Sheet:
        """The finished, immutable sheet (cells in reading order)."""
        return Sheet(
            name=self.name,
            cells=tuple(self._cells[k] for k in sorted(self._cells)),
            column_widths=tuple((get_column_letter(c), w) for c, w in sorted(self._widths.items())),
            row_heights=tuple(sorted(self._heights.items())),
            freeze=self.freeze,
            tables=tuple(self._tables),
            charts=tuple(self._charts),
            landscape=self.landscape,
        )
