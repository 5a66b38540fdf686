"""The layout model and its writers: openpyxl file (read back with openpyxl) and live book (a fake
xlwings Book that interprets writes the way Excel interprets typed input)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from finops_workbooks import formats
from finops_workbooks.live import chart_note, write_live
from finops_workbooks.model import (
    Cell,
    Chart,
    DefinedName,
    Formula,
    Sheet,
    Style,
    Table,
    WorkbookSpec,
)
from finops_workbooks.writer import write_xlsx, xlsx_bytes
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart

from tests.fake_xlwings import FakeBook

#: Texts that spreadsheet programs turn into formulas, numbers, errors or dates when typed.
HOSTILE = ('=HYPERLINK("http://evil","x")', "@SUM(1)", "+1", "-2", "-2+3", "=1+1", "#N/A",
           "0012", "2025-01", "\tTAB", "TRUE")


def sample_spec() -> WorkbookSpec:
    data = Sheet(
        name="Data",
        cells=(
            *(Cell(f"A{i}", text) for i, text in enumerate(HOSTILE, start=2)),
            *(Cell(f"B{i}", Decimal("1234.567891234567") * i) for i in range(2, 2 + len(HOSTILE))),
            *(Cell(f"C{i}", dt.date(2025, 1 + i % 12, 1), Style(number_format=formats.MONTH))
              for i in range(2, 2 + len(HOSTILE))),
        ),
        tables=(Table("Things", f"A1:C{1 + len(HOSTILE)}", ("Name", "Amount", "Month")),),
        column_widths=(("A", 30.0), ("B", 16.0)),
        freeze="A2",
    )
    report = Sheet(
        name="Report sheet",
        cells=(
            Cell("A1", "Total", Style(bold=True)),
            Cell("B1", Formula("=SUM(Things[Amount])"), Style(number_format=formats.ACCOUNTING, bold=True)),
            Cell("A2", dt.date(2025, 3, 1)),
            Cell("A3", dt.datetime(2025, 3, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))),
            Cell("A4", 42), Cell("B4", 0.25, Style(number_format=formats.PERCENT)),
            Cell("A5", True), Cell("A6", None, Style(fill="FFF2CC")),
            Cell("A8", "Month", Style(bold=True)), Cell("B8", "Cost"),
            Cell("A9", "Jan"), Cell("B9", 3), Cell("A10", "Feb"), Cell("B10", 5),
        ),
        charts=(Chart("Trend", "line", "Cost by month", data_ref="B8:B10", categories_ref="A9:A10",
                      anchor="D2"),
                Chart("Bars", "bar", "Stacked", data_ref="B8:B10", categories_ref="A9:A10",
                      anchor="D20", stacked=True)),
        row_heights=((8, 30.0),),
        landscape=True,
    )
    return WorkbookSpec(sheets=(report, data), names=(DefinedName("TotalCost", "Report sheet", "B1"),),
                        title="Writer test", active_sheet="Data")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    path = write_xlsx(sample_spec(), tmp_path_factory.mktemp("writer") / "spec.xlsx")
    return path, load_workbook(path)


# ---- the file writer ------------------------------------------------------------------------


def test_text_stays_text_even_when_it_reads_like_a_formula(written):
    path, wb = written
    ws = wb["Data"]
    for i, text in enumerate(HOSTILE, start=2):
        cell = ws[f"A{i}"]
        assert cell.value == text and cell.data_type == "s", (cell.coordinate, cell.value)
        assert cell.quotePrefix == text.startswith(("=", "+", "-", "@", "\t")), text
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet2.xml").decode()
    assert "HYPERLINK" in sheet_xml and "<f>" not in sheet_xml  # stored as an inline string


def test_formula_marker_writes_a_native_formula(written):
    _, wb = written
    cell = wb["Report sheet"]["B1"]
    assert cell.data_type == "f" and cell.value == "=SUM(Things[Amount])"
    assert cell.number_format == formats.ACCOUNTING and cell.font.b


def test_dates_are_dates(written):
    _, wb = written
    ws = wb["Report sheet"]
    assert ws["A2"].is_date and ws["A2"].value == dt.datetime(2025, 3, 1)
    assert ws["A2"].number_format == formats.DATE
    assert ws["A3"].value == dt.datetime(2025, 3, 1, 10, 30)  # written in UTC
    assert wb["Data"]["C2"].is_date and wb["Data"]["C2"].number_format == formats.MONTH


def test_decimal_money_is_a_number_in_the_accounting_format(written):
    _, wb = written
    cell = wb["Data"]["B3"]
    assert cell.data_type == "n" and isinstance(cell.value, float)
    assert abs(Decimal(repr(cell.value)) - Decimal("1234.567891234567") * 3) < Decimal("1e-9")
    assert cell.number_format == formats.ACCOUNTING
    assert "#,##0.00" in formats.ACCOUNTING and formats.ACCOUNTING.startswith("_(")


def test_other_values_and_styles(written):
    _, wb = written
    ws = wb["Report sheet"]
    assert ws["A4"].value == 42 and ws["B4"].number_format == "0.0%"
    assert ws["A5"].value is True and ws["A6"].value is None
    assert ws["A6"].fill.fgColor.rgb == "FFFFF2CC"
    assert ws.row_dimensions[8].height == 30
    assert ws.page_setup.orientation == "landscape"
    assert wb["Data"].column_dimensions["A"].width == 30
    assert wb["Data"].freeze_panes == "A2"


def test_tables_charts_and_names_are_in_the_file(written):
    _, wb = written
    table = wb["Data"].tables["Things"]
    assert table.ref == f"A1:C{1 + len(HOSTILE)}"
    assert [c.name for c in table.tableColumns] == ["Name", "Amount", "Month"]
    assert [wb["Data"][f"{c}1"].value for c in "ABC"] == ["Name", "Amount", "Month"]
    charts = wb["Report sheet"]._charts
    assert [type(c) for c in charts] == [LineChart, BarChart]
    assert charts[1].grouping == "stacked"
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in p.r) for c in charts]
    assert titles == ["Cost by month", "Stacked"]
    assert charts[0].series[0].val.numRef.f == "'Report sheet'!$B$9:$B$10"
    assert wb.defined_names["TotalCost"].attr_text == "'Report sheet'!$B$1"
    assert wb.active.title == "Data"


def test_same_spec_gives_the_same_bytes():
    first, second = xlsx_bytes(sample_spec()), xlsx_bytes(sample_spec())
    assert first == second
    archive = zipfile.ZipFile(io.BytesIO(first))
    # no clock in the file: every member carries the same fixed time
    assert {m.date_time for m in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert "xl/worksheets/sheet1.xml" in archive.namelist()
    core = archive.read("docProps/core.xml").decode()
    assert "<dc:creator>finops-xl</dc:creator>" in core and "2025-01-01T00:00:00Z" in core


def test_model_refuses_what_excel_cannot_hold():
    with pytest.raises(ValueError):
        Formula("SUM(A1)")
    with pytest.raises(TypeError):
        Cell("A1", ["a list"])
    with pytest.raises(ValueError):
        Cell("A1", float("nan"))
    with pytest.raises(ValueError):
        Sheet("Bad", cells=(Cell("A1", 1), Cell("A1", 2)))
    with pytest.raises(ValueError):
        Sheet("a/b")
    with pytest.raises(ValueError):
        Table("T", "A1:B3", ("only one",))
    with pytest.raises(ValueError):
        Table("T", "A1:B3", ("Same", "same"))
    with pytest.raises(ValueError):
        Sheet("S", cells=(Cell("A1", "x"),), tables=(Table("T", "A1:B3", ("a", "b")),))
    with pytest.raises(ValueError):
        Chart("C", "pie", "t", "B1:B3", "A2:A3", "D1")
    with pytest.raises(ValueError):
        WorkbookSpec(sheets=(Sheet("S"),), names=(DefinedName("N", "Missing", "A1"),))


# ---- the live writer ------------------------------------------------------------------------


def test_live_writer_writes_what_the_file_writer_writes():
    spec = sample_spec()
    book = FakeBook(engine="desktop")
    report = write_live(book, spec)
    assert [s.name for s in book.sheets] == ["Sheet1", "Report sheet", "Data"]
    assert report.created == ("Report sheet", "Data") and not report.chart_notes
    data, rep = book.sheets["Data"], book.sheets["Report sheet"]
    for i, text in enumerate(HOSTILE, start=2):
        cell = data.cell(f"A{i}")
        assert (cell.kind, cell.value) == ("text", text)  # not a formula, number or date
    assert data.cell("B2").kind == "number" and data.cell("B2").number_format == formats.ACCOUNTING
    assert data.cell("C2").kind == "date" and data.cell("C2").number_format == formats.MONTH
    assert [(data.cell(f"{c}1").value, data.cell(f"{c}1").bold) for c in "AB"] == [("Name", True), ("Amount", True)]
    assert (rep.cell("B1").kind, rep.cell("B1").value) == ("formula", "=SUM(Things[Amount])")
    assert rep.cell("A3").value == dt.datetime(2025, 3, 1, 10, 30)
    assert rep.cell("A6").fill == "#FFF2CC" and rep.row_heights[8] == 30
    assert data.column_widths[1] == 30  # characters on the desktop engine
    assert data.frozen == "1:1"
    assert [(t.name, t.address) for t in data.tables] == [("Things", f"A1:C{1 + len(HOSTILE)}")]
    assert [(c.name, c.chart_type, c.source, c.x_values, c.title) for c in rep.charts] == [
        ("Trend", "line", "B8:B10", "A9:A10", "Cost by month"),
        ("Bars", "column_stacked", "B8:B10", "A9:A10", "Stacked")]
    assert book.names["TotalCost"].refers_to == "='Report sheet'!$B$1"


def test_live_writer_rebuilds_in_place():
    spec = sample_spec()
    book = FakeBook(engine="remote")
    write_live(book, spec)
    book.sheets["Data"].range("Z1").value = "stale"
    report = write_live(book, spec)
    assert report.created == ()
    data = book.sheets["Data"]
    assert data.clears == 1 and data.cell("Z1").kind == "empty"
    assert len(data.tables) == 1 and len(book.sheets["Report sheet"].charts) == 2
    assert data.column_widths[1] == pytest.approx((30 * 7 + 5) * 0.75)  # points on Server/Lite


def test_live_writer_leaves_a_note_where_it_cannot_draw_a_chart():
    spec = sample_spec()
    book = FakeBook(charts=False, freeze=False)
    report = write_live(book, spec)
    assert report.chart_notes == ("Report sheet!D2", "Report sheet!D20")
    assert report.skipped == ("frozen panes on Data",)
    note = book.sheets["Report sheet"].cell("D2")
    assert note.kind == "text" and note.value == chart_note(spec.sheet("Report sheet").charts[0])
    assert "file version" in note.value
