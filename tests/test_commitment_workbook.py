"""The Commitment purchase template: recalculated in LibreOffice, every native formula equals
``finops_xl.commitments.valuation``.

Options: Cloudability's m4.large quotes at $0.126/h on demand (valuation's doctests: 1y no upfront
$0.080/h; 1y partial $324 + $27.01/month; 1y all upfront $648.24 = $0.074/h effective) and three-year
options at the same effective $0.074/h ($1,944.72 all upfront; $972.36 + $0.037/h; $0.074/h). Two
workbooks: at 90 % utilization (everything pays back; no-upfront IRR has no sign change → "n/a") and
at 50 % (below break-even: "never" and "n/a").

Expected values are computed here with ``valuation`` (``value``, ``cash_flows``) for the option,
period, utilization and rate each formula cell's labels name; never read from the workbook's numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from finops_workbooks import commitments as cw
from finops_workbooks.commitments import build_commitment_workbook
from finops_workbooks.commitments_data import gather_commitments, typical_options
from finops_workbooks.model import Formula
from finops_workbooks.writer import write_xlsx
from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter

from finops_xl.cli import main
from finops_xl.commitments import valuation as v
from tests.libreoffice import convert

D = Decimal
START = dt.date(2025, 1, 1)
OD = D("0.126")
RATE = D("0.08")
OPTIONS = (
    v.PurchaseOption("1y no upfront", 1, v.NO_UPFRONT, 0, D("0.08")),
    v.PurchaseOption.from_monthly("1y partial", 1, v.PARTIAL_UPFRONT, 324, D("27.01")),
    v.PurchaseOption("1y all upfront", 1, v.ALL_UPFRONT, D("648.24"), 0),
    v.PurchaseOption("3y no upfront", 3, v.NO_UPFRONT, 0, D("0.074")),
    v.PurchaseOption("3y partial", 3, v.PARTIAL_UPFRONT, D("972.36"), D("0.037")),
    v.PurchaseOption("3y all upfront", 3, v.ALL_UPFRONT, D("1944.72"), 0),
)
UTILIZATIONS = (D("0.9"), D("0.5"))
FORMULA_SHEETS = (cw.OPTIONS, cw.FLOWS, cw.SENSITIVITY, cw.CHART)
CENT, MONEY_TOL, RATIO_TOL, IRR_TOL = D("0.005"), 1e-6, 1e-9, 1e-6


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    root = tmp_path_factory.mktemp("commitments")
    specs, files = {}, []
    for u in UTILIZATIONS:
        data = gather_commitments(OPTIONS, on_demand_hourly=OD, annual_rate=RATE, utilization=u, start=START)
        specs[u] = build_commitment_workbook(data)
        files.append(write_xlsx(specs[u], root / "in" / f"u{int(u * 100)}.xlsx"))
    out = convert(files, root / "out")
    return SimpleNamespace(specs=specs, values={u: load_workbook(p, data_only=True)
                                                for u, p in zip(UTILIZATIONS, out)})


# ---- the expected value of a formula cell, from its labels --------------------------------------


def _text(sheet, row, col):
    cell = sheet.cell(f"{get_column_letter(col)}{row}")
    return None if cell is None else cell.value


def _option(name):
    return next(o for o in OPTIONS if o.name == name)


def _expected_options(sheet, row, col, u):
    """(expected, kind) for an Options cell: its row label and the option named above it."""
    label, option = _text(sheet, row, 1), _option(_text(sheet, 3, col))
    val = v.value(option, OD, START, RATE, u)
    return {
        "Term hours": ((option.term_end(START) - START).days * 24, "exact"),
        "Effective rate ($/h)": (option.effective_hourly(START), "ratio"),
        "Discount off on-demand": (1 - v.breakeven_utilization(OD, option.effective_hourly(START)), "ratio"),
        "Break-even utilization": (v.breakeven_utilization(OD, option.effective_hourly(START)), "ratio"),
        "NPV (XNPV)": (val.npv, "cent"),
        "IRR (XIRR)": ("n/a" if val.irr is None else val.irr, "irr"),
        "Break-even month": ("never" if val.breakeven_month is None else val.breakeven_month, "exact"),
        "Break-even date": ("never" if val.breakeven_date is None else val.breakeven_date, "date"),
        "Commitment cost": (val.commitment_cost, "money"),
        "On-demand avoided": (val.on_demand_avoided, "money"),
        "Total savings": (val.total_savings, "money"),
    }[label]


def _expected_flows(sheet, row, col, u):
    """A Cash flows cell: the option titled above its table, the column's header, the row's period."""
    width = len(cw.FLOW_HEADER) + 1
    c0 = (col - 1) // width * width + 1
    option, column = _option(_text(sheet, 3, c0)), cw.FLOW_HEADER[col - c0]
    period = _text(sheet, row, c0)
    flows = v.cash_flows(option, OD, START, u)
    f = flows[period]
    full = v.cash_flows(option, OD, START, 1)[period].on_demand_avoided
    return {
        "Date": (f.date, "date"), "Hours": (f.hours, "exact"), "Upfront": (f.upfront, "money"),
        "Recurring": (f.recurring, "money"), "On-demand (full use)": (full, "money"),
        "On-demand avoided": (f.on_demand_avoided, "money"), "Net flow": (f.net, "money"),
        "Cumulative savings": (sum((x.net for x in flows[:period + 1]), D(0)), "money"),
    }[column]


def _expected_sensitivity(sheet, row, col, _u):
    """A Sensitivity cell: the option titled above its block, the row's utilization, the column's rate."""
    top = 4 + (row - 4) // cw.SENSITIVITY_BLOCK * cw.SENSITIVITY_BLOCK
    option = _option(_text(sheet, top, 1))
    u, rate = _text(sheet, row, 1), _text(sheet, top + 1, col)
    return v.value(option, OD, START, rate, u).npv, "cent"


def _expected_chart(sheet, row, col, u):
    option, month = _option(_text(sheet, 3, col)), _text(sheet, row, 1)
    return sum((x.net for x in v.cash_flows(option, OD, START, u)[:month + 1]), D(0)), "money"


EXPECTED = {cw.OPTIONS: _expected_options, cw.FLOWS: _expected_flows,
            cw.SENSITIVITY: _expected_sensitivity, cw.CHART: _expected_chart}


def _check(got, expected, kind, where):
    if isinstance(expected, str) or kind == "exact":
        assert got == expected, where
    elif kind == "date":
        assert isinstance(got, dt.datetime) and got.date() == expected, where
    elif kind == "irr":
        assert got == pytest.approx(expected, abs=IRR_TOL), where
    else:
        assert isinstance(got, (int, float)), f"{where}: got {got!r}"
        tol = {"cent": float(CENT), "money": MONEY_TOL, "ratio": RATIO_TOL}[kind]
        assert abs(D(repr(got)) - D(expected)) <= D(str(tol)), f"{where}: {got!r} vs {expected}"


@pytest.mark.parametrize("u", UTILIZATIONS, ids=lambda u: f"utilization-{u}")
def test_every_formula_equals_valuation(books, u):
    spec, wb = books.specs[u], books.values[u]
    checked, formulas = set(), set()
    for name in FORMULA_SHEETS:
        sheet = spec.sheet(name)
        for cell in sheet.cells:
            if not isinstance(cell.value, Formula):
                continue
            formulas.add((name, cell.ref))
            row, col = coordinate_to_tuple(cell.ref)
            expected, kind = EXPECTED[name](sheet, row, col, u)
            _check(wb[name][cell.ref].value, expected, kind, f"{name}!{cell.ref} {cell.value.text}")
            checked.add((name, cell.ref))
    assert checked == formulas
    assert len(formulas) > 1000


def test_native_xnpv_xirr_and_auditor_column(books):
    """The NPV/IRR cells are native XNPV/XIRR; the finops_xl column beside holds valuation's numbers."""
    sheet = books.specs[D("0.9")].sheet(cw.OPTIONS)
    npv_row = cw._FIRST_OPTION_ROW + cw.OPTION_ROWS.index("NPV (XNPV)")
    irr_row = npv_row + 1
    for i, option in enumerate(OPTIONS):
        c = 2 + 2 * i
        npv = sheet.cell(f"{get_column_letter(c)}{npv_row}").value
        irr = sheet.cell(f"{get_column_letter(c)}{irr_row}").value
        assert npv.text.startswith("=XNPV(DiscountRate,") and "XIRR(" in irr.text
        val = v.value(option, OD, START, RATE, D("0.9"))
        assert sheet.cell(f"{get_column_letter(c + 1)}{npv_row}").value == val.npv
    # no upfront: no sign change, Excel/LibreOffice's #NUM! shows as n/a on both sides
    wb = books.values[D("0.9")][cw.OPTIONS]
    assert wb[f"B{irr_row}"].value == "n/a" == sheet.cell(f"C{irr_row}").value
    assert isinstance(wb[f"F{irr_row}"].value, float)  # all upfront: a real XIRR


def test_defined_names_and_chart(books):
    spec = books.specs[D("0.9")]
    assert {n.name for n in spec.names} == {"OnDemandHourly", "DiscountRate", "Utilization", "StartDate"}
    (chart,) = spec.sheet(cw.CHART).charts
    assert chart.kind == "line"
    assert spec.sheet(cw.CHART).cell("H3").value == cw.ZERO_LINE


def test_typical_options_price_the_documented_ratios():
    opts = typical_options(OD, START)
    assert [o.payment for o in opts] == [v.NO_UPFRONT, v.PARTIAL_UPFRONT, v.ALL_UPFRONT] * 2
    # 1y all upfront at 58.7 % of $0.126 over 8,760 h = $647.91 (Cloudability's quote: $648.24)
    assert opts[2].upfront == D("647.91")
    assert opts[0].recurring_hourly == D("0.080010")


# ---- CLI ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from finops_xl.sample.generator import SampleSpec, generate
    from finops_xl.store.ingest import ingest

    root = tmp_path_factory.mktemp("commit-store")
    ingest(generate(SampleSpec(rows=20_000, months=2, seed=7), root / "data"), root / "store.duckdb")
    return root / "store.duckdb"


def test_cli_workbook_from_on_demand_rate(tmp_path, capsys):
    out = tmp_path / "c.xlsx"
    assert main(["workbook", "commitments", "--out", str(out), "--on-demand", "0.126",
                 "--rate", "0.08", "--start", "2025-01-01"]) == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["Inputs", "Options", "Cash flows", "Sensitivity", "Savings chart", "Risk"]
    assert wb["Inputs"]["B4"].value == 0.126 and wb["Inputs"]["B5"].value == 0.08
    assert "wrote" in capsys.readouterr().out


def test_cli_workbook_from_store(store, tmp_path, capsys):
    import duckdb

    from finops_xl.commitments.optimizer import optimal_spend_commitment
    from finops_xl.commitments.recommend import profiles
    from finops_xl.store.store import CostStore

    out = tmp_path / "s.xlsx"
    assert main(["workbook", "commitments", "--out", str(out), "--store", str(store), "--provider", "AWS"]) == 0
    wb = load_workbook(out)
    assert {"Portfolio", "Risk", "Actions"} <= set(wb.sheetnames)
    with CostStore(store).reader() as con:
        window = profiles(con, "AWS")
        hours = [sum(x, D(0)) for x in zip(*(p.uncovered for p in window.profiles))]
        (end,) = con.execute("SELECT max(ChargePeriodEnd) FROM charges").fetchall()[0]
    rec = optimal_spend_commitment(hours, D("0.413"))
    assert D(repr(wb["Inputs"]["B4"].value)) == rec.coverage_level.quantize(D("0.000001"))
    # the profile is AWS's uncovered (on-demand) compute only: at most its busiest hour of Standard rows
    raw = duckdb.connect()
    raw.execute("CREATE TABLE c AS SELECT * FROM read_parquet(?)", [str(store.parent / "data" / "*.parquet")])
    (standard,) = raw.execute("""SELECT sum(coalesce(ListCost, ContractedCost)) FROM c WHERE ProviderName = 'AWS'
        AND ChargeCategory = 'Usage' AND ServiceCategory = 'Compute' AND PricingCategory = 'Standard'
        AND ChargePeriodStart >= ? AND ChargePeriodEnd <= ?""", [window.start, window.end]).fetchall()[0]
    assert sum(hours, D(0)).quantize(D("0.01")) == D(standard).quantize(D("0.01"))
    # the purchase date comes from the data (where it ends), not from the wall clock
    assert wb["Inputs"]["B7"].value.date() == end.date()


def test_cli_commitments(store, capsys):
    assert main(["commitments", "--store", str(store)]) == 0
    text = capsys.readouterr().out
    assert "Commitments as of" in text and "KPIs" in text
    for w in (30, 60, 90):
        assert f"Expiring within {w} days" in text


def test_cli_bad_input(tmp_path, capsys):
    assert main(["workbook", "commitments", "--out", str(tmp_path / "x.xlsx"), "--on-demand", "0"]) == 1
    assert "positive" in capsys.readouterr().err
