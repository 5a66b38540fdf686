"""A sheet under construction: builders place cells by (row, column), then freeze it into a
:class:`~finops_workbooks.model.Sheet`.

The draft is the only mutable piece of the layout code, and it lives only inside a builder call.
"""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.utils.cell import get_column_letter

from finops_workbooks.model import (
    PLAIN,
    Cell,
    CellValue,
    Chart,
    Sheet,
    Style,
    Table,
    ref,
)


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

    def width(self, column: int, characters: float) -> None:
        """Set a column's width (in characters of the default font)."""
        self._widths[column] = characters

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
