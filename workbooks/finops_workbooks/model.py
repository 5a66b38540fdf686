"""The layout model of a workbook: what goes where, independent of how it is written.

A :class:`WorkbookSpec` holds sheets; a :class:`Sheet` holds cells, column widths, frozen panes,
Excel Tables and native charts; defined names point at cells. Everything is immutable (frozen
dataclasses, tuples), so one spec can be written to a file (``writer``) and into a live book
(``live``) and give the same workbook.

Cell values are Python values: ``str`` (always text, even ``"=1+1"``), ``Decimal`` (money),
``int``, ``float``, ``date``/``datetime``, ``bool``, ``None`` (an empty cell), or a
:class:`Formula` (the only way to write a formula). References are A1 text local to their sheet
(``"B4"``, ``"A1:G20"``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from decimal import Decimal
from typing import Literal

from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries


@dataclasses.dataclass(frozen=True)
class Formula:
    """A native Excel formula, e.g. ``Formula("=SUM(B2:B7)")``.

    Attributes:
      text: the formula in Excel's English (en-US) syntax, starting with ``=``.
    """

    text: str

    def __post_init__(self):
        if not isinstance(self.text, str) or not self.text.startswith("=") or len(self.text) < 2:
            raise ValueError(f"a formula must be text starting with '=', got {self.text!r}")


#: What a cell can hold. A plain ``str`` is always text; formulas are ``Formula``.
CellValue = str | Decimal | int | float | dt.date | dt.datetime | bool | None | Formula
_VALUE_TYPES = (str, Decimal, int, float, dt.date, bool, Formula, type(None))


@dataclasses.dataclass(frozen=True)
class Style:
    """How a cell looks.

    Attributes:
      number_format: Excel number format code (``"yyyy-mm"``, ``"0.0%"``, …); None for the
        default of the value's type (dates as ``yyyy-mm-dd``, Decimal money as accounting).
      bold, italic: font emphasis.  size: font size in points (None: the default).
      color: font colour as ``RRGGBB`` hex (None: automatic).
      fill: background colour as ``RRGGBB`` hex (None: no fill).
      wrap: wrap long text within the column.  align: ``"left"``, ``"center"`` or ``"right"``.
    """

    number_format: str | None = None
    bold: bool = False
    italic: bool = False
    size: float | None = None
    color: str | None = None
    fill: str | None = None
    wrap: bool = False
    align: Literal["left", "center", "right"] | None = None

    def __post_init__(self):
        for field in ("color", "fill"):
            value = getattr(self, field)
            if value is not None and not re.fullmatch(r"[0-9A-Fa-f]{6}", value):
                raise ValueError(f"Style.{field} must be RRGGBB hex, got {value!r}")
        if self.align not in (None, "left", "center", "right"):
            raise ValueError(f"Style.align must be left, center or right, got {self.align!r}")

    def but(self, **changes) -> Style:
        """A copy with some attributes changed."""
        return dataclasses.replace(self, **changes)


PLAIN = Style()


@dataclasses.dataclass(frozen=True)
class Cell:
    """One cell: where, what, how.

    Attributes:
      ref: the cell's A1 reference on its sheet (``"B4"``).
      value: see :data:`CellValue`.
      style: its look.
    """

    ref: str
    value: CellValue
    style: Style = PLAIN

    def __post_init__(self):
        coordinate_to_tuple(self.ref)  # raises ValueError for a bad reference
        if not isinstance(self.value, _VALUE_TYPES):
            raise TypeError(f"cell {self.ref}: unsupported value type {type(self.value).__name__}")
        if isinstance(self.value, float) and not math.isfinite(self.value):
            raise ValueError(f"cell {self.ref}: Excel cannot hold {self.value!r}")
        if isinstance(self.value, Decimal) and not self.value.is_finite():
            raise ValueError(f"cell {self.ref}: Excel cannot hold {self.value!r}")

    @property
    def row(self) -> int:
        return coordinate_to_tuple(self.ref)[0]

    @property
    def column(self) -> int:
        return coordinate_to_tuple(self.ref)[1]


@dataclasses.dataclass(frozen=True)
class Table:
    """An Excel Table (ListObject) over a range whose first row is the header.

    The writers write the header texts; the sheet's cells fill the rows below.

    Attributes:
      name: the table's name, used in structured references (``CostData[EffectiveCost]``).
      ref: the whole range, header row included (``"A1:G181"``); at least one data row.
      header: the column names, one per column of ``ref``, unique ignoring case.
      style: a built-in table style name.
    """

    name: str
    ref: str
    header: tuple[str, ...]
    style: str = "TableStyleMedium2"

    def __post_init__(self):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,254}", self.name) or _looks_like_ref(self.name):
            raise ValueError(f"table name {self.name!r}: use letters, digits and _ (not a cell reference)")
        min_col, min_row, max_col, max_row = range_boundaries(self.ref)
        if max_col - min_col + 1 != len(self.header):
            raise ValueError(f"table {self.name}: {len(self.header)} header names for "
                             f"{max_col - min_col + 1} columns in {self.ref}")
        if max_row <= min_row:
            raise ValueError(f"table {self.name}: {self.ref} needs a header row and a data row")
        folded = [h.casefold() for h in self.header]
        if any(not h.strip() for h in self.header) or len(set(folded)) != len(folded):
            raise ValueError(f"table {self.name}: header names must be non-empty and unique "
                             f"(ignoring case): {self.header}")

    @property
    def header_refs(self) -> tuple[str, ...]:
        min_col, min_row, max_col, _ = range_boundaries(self.ref)
        return tuple(f"{get_column_letter(c)}{min_row}" for c in range(min_col, max_col + 1))


@dataclasses.dataclass(frozen=True)
class Chart:
    """A native chart of columns of data on the chart's own sheet.

    Attributes:
      name: the chart's name (unique on its sheet).
      kind: ``"bar"`` (vertical columns) or ``"line"``.
      title: shown above the plot.
      data_ref: the series, one per column; the first row holds the series names.
      categories_ref: the category labels (x axis), one per data row below the names.
      anchor: the cell at the chart's top-left corner.
      stacked: stack the bars (bar charts only).
      y_title, x_title: axis titles.  y_number_format: the value axis' number format.
      width_cm, height_cm: size.
    """

    name: str
    kind: Literal["bar", "line"]
    title: str
    data_ref: str
    categories_ref: str
    anchor: str
    stacked: bool = False
    y_title: str | None = None
    x_title: str | None = None
    y_number_format: str | None = None
    width_cm: float = 18.0
    height_cm: float = 8.0

    def __post_init__(self):
        if self.kind not in ("bar", "line"):
            raise ValueError(f"chart {self.name}: kind must be bar or line, got {self.kind!r}")
        _, d_min_row, _, d_max_row = range_boundaries(self.data_ref)
        _, c_min_row, _, c_max_row = range_boundaries(self.categories_ref)
        if d_max_row - d_min_row != c_max_row - c_min_row + 1:
            raise ValueError(f"chart {self.name}: {self.categories_ref} must have one label per "
                             f"data row of {self.data_ref} (below its name row)")
        coordinate_to_tuple(self.anchor)


@dataclasses.dataclass(frozen=True)
class Sheet:
    """One worksheet.

    Attributes:
      name: the sheet's name (at most 31 characters, none of ``[]:*?/\\``).
      cells: its cells, each reference once.
      column_widths: (column letter, width in characters) pairs.
      row_heights: (row number, height in points) pairs; other rows keep the default height.
      freeze: the top-left cell of the scrolling pane (``"B2"`` freezes row 1 and column A).
      tables, charts: its Excel Tables and native charts.
      landscape: print (and export to PDF) in landscape, fitted to one page wide.
    """

    name: str
    cells: tuple[Cell, ...] = ()
    column_widths: tuple[tuple[str, float], ...] = ()
    row_heights: tuple[tuple[int, float], ...] = ()
    freeze: str | None = None
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    landscape: bool = False

    def __post_init__(self):
        if not 0 < len(self.name) <= 31 or re.search(r"[\[\]:*?/\\]", self.name) \
                or self.name.startswith("'") or self.name.endswith("'"):
            raise ValueError(f"sheet name {self.name!r} is not allowed in Excel")
        refs = [c.ref for c in self.cells]
        dupes = sorted({r for r in refs if refs.count(r) > 1})
        if dupes:
            raise ValueError(f"sheet {self.name}: cells given twice: {', '.join(dupes)}")
        taken = set(refs)
        for table in self.tables:
            clash = taken.intersection(table.header_refs)
            if clash:
                raise ValueError(f"sheet {self.name}: table {table.name}'s header row is written "
                                 f"from its header; do not also give cells {sorted(clash)}")
        names = [c.name for c in self.charts]
        if len(set(names)) != len(names):
            raise ValueError(f"sheet {self.name}: chart names must be unique")
        if self.freeze is not None:
            coordinate_to_tuple(self.freeze)

    def cell(self, ref: str) -> Cell | None:
        """The cell at ``ref``, or None."""
        for c in self.cells:
            if c.ref == ref:
                return c
        return None


@dataclasses.dataclass(frozen=True)
class DefinedName:
    """A workbook-level name for a cell or range, e.g. ``StorePath`` → ``Settings!$B$4``.

    Attributes:
      name: the name (letters, digits, ``_`` and ``.``; not a cell reference).
      sheet: the sheet it points into.  ref: the cell or range there.
    """

    name: str
    sheet: str
    ref: str

    def __post_init__(self):
        if not re.fullmatch(r"[A-Za-z_\\][A-Za-z0-9_.]{0,254}", self.name) or _looks_like_ref(self.name):
            raise ValueError(f"defined name {self.name!r}: use letters, digits and _ (not a cell reference)")
        range_boundaries(self.ref)

    @property
    def refers_to(self) -> str:
        """The absolute reference, e.g. ``Settings!$B$4`` (no leading ``=``)."""
        return f"{quote_sheet(self.sheet)}!{absolute(self.ref)}"


#: The fixed creation time written into every workbook, so a spec always gives the same file.
FIXED_TIMESTAMP = dt.datetime(2025, 1, 1, 0, 0, 0)


@dataclasses.dataclass(frozen=True)
class WorkbookSpec:
    """A whole workbook.

    Attributes:
      sheets: in tab order; the first is the active sheet when the file opens.
      names: workbook-level defined names.
      title: the document title (file properties).
      active_sheet: the sheet shown when the file opens (None: the first).
      creator: the document author (file properties).
      created: creation and modification time written into the file (fixed, for reproducibility).
    """

    sheets: tuple[Sheet, ...]
    names: tuple[DefinedName, ...] = ()
    title: str = ""
    active_sheet: str | None = None
    creator: str = "finops-xl"
    created: dt.datetime = FIXED_TIMESTAMP

    def __post_init__(self):
        if not self.sheets:
            raise ValueError("a workbook needs at least one sheet")
        folded = [s.name.casefold() for s in self.sheets]
        if len(set(folded)) != len(folded):
            raise ValueError(f"sheet names must be unique (ignoring case): {[s.name for s in self.sheets]}")
        for n in self.names:
            if n.sheet.casefold() not in folded:
                raise ValueError(f"defined name {n.name} points at a missing sheet {n.sheet!r}")
        names = [n.name.casefold() for n in self.names]
        if len(set(names)) != len(names):
            raise ValueError("defined names must be unique (ignoring case)")
        if self.active_sheet is not None and self.active_sheet.casefold() not in folded:
            raise ValueError(f"active sheet {self.active_sheet!r} is not a sheet of the workbook")
        tables = [t.name.casefold() for s in self.sheets for t in s.tables]
        if len(set(tables)) != len(tables) or set(tables) & set(names):
            raise ValueError("table names must be unique and differ from the defined names")

    def sheet(self, name: str) -> Sheet:
        """The sheet called ``name``."""
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(f"no sheet {name!r}; sheets: {', '.join(s.name for s in self.sheets)}")


# ---- references -----------------------------------------------------------------------------


def ref(row: int, column: int) -> str:
    """A1 reference of (row, column), both 1-based: ``ref(4, 2)`` → ``"B4"``."""
    return f"{get_column_letter(column)}{row}"


def absolute(a1: str) -> str:
    """``"B4"`` → ``"$B$4"``; ``"A1:C3"`` → ``"$A$1:$C$3"``."""
    return ":".join(re.sub(r"^\$?([A-Za-z]+)\$?(\d+)$", r"$\1$\2", part) for part in a1.split(":"))


def quote_sheet(name: str) -> str:
    """A sheet name as written in a formula: quoted when it is not a plain word."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and not _looks_like_ref(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def _looks_like_ref(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]{1,3}\d+", name) or re.fullmatch(r"[Rr]\d*[Cc]\d*", name))
