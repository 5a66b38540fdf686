"""The finish every template workbook gets, in one place (``writer.to_openpyxl`` applies it to every
sheet of every workbook, so no builder can forget it):

- **print setup**: print titles (the rows above the first header row, and it), fitted to one page
  wide, landscape when the columns are wide, the sheet name and "Page n of N" in the footer;
- **a sensible first tab**: Settings moves to the end (formulas name sheets, not positions) and
  the workbook opens on the builder's chosen sheet, else the new first one;
- **helper keys hidden**: columns (and rows) of ``KEY`` cells, which formulas look up but a reader
  does not need, are hidden (still calculated);
- **drop-downs** on every switch (``formats.SWITCHES``, by defined name) that refuse other values
  (error style "stop"), and a date check on the month switches;
- **conditional formats** on change and variance percentages beyond ±``VARIANCE_THRESHOLD``;
- **protection**: each sheet with formulas is protected without a password; only formula cells are
  locked, so inputs (and values a macro refreshes) stay editable; sorting, filtering and resizing
  stay allowed.
"""

from __future__ import annotations

import re
from collections import defaultdict

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill, Protection
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties

from finops_workbooks import formats
from finops_workbooks.model import Formula, WorkbookSpec

_UNLOCKED = Protection(locked=False)
_LOCKED = Protection(locked=True)
_CHANGE_HEADERS = re.compile(r"change|variance|growth|\bvs\b|δ", re.I)


def finish(wb, spec: WorkbookSpec) -> WorkbookSpec:
    """Apply the finish to ``wb`` (built from ``spec``); returns ``spec`` as written."""
    by_name = {s.name: s for s in spec.sheets}
    for ws in wb.worksheets:
        _sheet(ws, by_name[ws.title])
    for name in spec.names:
        ws = wb[name.sheet]
        if name.name in formats.SWITCHES:
            _drop_down(ws, name.ref, formats.SWITCHES[name.name], name.name)
        elif name.name in formats.MONTH_SWITCHES:
            _date_check(ws, name.ref, name.name)
    _order(wb, spec)
    return spec


def _order(wb, spec: WorkbookSpec) -> None:
    if len(wb.worksheets) > 1 and wb.worksheets[0].title in formats.BACK_SHEETS:
        wb.move_sheet(wb.worksheets[0], offset=len(wb.worksheets) - 1)
    titles = [ws.title for ws in wb.worksheets]
    active = titles.index(spec.active_sheet) if spec.active_sheet else 0
    if not spec.active_sheet and titles[0] in formats.BACK_SHEETS:
        active = 0
    wb.active = active
    for i, ws in enumerate(wb.worksheets):
        ws.sheet_view.tabSelected = i == active


def _header_row(sheet) -> int | None:
    rows = [int(coordinate_from_string(ref)[1]) for t in sheet.tables for ref in t.header_refs[:1]]
    rows += [int(coordinate_from_string(c.ref)[1]) for c in sheet.cells
             if c.style.fill == formats.HEADER.fill and c.style.bold]
    return min(rows) if rows else None


def _sheet(ws, sheet) -> None:
    header = _header_row(sheet)
    freeze_row = int(coordinate_from_string(sheet.freeze)[1]) - 1 if sheet.freeze else 0
    title_rows = max(freeze_row, header or 0)
    if 0 < title_rows <= 12:
        ws.print_title_rows = f"1:{title_rows}"
    width = sum(w for _, w in sheet.column_widths) or 0
    wide = sheet.landscape or width > formats.LANDSCAPE_WIDTH
    ws.page_setup.orientation = "landscape" if wide else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = False
    ws.oddFooter.center.text = formats.FOOTER_CENTER
    ws.oddFooter.left.text = formats.FOOTER_LEFT
    _hide_keys(ws, sheet)
    _variance_formats(ws, sheet, header)
    _protect(ws, sheet)


def _hide_keys(ws, sheet) -> None:
    by_col, by_row = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for c in sheet.cells:
        if c.value is None:
            continue
        col, row = coordinate_from_string(c.ref)
        key = formats.is_key(c.style)
        for acc, k in ((by_col, col), (by_row, row)):
            acc[k][0] += 1
            acc[k][1] += key
    for col, (n, keys) in by_col.items():
        if keys and keys * 2 >= n and keys >= 2:
            ws.column_dimensions[col].hidden = True
    for row, (n, keys) in by_row.items():
        if keys >= 3 and keys * 2 >= n:
            ws.row_dimensions[row].hidden = True


def _variance_formats(ws, sheet, header: int | None) -> None:
    headers = {coordinate_from_string(c.ref)[0]: str(c.value) for c in sheet.cells
               if header and int(coordinate_from_string(c.ref)[1]) == header and isinstance(c.value, str)}
    for t in sheet.tables:
        for ref, text in zip(t.header_refs, t.header):
            headers[coordinate_from_string(ref)[0]] = text
    rows = defaultdict(list)
    for c in sheet.cells:
        col, row = coordinate_from_string(c.ref)
        if c.style.number_format == formats.PERCENT and (
                c.style == formats.CHANGE or _CHANGE_HEADERS.search(headers.get(col, ""))):
            if _CHANGE_HEADERS.search(headers.get(col, "")) or isinstance(c.value, Formula) \
                    and "-1)" in c.value.text:
                rows[col].append(row)
    t = str(formats.VARIANCE_THRESHOLD)
    for col, rs in rows.items():
        target = f"{col}{min(rs)}:{col}{max(rs)}"
        ws.conditional_formatting.add(target, CellIsRule(
            operator="greaterThan", formula=[t], fill=PatternFill("solid", bgColor=formats.OVER_FILL)))
        ws.conditional_formatting.add(target, CellIsRule(
            operator="lessThan", formula=[f"-{t}"], fill=PatternFill("solid", bgColor=formats.UNDER_FILL)))


def _protect(ws, sheet) -> None:
    formulas = [c.ref for c in sheet.cells if isinstance(c.value, Formula)]
    if not formulas:
        return
    # every used cell unlocked but formulas; cells outside the used range stay Excel's default
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column):
        for cell in row:
            cell.protection = _UNLOCKED
    for ref in formulas:
        ws[ref].protection = _LOCKED
    p = ws.protection
    p.sheet = True
    p.formatColumns = p.formatRows = p.formatCells = False  # False = allowed
    p.sort = p.autoFilter = False
    p.insertRows = p.deleteRows = True


def _drop_down(ws, ref: str, source: str, name: str) -> None:
    dv = DataValidation(type="list", formula1=source, allow_blank=False, showDropDown=False,
                        showErrorMessage=True, errorStyle="stop", showInputMessage=True)
    choices = source.strip('"').replace(",", ", ") if source.startswith('"') else "the list"
    dv.error = f"{name}: pick a value from {choices}."
    dv.errorTitle = f"{name} is a switch"
    dv.prompt = f"Pick the {name.lower()} from the drop-down."
    dv.promptTitle = name
    ws.add_data_validation(dv)
    dv.add(ref)
    ws[ref].protection = _UNLOCKED


def _date_check(ws, ref: str, name: str) -> None:
    dv = DataValidation(type="date", operator="greaterThan", formula1="32874",  # 1990-01-01
                        showErrorMessage=True, errorStyle="stop")
    dv.error = f"{name}: enter a date (the first day of a month)."
    dv.errorTitle = f"{name} is a month"
    ws.add_data_validation(dv)
    dv.add(ref)
