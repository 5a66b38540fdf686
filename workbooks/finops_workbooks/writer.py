"""Write a :class:`~finops_workbooks.model.WorkbookSpec` to an ``.xlsx`` file with openpyxl.

What the file gets:

- text as text: every ``str`` is stored as a string cell, never parsed, even when it reads like a
  formula (``=HYPERLINK(...)``), a number (``+1``) or an error (``#N/A``); text starting with
  ``= + - @`` (or a tab or carriage return) also gets Excel's quote prefix, so editing the cell
  keeps it text. Characters XML cannot hold become U+FFFD;
- dates as dates (``yyyy-mm-dd`` unless the style says otherwise); timezone-aware datetimes are
  written in UTC;
- ``Decimal`` money as numbers in the accounting format (Excel holds 15 significant digits);
- formulas as native formulas (no cached values: Excel and LibreOffice calculate on open);
- Excel Tables, native bar and line charts, defined names, frozen panes, column widths.

The output is reproducible: fixed document properties and fixed zip timestamps, so the same spec
gives the same bytes. Like every openpyxl writer it does not calculate formulas; the recalculation
tests do that with LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.defined_name import DefinedName as XlDefinedName
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table as XlTable
from openpyxl.worksheet.table import TableStyleInfo
from openpyxl.writer.excel import ExcelWriter

from finops_workbooks import formats
from finops_workbooks.model import Cell, Chart, Formula, Sheet, Style, WorkbookSpec

#: First characters that make spreadsheet programs read typed text as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FONT = "Calibri"  # openpyxl's default body font; a styled font names it too


def write_xlsx(spec: WorkbookSpec, path: str | os.PathLike[str]) -> Path:
    """Write ``spec`` to ``path`` (replacing it); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = xlsx_bytes(spec)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def xlsx_bytes(spec: WorkbookSpec) -> bytes:
    """The ``.xlsx`` file of ``spec``, as bytes (the same spec always gives the same bytes)."""
    wb = to_openpyxl(spec)
    buffer = io.BytesIO()
    with _FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return buffer.getvalue()


def to_openpyxl(spec: WorkbookSpec) -> Workbook:
    """An openpyxl Workbook holding ``spec`` (not saved)."""
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in spec.sheets:
        _write_sheet(wb.create_sheet(sheet.name), sheet)
    for name in spec.names:
        wb.defined_names[name.name] = XlDefinedName(name.name, attr_text=name.refers_to)
    from finops_workbooks.finish import finish

    spec = finish(wb, spec)
    props = wb.properties
    props.creator = spec.creator
    props.lastModifiedBy = spec.creator
    props.title = spec.title or None
    props.created = props.modified = spec.created
    active = [s.name for s in spec.sheets].index(spec.active_sheet) if spec.active_sheet else 0
    wb.active = active
    for i, ws in enumerate(wb.worksheets):
        ws.sheet_view.tabSelected = i == active
    return wb


# ---- sheets ---------------------------------------------------------------------------------


def _write_sheet(ws, sheet: Sheet) -> None:
    for cell in sheet.cells:
        _write_cell(ws[cell.ref], cell)
    for table in sheet.tables:
        for at, text in zip(table.header_refs, table.header):
            _write_cell(ws[at], Cell(at, text, formats.HEADER_LEFT))
        xl = XlTable(displayName=table.name, ref=table.ref)
        xl.tableStyleInfo = TableStyleInfo(name=table.style, showRowStripes=True,
                                           showColumnStripes=False, showFirstColumn=False,
                                           showLastColumn=False)
        ws.add_table(xl)
    for letter, width in sheet.column_widths:
        ws.column_dimensions[letter].width = width
    for row, height in sheet.row_heights:
        ws.row_dimensions[row].height = height
    if sheet.freeze:
        ws.freeze_panes = sheet.freeze
    for chart in sheet.charts:
        ws.add_chart(_chart(ws, chart), chart.anchor)
    if sheet.landscape:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _write_cell(target, cell: Cell) -> None:
    value = cell.value
    number_format = cell.style.number_format
    if isinstance(value, Formula):
        target.value = value.text
    elif isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        target.value = text
        target.data_type = "s"  # openpyxl would read "=..." as a formula and "#N/A" as an error
        if text.startswith(FORMULA_TRIGGERS):
            target.quotePrefix = True
    elif isinstance(value, bool) or value is None:
        target.value = value
    elif isinstance(value, Decimal):
        target.value = value
        number_format = number_format or formats.ACCOUNTING
    elif isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        target.value = value
        number_format = number_format or formats.DATETIME
    elif isinstance(value, dt.date):
        target.value = value
        number_format = number_format or formats.DATE
    else:
        target.value = value
    _apply_style(target, cell.style, number_format)


def _apply_style(target, style: Style, number_format: str | None) -> None:
    if number_format:
        target.number_format = number_format
    if style.bold or style.italic or style.size or style.color:
        target.font = Font(name=_FONT, size=style.size or 11, bold=style.bold, italic=style.italic,
                           color=style.color and f"FF{style.color.upper()}")
    if style.fill:
        target.fill = PatternFill(fill_type="solid", fgColor=f"FF{style.fill.upper()}")
    if style.wrap or style.align:
        target.alignment = Alignment(horizontal=style.align, wrap_text=style.wrap or None,
                                     vertical="top" if style.wrap else None)


# ---- charts ---------------------------------------------------------------------------------


def _chart(ws, spec: Chart):
    if spec.kind == "bar":
        chart = BarChart()
        chart.type = "col"
        if spec.stacked:
            chart.grouping = "stacked"
            chart.overlap = 100
    else:
        chart = LineChart()
    chart.title = spec.title
    min_col, min_row, max_col, max_row = range_boundaries(spec.data_ref)
    chart.add_data(Reference(ws, min_col=min_col, min_row=min_row, max_col=max_col,
                             max_row=max_row), titles_from_data=True)
    min_col, min_row, max_col, max_row = range_boundaries(spec.categories_ref)
    chart.set_categories(Reference(ws, min_col=min_col, min_row=min_row, max_col=max_col,
                                   max_row=max_row))
    chart.y_axis.title = spec.y_title
    chart.x_axis.title = spec.x_title
    if spec.y_number_format:
        chart.y_axis.number_format = spec.y_number_format
    # openpyxl 3.1 marks axes as deleted unless told otherwise: show both
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.width, chart.height = spec.width_cm, spec.height_cm
    return chart


class _FixedTimeZip(zipfile.ZipFile):
    """A zip archive whose members all carry the same timestamp, for reproducible files."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_TIME)
            zinfo.compress_type = self.compression
            zinfo.external_attr = 0o644 << 16
            zinfo_or_arcname = zinfo
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl streams worksheets through temporary files: store them with the fixed time too
        with open(filename, "rb") as fh:
            self.writestr(arcname or os.path.basename(filename), fh.read(), compress_type, compresslevel)
