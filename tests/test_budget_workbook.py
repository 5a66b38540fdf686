"""The Budget template: LibreOffice recalculates the Forecast sheet to the numbers of the Python
driver forecast (``driver_forecast``) and fiscal calendar (``FiscalCalendar.by_year``), for the
base scenario and with the scenario switch set to high; and the ``workbook budget`` CLI.

Each expected value comes from the cell's labels (owner, driver, line in columns A–C, the month
in the header row, the fiscal year in column A of the roll-up) and the Python API, never from the
workbook's own numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest
from finops_workbooks.budget import build_budget
from finops_workbooks.model import Formula
from finops_workbooks.writer import write_xlsx
from openpyxl import load_workbook

from finops_xl.cli import main
from finops_xl.planning.drivers import (
    DEFAULT_SCENARIOS,
    CommitmentStrategy,
    Driver,
    UnitCost,
    driver_forecast,
    monthly_totals,
)
from finops_xl.planning.fiscal import FiscalCalendar, month_range
from tests.libreoffice import convert

CENT = Decimal("0.005")
MONTHS = month_range(dt.date(2025, 4, 1), 6)  # Apr–Sep 2025: FY2025 and FY2026 with a July start
FISCAL_START = 7
COVERAGE, DISCOUNT = Decimal("0.6"), Decimal("0.3")
DRIVERS = (
    Driver("MAU", "users", tuple(zip(MONTHS, (1000, 1100, 1250, 1300, 1420, 1500))), owner="Payments"),
    Driver("TB stored", "TB", tuple(zip(MONTHS, ("12.5", "13", "13.75", "14", "15.2", "16"))),
           owner="Payments"),
    Driver("headcount", "people", tuple(zip(MONTHS, (8, 8, 9, 10, 10, 11)))),  # shared plan
)
UNIT_COSTS = (
    UnitCost("Payments", "MAU", "0.37"),
    UnitCost("Payments", "TB stored", "23.10"),
    UnitCost("Search", "headcount", "412.50"),
)
HISTORY = tuple(zip(month_range(dt.date(2024, 4, 1), 12),
                    map(Decimal, ("900", "920", "950", "940", "980", "1010", "1000", "1040",
                                  "1065", "1080", "1100", "1130"))))
EXCEL_2010 = {"INDEX", "MATCH", "SUMIFS", "SUM", "IF", "ROUND"}


def python_rows(scenario: str):
    return driver_forecast(DRIVERS, UNIT_COSTS, MONTHS, scenario=scenario,
                           commitment=CommitmentStrategy.flat(COVERAGE, DISCOUNT,
                                                              FiscalCalendar(FISCAL_START)))


def expected_forecast(sheet, scenario: str) -> dict[str, Decimal]:
    """The value of each formula cell on Forecast, from its labels and the Python forecast."""
    rows = python_rows(scenario)
    by_cell = {(r.month, r.owner, r.driver): r for r in rows}
    cells = {c.ref: c.value for c in sheet.cells}
    head = next(c.row for c in sheet.cells if c.column == 1 and c.value == "Owner")
    months = {c.column: c.value for c in sheet.cells if c.row == head and isinstance(c.value, dt.date)}
    label = {c.row: c.value for c in sheet.cells if c.column == 1}
    factor = {s.name: s.volume_factor for s in DEFAULT_SCENARIOS}[scenario]
    expected = {"B3": factor}
    fy_totals = {f"FY{t.fiscal_year}": t.amount
                 for t in FiscalCalendar(FISCAL_START).by_year(monthly_totals(rows, "net"))}
    for c in sheet.cells:
        if not isinstance(c.value, Formula) or c.ref == "B3":
            continue
        if c.row > head and c.column in months and label[c.row] in ("Total gross", "Total net"):
            field = "gross" if label[c.row] == "Total gross" else "net"
            expected[c.ref] = dict(monthly_totals(rows, field))[months[c.column]]
        elif c.row > head and c.column in months:
            line = cells[f"C{c.row}"]
            expected[c.ref] = getattr(by_cell[(months[c.column], label[c.row], cells[f"B{c.row}"])], line)
        elif c.column == 3 and str(label.get(c.row, "")).startswith("FY"):
            expected[c.ref] = fy_totals[label[c.row]]
    return expected


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """Base and high workbooks, written and recalculated by LibreOffice in one run."""
    root = tmp_path_factory.mktemp("budget")
    specs, paths = {}, []
    for scenario in ("base", "high"):
        specs[scenario] = build_budget(DRIVERS, UNIT_COSTS, MONTHS, commitment=(COVERAGE, DISCOUNT),
                                       calendar_start_month=FISCAL_START, history=HISTORY,
                                       scenario=scenario)
        paths.append(write_xlsx(specs[scenario], root / f"budget-{scenario}.xlsx"))
    started = time.monotonic()
    out = convert(paths, root / "recalculated")
    print(f"LibreOffice recalculation of 2 budget workbooks: {time.monotonic() - started:.1f}s")
    return {s: (specs[s], load_workbook(p, data_only=True)) for s, p in zip(("base", "high"), out)}


@pytest.mark.parametrize("scenario", ["base", "high"])
def test_forecast_recalculates_to_driver_forecast(recalculated, scenario):
    spec, book = recalculated[scenario]
    sheet = spec.sheet("Forecast")
    expected = expected_forecast(sheet, scenario)
    formula_cells = {c.ref for c in sheet.cells if isinstance(c.value, Formula)}
    assert set(expected) == formula_cells  # every formula on Forecast is checked
    ws = book["Forecast"]
    wrong = {at: (ws[at].value, str(v)) for at, v in expected.items()
             if not isinstance(ws[at].value, (int, float))
             or abs(Decimal(str(ws[at].value)) - v) >= CENT}
    assert not wrong, wrong
    # the totals react to the switch as the Python scenarios do
    totals = [ws[c.ref].value for c in sheet.cells if c.column == 3 and isinstance(c.value, Formula)]
    assert abs(Decimal(str(sum(totals))) - sum(r.net for r in python_rows(scenario))) < CENT
    assert len(totals) == 2  # FY2025 (Apr–Jun) and FY2026 (Jul–Sep)


def test_high_differs_from_base(recalculated):
    base, high = (recalculated[s][1]["Forecast"] for s in ("base", "high"))
    assert base["B3"].value == 1 and abs(high["B3"].value - 1.1) < 1e-12
    assert base["D14"].value != high["D14"].value or base["D8"].value != high["D8"].value


def test_layout_names_functions_and_trend(recalculated):
    spec, book = recalculated["base"]
    assert [s.name for s in spec.sheets] == ["Assumptions", "Drivers", "Forecast", "Trend"]
    assert {n.name for n in spec.names} >= {"Scenario", "Coverage", "Discount"}
    used = {fn for s in spec.sheets if s.name != "Trend" for c in s.cells
            if isinstance(c.value, Formula) for fn in re.findall(r"([A-Z][A-Z0-9.]*)\(", c.value.text)}
    assert used <= EXCEL_2010, used
    trend = spec.sheet("Trend")
    live = [c for c in trend.cells if isinstance(c.value, Formula)]
    assert len(live) == 1 and "FINOPS.FORECAST(" in live[0].value.text.upper()
    assert trend.charts and trend.charts[0].kind == "line" and trend.charts[0].data_ref.startswith("B4:E")
    assert book["Assumptions"]["B4"].value == "base"


def test_bad_input_raises():
    with pytest.raises(ValueError, match="no volume"):
        build_budget(DRIVERS, UNIT_COSTS, month_range(dt.date(2025, 4, 1), 7))
    with pytest.raises(ValueError, match="scenario"):
        build_budget(DRIVERS, UNIT_COSTS, MONTHS, scenario="huge")


def test_cli_budget(tmp_path, capsys):
    drivers = tmp_path / "drivers.csv"
    drivers.write_text("owner,driver,unit,month,volume\n" + "".join(
        f"{d.owner or ''},{d.name},{d.unit},{m:%Y-%m},{v}\n" for d in DRIVERS for m, v in d.volumes))
    costs = tmp_path / "unit_costs.csv"
    costs.write_text("owner,driver,cost_per_unit\n" + "".join(
        f"{u.owner},{u.driver},{u.cost_per_unit}\n" for u in UNIT_COSTS))
    out = tmp_path / "budget.xlsx"
    assert main(["workbook", "budget", "--drivers", str(drivers), "--unit-costs", str(costs),
                 "--out", str(out), "--months", "6", "--fiscal-start", "7",
                 "--coverage", "0.6", "--discount", "0.3"]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["Assumptions", "Drivers", "Forecast"]
    assert book["Assumptions"]["B5"].value == 0.6
    assert book["Forecast"]["D6"].value.date() == MONTHS[0]
    assert main(["workbook", "budget", "--drivers", str(drivers), "--unit-costs", str(costs),
                 "--out", str(out), "--months", "7"]) == 1
    assert "no volume" in capsys.readouterr().err


def test_cli_budget_with_store_adds_trend(tmp_path):
    from finops_xl.sample.generator import SampleSpec, generate
    from finops_xl.store.ingest import ingest

    store = tmp_path / "finops-store"
    ingest(generate(SampleSpec(rows=2_000, months=4, seed=3), tmp_path / "exports"), store)
    drivers = tmp_path / "drivers.csv"
    drivers.write_text("owner,driver,unit,month,volume\nPayments,MAU,users,2025-04,10\n"
                       "Payments,MAU,users,2025-05,12\n")
    costs = tmp_path / "unit_costs.csv"
    costs.write_text("owner,driver,cost_per_unit\nPayments,MAU,2.5\n")
    out = tmp_path / "budget.xlsx"
    assert main(["workbook", "budget", "--drivers", str(drivers), "--unit-costs", str(costs),
                 "--store", str(store), "--out", str(out), "--months", "2"]) == 0
    trend = load_workbook(out)["Trend"]
    assert trend["G5"].value.startswith("=FINOPS.FORECAST(")
    assert isinstance(trend["B5"].value, (int, float)) and trend._charts


def test_driver_csv_problems_name_file_row_and_column(tmp_path):
    from finops_xl.planning.driver_inputs import DriverInputError, read_drivers_csv, read_unit_costs_csv

    no_volume = tmp_path / "drivers.csv"
    no_volume.write_text("Owner,Driver,Unit,Month\nPayments,MAU,users,2025-04\n")
    with pytest.raises(DriverInputError, match=r"drivers.csv, column volume: missing column volume"):
        read_drivers_csv(no_volume)
    twice = tmp_path / "twice.csv"
    twice.write_text("owner,driver,unit,month,volume\nPayments,MAU,users,2025-04,10\n"
                     "Payments,MAU,users,2025-04,12\n")
    with pytest.raises(DriverInputError, match=r"twice.csv, row 2, column month: Payments/MAU has two volumes"):
        read_drivers_csv(twice)
    empty = tmp_path / "unit_costs.csv"
    empty.write_text("owner,driver,cost_per_unit\n")
    with pytest.raises(DriverInputError, match=r"unit_costs.csv: no rows"):
        read_unit_costs_csv(empty)
