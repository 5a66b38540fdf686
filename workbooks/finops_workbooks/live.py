"""Write a :class:`~finops_workbooks.model.WorkbookSpec` into a workbook open in Excel, through
xlwings (classic add-in, xlwings Server or xlwings Lite): what the "Build overview" macro does.

A thin adapter over the xlwings API, giving the same workbook as the file writer:

1. create each sheet of the spec (after the previous one), or clear it if it exists;
2. write values, number formats, fonts, fills, alignment, column widths and row heights (runs of
   neighbouring cells in one call each);
3. create the Excel Tables (or resize a table of the same name that survived the clearing);
4. define the workbook names;
5. write the formulas, now that the tables and names they use exist;
6. add the charts and freeze panes.

Text is written with a leading apostrophe, Excel's mark for "this is text": typed input would
otherwise turn ``=HYPERLINK(...)`` into a formula, ``+1`` or ``112233445566`` into a number and
``2025-01`` into a date. The apostrophe is not part of the value.

Where the runtime lacks an API (a chart, frozen panes) the result says so: a chart that cannot be
created leaves a note at its place pointing to the file version, never a silent gap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter

from finops_workbooks import formats
from finops_workbooks.model import Cell, Chart, Formula, Sheet, Style, WorkbookSpec, ref

_CM_TO_POINTS = 72 / 2.54
_CHART_TYPES = {("bar", False): "column_clustered", ("bar", True): "column_stacked",
                ("line", False): "line", ("line", True): "line_stacked"}


@dataclasses.dataclass(frozen=True)
class LiveReport:
    """What ``write_live`` did.

    Attributes:
      sheets: the sheets written, in order.
      created: the ones that did not exist before (the others were cleared).
      chart_notes: ``Sheet!A1`` places where a chart could not be created and a note stands instead.
      skipped: other layout the runtime could not apply (e.g. frozen panes), described.
    """

    sheets: tuple[str, ...]
    created: tuple[str, ...]
    chart_notes: tuple[str, ...]
    skipped: tuple[str, ...]


def chart_note(chart: Chart) -> str:
    """The note written where a chart cannot be created in a live workbook."""
    return (f"Chart \"{chart.title}\": not available in this Excel runtime; it is in the file "
            "version of this workbook (finops-xl workbook overview --out FILE).")


def write_live(book, spec: WorkbookSpec) -> LiveReport:
    """Write ``spec`` into the open ``book`` (an ``xlwings.Book``); returns what was done."""
    in_points = engine_type(book) != "desktop"  # Server and Lite size columns in points
    sheets, created = _prepare_sheets(book, spec)
    for sheet_spec in spec.sheets:
        _write_cells(sheets[sheet_spec.name], sheet_spec, in_points)
    for sheet_spec in spec.sheets:
        _write_tables(sheets[sheet_spec.name], sheet_spec)
    _write_names(book, spec)
    for sheet_spec in spec.sheets:
        sheet = sheets[sheet_spec.name]
        for address, formulas in _runs(c for c in sheet_spec.cells if isinstance(c.value, Formula)):
            sheet.range(address).formula = [[c.value.text for c in formulas]]
    notes, skipped = [], []
    for sheet_spec in spec.sheets:
        sheet = sheets[sheet_spec.name]
        for chart in sheet_spec.charts:
            if not _add_chart(sheet, chart):
                sheet.range(chart.anchor).value = "'" + chart_note(chart)
                notes.append(f"{sheet_spec.name}!{chart.anchor}")
        if sheet_spec.freeze and not _freeze(sheet, sheet_spec.freeze):
            skipped.append(f"frozen panes on {sheet_spec.name}")
    return LiveReport(tuple(s.name for s in spec.sheets), tuple(created), tuple(notes), tuple(skipped))


# ---- steps ----------------------------------------------------------------------------------


def _prepare_sheets(book, spec: WorkbookSpec) -> tuple[dict, list[str]]:
    existing = {s.name.casefold(): s for s in book.sheets}
    sheets, created = {}, []
    previous = None
    for sheet_spec in spec.sheets:
        sheet = existing.get(sheet_spec.name.casefold())
        if sheet is None:
            after = previous if previous is not None else list(book.sheets)[-1]
            sheet = book.sheets.add(name=sheet_spec.name, after=after)
            created.append(sheet_spec.name)
        else:
            _unprotect(sheet)
            _delete_charts(sheet, {c.name for c in sheet_spec.charts})
            sheet.clear()
        sheets[sheet_spec.name] = previous = sheet
    return sheets, created


def _write_cells(sheet, spec: Sheet, in_points: bool) -> None:
    values = [c for c in spec.cells if not isinstance(c.value, Formula)]
    for table in spec.tables:
        values.extend(Cell(at, name, Style(bold=True)) for at, name in zip(table.header_refs, table.header))
    for address, run in _runs(values):
        sheet.range(address).value = [[_excel_value(c.value) for c in run]]
    for style, cells in _by_style(spec.cells, values):
        target = sheet.range(cells)
        if style.number_format:
            target.number_format = style.number_format
        if style.bold or style.italic or style.size or style.color:
            font = target.font
            font.bold, font.italic = style.bold, style.italic
            if style.size:
                font.size = style.size
            if style.color:
                font.color = f"#{style.color}"
        if style.fill:
            target.color = f"#{style.fill}"
        if style.wrap:
            target.wrap_text = True
        if style.align:
            target.horizontal_alignment = style.align
    for letter, width in spec.column_widths:
        sheet.range(f"{letter}:{letter}").column_width = _points(width) if in_points else width
    for row, height in spec.row_heights:
        sheet.range(f"{row}:{row}").row_height = height


def _write_tables(sheet, spec: Sheet) -> None:
    existing = {t.name: t for t in sheet.tables}
    for table in spec.tables:
        if table.name in existing:
            existing[table.name].resize(sheet.range(table.ref))
        else:
            sheet.tables.add(source=sheet.range(table.ref), name=table.name,
                             table_style_name=table.style)


def _write_names(book, spec: WorkbookSpec) -> None:
    existing = {n.name.casefold(): n for n in book.names}
    for name in spec.names:
        refers_to = f"={name.refers_to}"
        if name.name.casefold() in existing:
            existing[name.name.casefold()].refers_to = refers_to
        else:
            book.names.add(name.name, refers_to)


def _add_chart(sheet, chart: Chart) -> bool:
    """Add ``chart`` with the xlwings API; False when the runtime cannot."""
    try:
        added = sheet.charts.add(
            source=sheet.range(chart.data_ref), plot_by="columns",
            chart_type=_CHART_TYPES[(chart.kind, chart.stacked)], name=chart.name,
            anchor=sheet.range(chart.anchor), width=chart.width_cm * _CM_TO_POINTS,
            height=chart.height_cm * _CM_TO_POINTS,
        )
        added.set_x_axis_values(sheet.range(chart.categories_ref))
        added.title = chart.title
    except (NotImplementedError, AttributeError):
        return False
    return True


def _unprotect(sheet) -> None:
    """Lift the password-less protection the file writer puts on formula sheets (``finish.py``),
    where the runtime can (desktop Excel); elsewhere the user unprotects the sheet first."""
    try:
        sheet.api.Unprotect()
    except Exception:  # noqa: BLE001 - xlwings Server and Lite have no such call
        pass


def _delete_charts(sheet, names: set[str]) -> None:
    try:
        for chart in list(sheet.charts):
            if chart.name in names:
                chart.delete()
    except (NotImplementedError, AttributeError):
        pass  # a runtime without charts has none of ours to delete either


def _freeze(sheet, top_left: str) -> bool:
    """Freeze the rows above and the columns left of ``top_left`` (openpyxl's convention)."""
    row, column = coordinate_to_tuple(top_left)
    if row == 1 and column == 1:
        return True
    if column == 1:
        frozen = f"1:{row - 1}"
    elif row == 1:
        frozen = f"A:{get_column_letter(column - 1)}"
    else:
        frozen = f"A1:{ref(row - 1, column - 1)}"
    try:
        sheet.freeze_panes.freeze_at(frozen)
    except (NotImplementedError, AttributeError):
        return False
    return True


# ---- helpers --------------------------------------------------------------------------------


def _excel_value(value):
    if isinstance(value, str):
        return "'" + value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _runs(cells: Iterable[Cell]) -> Iterator[tuple[str, list[Cell]]]:
    """Runs of horizontally adjacent cells, as (their range, e.g. ``"B6:K6"``, cells)."""
    run: list[Cell] = []
    for cell in sorted(cells, key=lambda c: (c.row, c.column)):
        if run and (cell.row != run[-1].row or cell.column != run[-1].column + 1):
            yield _span(run), run
            run = []
        run.append(cell)
    if run:
        yield _span(run), run


def _span(run: list[Cell]) -> str:
    return run[0].ref if len(run) == 1 else f"{run[0].ref}:{run[-1].ref}"


def _by_style(*groups: Iterable[Cell]) -> Iterator[tuple[Style, str]]:
    """(style, range) for every run of adjacent cells sharing a non-plain style (the default
    number format of a Decimal or date made explicit)."""
    styled: dict[str, Cell] = {}
    for group in groups:
        for cell in group:
            style = cell.style
            if style.number_format is None and isinstance(cell.value, (Decimal, dt.date)):
                style = style.but(number_format=_default_format(cell.value))
            styled[cell.ref] = Cell(cell.ref, None, style)
    by_style: dict[Style, list[Cell]] = {}
    for cell in styled.values():
        if cell.style != Style():
            by_style.setdefault(cell.style, []).append(cell)
    for style, cells in by_style.items():
        for address, _ in _runs(cells):
            yield style, address


def _default_format(value) -> str:
    if isinstance(value, Decimal):
        return formats.ACCOUNTING
    return formats.DATETIME if isinstance(value, dt.datetime) else formats.DATE


def _points(characters: float) -> float:
    """A column width in characters of the default font, in points (7 px a character + 5 px)."""
    return round((characters * 7 + 5) * 0.75, 2)


def engine_type(book) -> str:
    """"desktop" (the classic add-in over COM), or what the runtime reports ("remote" if nothing)."""
    try:
        return book.app.engine.type
    except (NotImplementedError, AttributeError):
        return "remote"
