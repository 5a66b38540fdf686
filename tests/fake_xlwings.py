"""A small stand-in for an open ``xlwings.Book``: only the API ``finops_workbooks.live`` uses.

It keeps what Excel would store per cell and, like Excel, interprets what is written to a cell's
value as typed input: a leading apostrophe makes text (and is not stored); ``=``, ``+``, ``-``
and ``@`` start a formula; text that reads as a number becomes a number. So a writer that forgot
to protect text would fail the tests exactly where it would fail in Excel.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from types import SimpleNamespace

from openpyxl.utils.cell import column_index_from_string, range_boundaries


@dataclasses.dataclass
class FakeCell:
    kind: str = "empty"  # empty, text, number, bool, date, formula
    value: object = None
    number_format: str = "General"
    bold: bool = False
    italic: bool = False
    size: float | None = None
    font_color: str | None = None
    fill: str | None = None
    wrap: bool = False
    align: str | None = None


def typed(value) -> tuple[str, object]:
    """(kind, stored value) of ``value`` entered in a cell, as Excel interprets typed input."""
    if value is None:
        return "empty", None
    if isinstance(value, bool):
        return "bool", value
    if isinstance(value, (int, float)):
        return "number", value
    if isinstance(value, (dt.date, dt.datetime)):
        return "date", value
    if isinstance(value, str):
        if value.startswith("'"):
            return "text", value[1:]
        if re.fullmatch(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?", value.strip()):
            return "number", float(value)
        if value.startswith(("=", "+", "-", "@")) and len(value) > 1:
            return "formula", value if value.startswith("=") else "=" + value
        if re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
            return "date", value
        return "text", value
    raise TypeError(f"xlwings cannot write {type(value).__name__}")


def _write_only(setter) -> property:
    """A property the fake only records writes of: reading it back is not modelled."""
    def read(self):
        raise NotImplementedError("the fake only records writes")
    return property(read, setter)


class FakeRange:
    def __init__(self, sheet: FakeSheet, address: str):
        self.sheet, self.address = sheet, address
        if re.fullmatch(r"[A-Z]+:[A-Z]+", address):
            a, b = address.split(":")
            self.bounds = (column_index_from_string(a), 1, column_index_from_string(b), 1_048_576)
        elif re.fullmatch(r"\d+:\d+", address):
            a, b = address.split(":")
            self.bounds = (1, int(a), 16_384, int(b))
        else:
            self.bounds = range_boundaries(address)

    def _cells(self):
        min_col, min_row, max_col, max_row = self.bounds
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                yield self.sheet.cells.setdefault((r, c), FakeCell())

    def _grid(self, data):
        min_col, min_row, max_col, max_row = self.bounds
        rows = data if isinstance(data, list) else [[data]]
        assert len(rows) == max_row - min_row + 1 and all(len(r) == max_col - min_col + 1 for r in rows), \
            f"data shape does not match {self.address}"
        for i, row in enumerate(rows):
            for j, item in enumerate(row):
                yield self.sheet.cells.setdefault((min_row + i, min_col + j), FakeCell()), item

    def _write_value(self, data):
        for cell, item in self._grid(data):
            cell.kind, cell.value = typed(item)

    def _write_formula(self, data):
        for cell, item in self._grid(data):
            assert isinstance(item, str) and item.startswith("="), item
            cell.kind, cell.value = "formula", item

    value = _write_only(_write_value)
    formula = _write_only(_write_formula)

    def _set(self, attribute, value):
        for cell in self._cells():
            setattr(cell, attribute, value)

    number_format = property(None, lambda self, v: self._set("number_format", v))
    color = property(None, lambda self, v: self._set("fill", v))
    wrap_text = property(None, lambda self, v: self._set("wrap", v))
    horizontal_alignment = property(None, lambda self, v: self._set("align", v))

    @property
    def font(self):
        rng = self

        class _Font:
            bold = property(None, lambda s, v: rng._set("bold", v))
            italic = property(None, lambda s, v: rng._set("italic", v))
            size = property(None, lambda s, v: rng._set("size", v))
            color = property(None, lambda s, v: rng._set("font_color", v))

        return _Font()

    def _size(self, sizes: dict[int, float], first: int, last: int, size: float):
        for i in range(first, last + 1):
            sizes[i] = size

    column_width = _write_only(lambda self, w: self._size(self.sheet.column_widths, self.bounds[0], self.bounds[2], w))
    row_height = _write_only(lambda self, h: self._size(self.sheet.row_heights, self.bounds[1], self.bounds[3], h))


class FakeTable:
    def __init__(self, name, address, style):
        self.name, self.address, self.style = name, address, style

    def resize(self, rng: FakeRange):
        self.address = rng.address


class FakeTables(list):
    def add(self, source: FakeRange, name: str, table_style_name: str = "TableStyleMedium2", **_):
        table = FakeTable(name, source.address, table_style_name)
        self.append(table)
        return table


class FakeChart:
    def __init__(self, charts, **kwargs):
        self._charts = charts
        self.__dict__.update(kwargs)
        self.title = None
        self.x_values = None

    def set_x_axis_values(self, rng: FakeRange):
        self.x_values = rng.address

    def delete(self):
        self._charts.remove(self)


class FakeCharts(list):
    def __init__(self, supported: bool):
        super().__init__()
        self.supported = supported

    def add(self, **kwargs):
        if not self.supported:
            raise NotImplementedError("charts are not supported on this engine")
        chart = FakeChart(self, **{k: getattr(v, "address", v) for k, v in kwargs.items()})
        self.append(chart)
        return chart


class FakeFreeze:
    def __init__(self, sheet, supported: bool):
        self.sheet, self.supported = sheet, supported

    def freeze_at(self, frozen: str):
        if not self.supported:
            raise NotImplementedError("freeze panes are not supported on this engine")
        self.sheet.frozen = frozen


class FakeSheet:
    def __init__(self, book, name: str):
        self.book, self.name = book, name
        self.cells: dict[tuple[int, int], FakeCell] = {}
        self.column_widths: dict[int, float] = {}
        self.row_heights: dict[int, float] = {}
        self.tables = FakeTables()
        self.charts = FakeCharts(book.charts_supported)
        self.freeze_panes = FakeFreeze(self, book.freeze_supported)
        self.frozen = None
        self.clears = 0

    def range(self, address: str) -> FakeRange:
        return FakeRange(self, address)

    def clear(self):
        self.cells.clear()
        self.clears += 1

    def cell(self, a1: str) -> FakeCell:
        col, row, _, _ = range_boundaries(a1)
        return self.cells.get((row, col), FakeCell())


class FakeSheets:
    def __init__(self, book, names):
        self._book = book
        self._sheets = [FakeSheet(book, n) for n in names]

    def __iter__(self):
        return iter(list(self._sheets))

    def __len__(self):
        return len(self._sheets)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._sheets[key]
        for s in self._sheets:
            if s.name.casefold() == key.casefold():
                return s
        raise KeyError(key)

    def add(self, name=None, before=None, after=None):
        if any(s.name.casefold() == name.casefold() for s in self._sheets):
            raise ValueError(f"Sheet named '{name}' already present in workbook")
        sheet = FakeSheet(self._book, name)
        index = self._sheets.index(after) + 1 if after is not None else 0
        self._sheets.insert(index, sheet)
        return sheet


class FakeName:
    def __init__(self, name, refers_to):
        self.name, self.refers_to = name, refers_to


class FakeNames:
    def __init__(self):
        self._names: dict[str, FakeName] = {}

    def __iter__(self):
        return iter(list(self._names.values()))

    def __getitem__(self, name):
        return self._names[name]

    def add(self, name, refers_to):
        if name in self._names:
            raise ValueError(f"name {name} exists")  # Office.js refuses duplicates
        self._names[name] = FakeName(name, refers_to)
        return self._names[name]


class FakeBook:
    """A book with the given sheets, on a desktop (classic) or remote (Server/Lite) engine."""

    def __init__(self, sheets=("Sheet1",), *, engine: str = "desktop", charts: bool = True,
                 freeze: bool = True):
        self.charts_supported, self.freeze_supported = charts, freeze
        self.sheets = FakeSheets(self, sheets)
        self.names = FakeNames()
        self.app = SimpleNamespace(engine=SimpleNamespace(type=engine))
