"""The Cost overview template: layout, data pulled from the store, formulas, CLI, live writer.

The Data table is checked twice: against the store's query API, and against the generated
Parquet files read with pyarrow (independent of finops_xl). Formula values are checked by the
recalculation tests.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from finops_udfs import registry
from finops_workbooks import formats
from finops_workbooks.live import write_live
from finops_workbooks.model import Formula
from finops_workbooks.overview import build_overview
from openpyxl import load_workbook

from finops_xl.cli import main
from finops_xl.query.costs import QueryError, queries_for
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from tests.fake_xlwings import FakeBook

LAST = dt.date(2025, 4, 1)
MONTHS = (dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1), dt.date(2025, 4, 1))
#: The functions a template may use: Excel 2010 level, all in LibreOffice 7.4.
EXCEL_2010 = {"SUMIFS", "SUM", "IF", "INDEX", "MATCH", "EOMONTH", "EDATE"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("overview")
    files = generate(SampleSpec(rows=20_000, months=4, seed=5), root / "exports")
    ingest(files, root / "finops-store")
    return root / "finops-store", files


@pytest.fixture(scope="module")
def queries(store):
    return queries_for(store[0])


@pytest.fixture(scope="module")
def spec(store, queries):
    return build_overview(queries, store_path=str(store[0]), last_month=LAST, months=4, top=5)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def data_rows(spec):
    """The Data table as dicts (header → cell value)."""
    sheet = spec.sheet("Data")
    table = sheet.tables[0]
    by_row = defaultdict(dict)
    for cell in sheet.cells:
        by_row[cell.row][table.header[cell.column - 1]] = cell.value
    return [by_row[r] for r in sorted(by_row)]


def test_sheets_names_and_settings(spec, store):
    assert [s.name for s in spec.sheets] == ["Settings", "Overview", "Data", "Live"]
    assert spec.active_sheet == "Overview"
    settings = spec.sheet("Settings")
    names = {n.name: n for n in spec.names}
    assert set(names) >= {"StorePath", "PeriodStart", "PeriodEnd", "ExportsFolder", "RefreshStatus"}
    value = {name: settings.cell(n.ref).value for name, n in names.items()}
    assert value["StorePath"] == str(store[0])
    assert (value["PeriodStart"], value["PeriodEnd"]) == (MONTHS[0], MONTHS[-1])
    assert settings.cell(names["PeriodStart"].ref).style.number_format == formats.MONTH
    assert value["ExportsFolder"] is None and value["RowsBy"] == "sub_account"
    assert value["Runtime"] == "server" and value["Currency"] == "USD"
    texts = [c.value for c in settings.cells if isinstance(c.value, str)]
    assert any("values pulled from the store at build time; source: finops-xl cost store" in t.lower()
               for t in texts)


def test_data_table_holds_the_store_numbers(spec, queries):
    rows = data_rows(spec)
    assert spec.sheet("Data").tables[0].name == "CostData"
    assert {r["Month"] for r in rows} == set(MONTHS)
    for r in rows:
        filters = {"provider": r["Provider"], "sub_account": r["sub_account"]}
        end = next_month(r["Month"])
        assert r["EffectiveCost"] == queries.cost(r["Month"], end, filters), r
        assert r["BilledCost"] == queries.cost(r["Month"], end, filters, "BilledCost"), r
        assert isinstance(r["EffectiveCost"], Decimal)
    # every (month, provider, sub account) with charges is there once
    keys = [(r["Month"], r["Provider"], r["sub_account"]) for r in rows]
    assert len(keys) == len(set(keys))
    for month in MONTHS:
        table = queries.cost_table(month, next_month(month), rows="sub_account", columns="provider")
        expected = {(month, p, row[0]) for row in table.rows
                    for p, amount in zip(table.header[1:], row[1:]) if amount is not None}
        assert {k for k in keys if k[0] == month} == expected


def test_data_table_ties_out_to_the_exported_files(spec, store):
    """Σ EffectiveCost per (month of ChargePeriodStart, provider), read from the Parquet files."""
    expected: dict = defaultdict(Decimal)
    for path in store[1]:
        t = pq.read_table(path, columns=["ProviderName", "ChargePeriodStart", "EffectiveCost"]).to_pydict()
        for provider, start, cost in zip(t["ProviderName"], t["ChargePeriodStart"], t["EffectiveCost"]):
            expected[(start.date().replace(day=1), provider)] += cost or 0
    got: dict = defaultdict(Decimal)
    for r in data_rows(spec):
        got[(r["Month"], r["Provider"])] += r["EffectiveCost"] or 0
    assert got == {k: v for k, v in expected.items() if k[0] in MONTHS}


def test_overview_grid_layout(spec, queries):
    sheet = spec.sheet("Overview")
    header = [c for c in sheet.cells if c.row == 5]
    labels = [c.value for c in header]
    totals = queries.cost_table(MONTHS[0], next_month(LAST), rows="sub_account")
    ranked = [r[0] for r in sorted(totals.rows, key=lambda r: -r[1])]
    assert labels == ["Month", *ranked[:5], "Other", "Total", "Change vs prior month"]
    months = [sheet.cell(f"A{r}") for r in range(6, 10)]
    assert [c.value for c in months] == list(MONTHS)
    assert all(c.style.number_format == formats.MONTH for c in months)
    assert sheet.cell("A10").value == "Total"
    assert sheet.cell("B6").value == Formula("=SUMIFS(CostData[EffectiveCost],CostData[Month],$A6,"
                                             "CostData[Column key],B4)")
    assert sheet.cell("H7").value == Formula("=SUM(B7:G7)")
    assert sheet.cell("I7").value == Formula('=IF(H6=0,"",H7/H6-1)')
    assert sheet.cell("I7").style.number_format == formats.PERCENT
    assert sheet.cell("B10").value == Formula("=SUM(B6:B9)")
    money = [c for c in sheet.cells if isinstance(c.value, Formula) and c.column < 9 and c.row >= 6]
    assert money and all(c.style.number_format == formats.ACCOUNTING for c in money)
    assert [c.kind for c in sheet.charts] == ["bar"] and sheet.charts[0].stacked


def test_formulas_use_excel_2010_functions_and_never_the_live_sheet(spec):
    overview = [c.value.text for c in spec.sheet("Overview").cells if isinstance(c.value, Formula)]
    used = {name for text in overview for name in re.findall(r"([A-Z][A-Z0-9.]*)\(", text)}
    assert used <= EXCEL_2010, used - EXCEL_2010
    assert not any("Live" in text or "FINOPS" in text for text in overview)
    # billing text never appears inside a formula: SUMIFS match on dates and numeric keys
    values = {r["sub_account"] for r in data_rows(spec)} | {r["Provider"] for r in data_rows(spec)}
    assert not any(v in text for text in overview for v in values)


@pytest.mark.parametrize("runtime", registry.RUNTIMES)
def test_live_sheet_uses_the_registry_for_the_runtime(queries, store, runtime):
    spec = build_overview(queries, store_path=str(store[0]), last_month=LAST, months=2, runtime=runtime)
    live = [c.value.text for c in spec.sheet("Live").cells if isinstance(c.value, Formula)]
    cost = registry.function("COST")
    if runtime in cost.runtimes:
        name = cost.excel_name(runtime)
        assert f"={name}(A5,EDATE(A5,1))" in live
        assert f'={name}(PeriodStart,EDATE(PeriodEnd,1),"provider",A9)' in live
        assert cost.formula(runtime, "A5", "EDATE(A5,1)") in live
    else:
        assert not any("FINOPS" in text for text in live)
        notes = [c.value for c in spec.sheet("Live").cells if isinstance(c.value, str)]
        assert any("cannot open" in n for n in notes)


def test_bad_arguments_are_refused(queries, store):
    kwargs = {"store_path": str(store[0]), "last_month": LAST}
    with pytest.raises(ValueError, match="runtime"):
        build_overview(queries, runtime="excel", **kwargs)
    with pytest.raises(ValueError, match="first day"):
        build_overview(queries, store_path=str(store[0]), last_month=dt.date(2025, 4, 15))
    with pytest.raises(QueryError, match="unknown dimension"):
        build_overview(queries, by="nope", **kwargs)
    with pytest.raises(QueryError, match="another"):
        build_overview(queries, by="month", **kwargs)
    with pytest.raises(QueryError, match="no charges"):
        build_overview(queries, store_path=str(store[0]), last_month=dt.date(2020, 1, 1))


def test_small_breakdowns_have_no_other_column(queries, store):
    spec = build_overview(queries, store_path=str(store[0]), last_month=LAST, months=2, by="provider")
    labels = [c.value for c in spec.sheet("Overview").cells if c.row == 5]
    assert labels[0] == "Month" and labels[4:] == ["Total", "Change vs prior month"]
    assert sorted(labels[1:4]) == ["AWS", "Google Cloud", "Microsoft"]
    assert spec.sheet("Data").tables[0].header[2] == "provider (breakdown)"


# ---- the command line -----------------------------------------------------------------------


def test_cli_workbook_overview_writes_the_file(store, tmp_path, capsys):
    out = tmp_path / "ov.xlsx"
    assert main(["workbook", "overview", "--store", str(store[0]), "--month", "2025-04",
                 "--months", "3", "--by", "service_category", "--runtime", "classic",
                 "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    wb = load_workbook(out)
    assert wb.sheetnames == ["Overview", "Data", "Live", "Settings"]  # Settings is not the first tab
    assert wb["Settings"]["B7"].value == "service_category"
    assert wb["Overview"]["A6"].value == dt.datetime(2025, 2, 1)
    assert any(str(c.value).startswith("=FINOPS_COST(") for row in wb["Live"].iter_rows() for c in row)


def test_cli_workbook_overview_reports_bad_input(store, tmp_path, capsys):
    out = tmp_path / "ov.xlsx"
    assert main(["workbook", "overview", "--store", str(store[0]), "--month", "2025-04",
                 "--by", "nope", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "unknown dimension 'nope'" in err and "Traceback" not in err
    assert not out.exists()


def test_demo_writes_the_overview_workbook(demo_run):
    out, printed = demo_run
    workbook = out / "cost-overview.xlsx"
    assert workbook.is_file() and str(workbook) in printed
    wb = load_workbook(workbook)
    settings = wb["Settings"]
    assert (settings["B5"].value, settings["B6"].value) == (dt.datetime(2025, 1, 1), dt.datetime(2025, 3, 1))


# ---- the live writer ------------------------------------------------------------------------


def test_build_overview_into_a_live_book(spec):
    book = FakeBook(("Sheet1",), engine="remote")
    report = write_live(book, spec)
    assert [s.name for s in book.sheets] == ["Sheet1", "Settings", "Overview", "Data", "Live"]
    assert report.chart_notes == ()
    for sheet_spec in spec.sheets:
        sheet = book.sheets[sheet_spec.name]
        for cell in sheet_spec.cells:
            got = sheet.cell(cell.ref)
            if isinstance(cell.value, Formula):
                assert (got.kind, got.value) == ("formula", cell.value.text), cell
            elif isinstance(cell.value, str):
                assert (got.kind, got.value) == ("text", cell.value), cell
            elif isinstance(cell.value, Decimal):
                assert got.kind == "number" and got.value == float(cell.value)
            elif cell.value is not None:
                assert got.value == cell.value, cell
            if cell.style.number_format:
                assert got.number_format == cell.style.number_format, cell
    assert {n.name for n in book.names} >= {"StorePath", "PeriodStart", "ExportsFolder"}
    assert [t.name for t in book.sheets["Data"].tables] == ["CostData"]
    chart = book.sheets["Overview"].charts[0]
    assert chart.chart_type == "column_stacked" and chart.title == spec.sheet("Overview").charts[0].title


def test_settings_name_the_store_commit_and_finops_xl_version(store, spec, tmp_path):
    """The overview states the store version its values came from (the store's own head commit)."""
    from finops_workbooks.writer import write_xlsx

    from finops_xl import __version__
    from finops_xl.store.store import CostStore

    head = CostStore(store[0]).head()
    assert head is not None
    ws = load_workbook(write_xlsx(spec, tmp_path / "overview.xlsx"))["Settings"]
    values = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row and row[0]}
    assert f"store commit {head.commit}" in values["Store version"]
    assert __version__ in values["Built by"]
