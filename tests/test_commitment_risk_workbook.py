"""The commitment workbook's Risk and Actions sheets: recalculated in LibreOffice, the Risk sheet's native
formulas equal ``finops_xl.commitments.risk`` (whose own values are checked by hand in test_commitment_risk)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from finops_workbooks.commitments import build_commitment_workbook
from finops_workbooks.commitments_data import gather_commitments
from finops_workbooks.commitments_risk import ACTIONS, RISK, TABLE_TOP
from finops_workbooks.writer import write_xlsx
from openpyxl import load_workbook

from finops_xl.commitments import risk
from finops_xl.commitments import valuation as v
from tests.libreoffice import convert

OD, RATE, U = D("0.126"), D("0.08"), D("0.9")
OPTIONS = (v.PurchaseOption("1y no upfront", 1, v.NO_UPFRONT, 0, D("0.08")),
           v.PurchaseOption("1y all upfront", 1, v.ALL_UPFRONT, D("648.24"), 0))


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    root = tmp_path_factory.mktemp("risk")
    data = gather_commitments(OPTIONS, on_demand_hourly=OD, annual_rate=RATE, utilization=U, start=dt.date(2025, 1, 1))
    path = write_xlsx(build_commitment_workbook(data), root / "in" / "risk.xlsx")
    (out,) = convert([path], root / "out")
    return data, load_workbook(out, data_only=True)[RISK]


def test_risk_sheet_recalculates_to_the_python_values(recalculated):
    data, sheet = recalculated
    best = max(OPTIONS, key=lambda o: v.value(o, OD, data.start, RATE, U).npv)
    assert sheet["A1"].value.startswith(f"Risk: {best.name}")
    flows = risk.monthly_flows(best, OD, risk.path(12, U))
    taxed = risk.after_tax(flows, D("0.25"))
    want = {"NPV pre-tax at the WACC": risk.npv([f.pre_tax for f in flows], RATE),
            "NPV after tax at the WACC": risk.npv([f.after_tax for f in taxed], RATE),
            "NPV after tax at the hurdle rate": risk.npv([f.after_tax for f in taxed], D("0.12")),
            "Cash paid in total (upfront + fees)": best.upfront + 730 * best.recurring_hourly * 12}
    got = {sheet.cell(r, 4).value: sheet.cell(r, 5).value for r in range(4, 9)}
    for label, value in want.items():
        assert got[label] == pytest.approx(float(value), abs=1e-6), label
    # the monthly table: each after-tax cash cell equals the Python flow of that month
    for m in range(13):
        assert sheet.cell(TABLE_TOP + 1 + m, 8).value == pytest.approx(float(taxed[m].after_tax), abs=1e-9)


def test_actions_sheet_only_with_a_store(recalculated):
    data, _ = recalculated
    assert ACTIONS not in [s.name for s in build_commitment_workbook(data).sheets]
