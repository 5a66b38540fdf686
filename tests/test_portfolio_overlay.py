"""The plan's commitment overlay from a hand-built portfolio: expiries, renewals, P&L and cash."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from finops_xl.commitments.actions import Action
from finops_xl.commitments.portfolio import InventoryRow
from finops_xl.planning.portfolio_overlay import overlay, plan

AS_OF = dt.date(2025, 7, 1)
MONTHS = [dt.date(2025, m, 1) for m in range(7, 13)]


def _c(cid, start, end, upfront, recurring, term=12):
    return InventoryRow(cid, cid, "AWS", "Reserved Instance", "Usage", "USD", start, end, "ChargeDescription", term,
                        D(upfront), D(recurring), AS_OF, (end - AS_OF).days, 0, "active")


def _a(cid, action, size, new_size, savings, waste):
    return Action(action, cid, "AWS", "Reserved Instance", "USD", dt.date(2025, 9, 1), 62, 90, D(1), D(size),
                  None if new_size is None else D(new_size), D(savings), D(waste), "")


def test_renewal_keeps_saving_and_prepays_again_a_lapse_stops():
    # renewed: all upfront 1,200 for 12 months (100 a month amortized), ends 2025-09-01, saves 50 a month
    # lapsed: 300 a month no upfront, ends 2025-10-01
    inv = [_c("renewed", dt.date(2024, 9, 1), dt.date(2025, 9, 1), 1200, 0),
           _c("lapsed", dt.date(2024, 10, 1), dt.date(2025, 10, 1), 0, 300)]
    acts = [_a("renewed", "renew", 100, 100, 50, 0), _a("lapsed", "let lapse", 300, 0, 0, 120)]
    rows = plan(inv, acts, MONTHS, savings={"lapsed": D(80)})
    out = {r.month.month: r for r in overlay([(m, D(1000)) for m in MONTHS], rows)}
    # P&L: 100 (renewed, every month) + 300 (lapsed, Jul–Sep); cash: the renewal's 1,200 in September
    assert [out[m].amortized for m in range(7, 13)] == [D(400), D(400), D(400), D(100), D(100), D(100)]
    assert [out[m].cash for m in range(7, 13)] == [D(300), D(300), D(1500), D(0), D(0), D(0)]
    # savings: 50 + 80 until the lapse, then 50; net = gross − savings
    assert [out[m].savings for m in range(7, 13)] == [D(130)] * 3 + [D(50)] * 3
    assert out[12].net == D(950)


def test_resize_scales_the_renewal_and_a_mid_month_end_is_prorated():
    inv = [_c("r", dt.date(2024, 8, 16), dt.date(2025, 8, 16), 0, 310)]
    # resize to 70%: 217 a month; savings at the new size 100, waste avoided 93 → today's savings 7
    acts = [_a("r", "resize", 310, 217, 100, 93)]
    rows = plan(inv, acts, MONTHS[:3])
    aug = [r for r in rows if r.month == dt.date(2025, 8, 1)]
    old, new = (next(r for r in aug if r.state == s) for s in ("active", "resized"))
    before, after = D(15) / 31, D(16) / 31  # 15 days of August on the old term, 16 on the new
    assert old.amortized == before * D(310) and new.amortized == after * D(217)
    assert old.savings == before * D(7) and new.savings == after * D(100)
    assert [r.amortized for r in rows if r.month == dt.date(2025, 9, 1)] == [D(217)]


def test_budget_workbook_from_a_store_shows_the_overlay_and_the_chosen_method(tmp_path):
    from openpyxl import load_workbook

    from finops_xl.cli import main
    from finops_xl.commitments.actions import actions_from_store, savings_now, usage_stats
    from finops_xl.commitments.portfolio import inventory
    from finops_xl.sample.generator import SampleSpec, generate
    from finops_xl.store.ingest import ingest
    from finops_xl.store.store import CostStore

    store = tmp_path / "finops-store"
    ingest(generate(SampleSpec(rows=6_000, months=6, seed=3), tmp_path / "exports"), store)
    drivers = tmp_path / "drivers.csv"
    drivers.write_text("owner,driver,unit,month,volume\nPayments,MAU,users,2025-07,10\nPayments,MAU,users,2025-08,12\n")
    costs = tmp_path / "unit_costs.csv"
    costs.write_text("owner,driver,cost_per_unit\nPayments,MAU,2.5\n")
    out = tmp_path / "budget.xlsx"
    assert main(["workbook", "budget", "--drivers", str(drivers), "--unit-costs", str(costs),
                 "--store", str(store), "--out", str(out), "--months", "2"]) == 0
    wb = load_workbook(out)
    assert "chosen by backtest" in wb["Trend"]["A2"].value
    sheet = wb["Commitments"]
    gross = [sheet.cell(r, 2).value for r in (5, 6)]
    assert gross == [25.0, 30.0]  # 10 and 12 users at 2.5
    with CostStore(store).reader() as con:
        as_of, acts = actions_from_store(con)
        rows = plan(inventory(con, as_of), acts, MONTHS[:2], savings_now(usage_stats(con, as_of)))
    for r, month in ((5, MONTHS[0]), (6, MONTHS[1])):
        these = [x for x in rows if x.month == month]
        assert sheet.cell(r, 3).value == pytest.approx(float(sum(x.savings for x in these)))
        assert sheet.cell(r, 4).value == pytest.approx(sheet.cell(r, 2).value - sheet.cell(r, 3).value)
        assert sheet.cell(r, 5).value == pytest.approx(float(sum(x.amortized for x in these)))
        assert sheet.cell(r, 6).value == pytest.approx(float(sum(x.cash for x in these)))
    assert sum(sheet.cell(r, 5).value for r in (5, 6)) > 0  # the demo's commitments run through the plan
