"""Driver-based forecasts, fiscal calendars and bottom-up budgets, against hand-derived numbers.

The small table used throughout (months Jan–Mar 2026):

    team  driver     volumes     unit cost   gross
    web   headcount  10/11/12    $150/head   1500 / 1650 / 1800
    data  headcount   5/ 5/ 6    $200/head   1000 / 1000 / 1200
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finops_xl.close.variance import load_budget
from finops_xl.planning.drivers import (
    CommitmentStrategy,
    Driver,
    Event,
    PriceChange,
    Scenario,
    UnitCost,
    budget_rows_for_variance,
    compare_scenarios,
    compare_top_down,
    driver_forecast,
    monthly_totals,
    team_budget,
    unit_costs_from_history,
    write_budget_csv,
)
from finops_xl.planning.fiscal import FiscalCalendar, month_range

JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
MONTHS = (JAN, FEB, MAR)
WEB_HC = Driver("headcount", "people", {JAN: 10, FEB: 11, MAR: 12}, owner="web")
DATA_HC = Driver("headcount", "people", {JAN: 5, FEB: 5, MAR: 6}, owner="data")
DRIVERS = (WEB_HC, DATA_HC)
UNIT_COSTS = (UnitCost("web", "headcount", D(150)), UnitCost("data", "headcount", D(200)))


def totals(rows, owner=None, field="net"):
    return [t for _, t in monthly_totals([r for r in rows if owner is None or r.owner == owner], field)]


# ---- fiscal calendar -------------------------------------------------------------------------------


def test_fiscal_year_starting_in_july_is_named_by_the_year_it_ends():
    fy = FiscalCalendar(7)
    # July 2025 – June 2026 ends in 2026 → FY2026.
    assert fy.fiscal_year("2025-06") == 2025
    assert fy.fiscal_year("2025-07") == 2026
    assert fy.fiscal_year("2026-06") == 2026
    # Q1 = Jul–Sep, Q2 = Oct–Dec, Q3 = Jan–Mar, Q4 = Apr–Jun.
    assert [fy.label(m) for m in ("2025-07", "2025-09", "2025-10", "2026-01", "2026-04", "2026-06")] == [
        "FY2026 Q1", "FY2026 Q1", "FY2026 Q2", "FY2026 Q3", "FY2026 Q4", "FY2026 Q4"]
    assert fy.first_month(2026) == dt.date(2025, 7, 1)
    assert fy.months(2026)[-1] == dt.date(2026, 6, 1)
    # Calendar-year default: FY = calendar year, Q1 = Jan–Mar.
    assert FiscalCalendar().label("2026-03") == "FY2026 Q1"
    assert FiscalCalendar().label("2026-12") == "FY2026 Q4"


def test_fiscal_rollups_by_quarter_and_year():
    fy = FiscalCalendar(7)
    rows = [("2025-06", D(100)), ("2025-07", D(10)), ("2025-08", D(20)), ("2025-10", D("5.5"))]
    # 2025-06 → FY2025 Q4: 100;  Jul + Aug → FY2026 Q1: 10 + 20 = 30;  Oct → FY2026 Q2: 5.5
    assert [(t.label, t.amount) for t in fy.by_quarter(rows)] == [
        ("FY2025 Q4", D(100)), ("FY2026 Q1", D(30)), ("FY2026 Q2", D("5.5"))]
    # FY2025: 100;  FY2026: 30 + 5.5 = 35.5
    assert [(t.label, t.amount) for t in fy.by_year(rows)] == [("FY2025", D(100)), ("FY2026", D("35.5"))]


def test_bad_start_month():
    with pytest.raises(ValueError, match="start_month"):
        FiscalCalendar(13)


# ---- forecast --------------------------------------------------------------------------------------


def test_volume_times_unit_cost():
    rows = driver_forecast(DRIVERS, UNIT_COSTS, MONTHS)
    # web: 10×150, 11×150, 12×150;  data: 5×200, 5×200, 6×200
    assert totals(rows, "web") == [D(1500), D(1650), D(1800)]
    assert totals(rows, "data") == [D(1000), D(1000), D(1200)]
    web_mar = next(r for r in rows if r.owner == "web" and r.month == MAR)
    assert (web_mar.volume, web_mar.unit_cost, web_mar.discount) == (D(12), D(150), D(0))


def test_step_event_adds_from_its_month():
    launch = Event("launch EU", FEB, amount=D(500), owner="web")
    rows = driver_forecast(DRIVERS, UNIT_COSTS, MONTHS, events=[launch])
    # web: 1500;  1650 + 500 = 2150;  1800 + 500 = 2300
    assert totals(rows, "web") == [D(1500), D(2150), D(2300)]
    ev = [r for r in rows if r.driver == "launch EU"]
    assert [r.month for r in ev] == [FEB, MAR] and ev[0].volume is None and "event" in ev[0].source
    # A decommission is a negative amount: data −400 from March → 1000, 1000, 1200 − 400 = 800.
    off = Event("decommission", MAR, amount=D(-400), owner="data")
    assert totals(driver_forecast(DRIVERS, UNIT_COSTS, MONTHS, events=[off]), "data") == [
        D(1000), D(1000), D(800)]


def test_ramp_amount_and_ramp_factor():
    ramp = Event("new service", JAN, kind="ramp", amount=D(300), ramp_months=3, owner="data")
    rows = driver_forecast(DRIVERS, UNIT_COSTS, MONTHS, events=[ramp])
    # 300 × 1/3 = 100, 300 × 2/3 = 200, 300 × 3/3 = 300 on top of 1000, 1000, 1200
    assert totals(rows, "data") == [D(1100), D(1200), D(1500)]
    migration = Event("move to Graviton", FEB, kind="ramp", factor=D("0.8"), ramp_months=2,
                      owner="web", driver="headcount")
    rows = driver_forecast(DRIVERS, UNIT_COSTS, MONTHS, events=[migration])
    # Jan untouched 1500;  Feb unit 150 × (1 − 0.2 × 1/2) = 135 → 11 × 135 = 1485;
    # Mar unit 150 × 0.8 = 120 → 12 × 120 = 1440.  data unchanged.
    assert totals(rows, "web") == [D(1500), D(1485), D(1440)]
    assert totals(rows, "data") == [D(1000), D(1000), D(1200)]


def test_price_change_from_month_three():
    rows = driver_forecast(DRIVERS, UNIT_COSTS, MONTHS, price_changes=[PriceChange(MAR, D("1.05"))])
    # web Mar: 150 × 1.05 = 157.50 × 12 = 1890;  data Mar: 200 × 1.05 = 210 × 6 = 1260
    assert totals(rows, "web") == [D(1500), D(1650), D(1890)]
    assert totals(rows, "data") == [D(1000), D(1000), D(1260)]


def test_unit_cost_since_replaces_from_its_month():
    ucs = UNIT_COSTS + (UnitCost("web", "headcount", D(140), since=MAR),)
    # Mar: 12 × 140 = 1680
    assert totals(driver_forecast(DRIVERS, ucs, MONTHS), "web") == [D(1500), D(1650), D(1680)]


def test_commitment_overlay_coverage_times_discount():
    rows = driver_forecast(DRIVERS, UNIT_COSTS, MONTHS, commitment=CommitmentStrategy.flat("0.6", "0.3"))
    # 1 − 0.6 × 0.3 = 0.82:  1500 × 0.82 = 1230, 1650 × 0.82 = 1353, 1800 × 0.82 = 1476
    assert totals(rows, "web") == [D(1230), D(1353), D(1476)]
    # discount = gross × 0.18: 270, 297, 324;  gross − discount = net on every row
    assert totals(rows, "web", "discount") == [D(270), D(297), D(324)]
    assert all(r.gross - r.discount == r.net for r in rows)


def test_commitment_by_fiscal_year():
    fy = FiscalCalendar(7)
    hc = Driver("headcount", "people", {"2026-06": 10, "2026-07": 10}, owner="web")
    strategy = CommitmentStrategy({2027: ("0.6", "0.3")}, calendar=fy)
    rows = driver_forecast([hc], UNIT_COSTS[:1], ["2026-06", "2026-07"], commitment=strategy)
    # June 2026 is FY2026 (no target) → 1500;  July 2026 is FY2027 → 1500 × 0.82 = 1230
    assert totals(rows, "web") == [D(1500), D(1230)]


def test_scenarios_side_by_side():
    side = compare_scenarios(DRIVERS, UNIT_COSTS, MONTHS)
    # base Jan: 1500 + 1000 = 2500;  low: (9 × 150) + (4.5 × 200) = 1350 + 900 = 2250;
    # high: (11 × 150) + (5.5 × 200) = 1650 + 1100 = 2750
    assert side[0].by_scenario == (("base", D(2500)), ("low", D(2250)), ("high", D(2750)))
    # Mar base: 1800 + 1200 = 3000 → low 2700, high 3300
    assert dict(side[2].by_scenario) == {"base": D(3000), "low": D(2700), "high": D(3300)}
    # A scenario with its own driver table: web 20 heads in Jan → 3000 (data has no plan there).
    own = Scenario("hiring", drivers=[Driver("headcount", "people", {JAN: 20}, owner="web")])
    rows = driver_forecast(DRIVERS, UNIT_COSTS[:1], [JAN], scenario=own)
    assert totals(rows) == [D(3000)]


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"'headcount' of 'web' has no volume for 2026-04"):
        driver_forecast(DRIVERS, UNIT_COSTS, month_range(JAN, 4))
    with pytest.raises(ValueError, match="1 to 60 months"):
        driver_forecast(DRIVERS, UNIT_COSTS, month_range(JAN, 61))
    with pytest.raises(ValueError, match="unknown scenario 'worst'"):
        driver_forecast(DRIVERS, UNIT_COSTS, MONTHS, scenario="worst")
    with pytest.raises(ValueError, match="exactly one of amount or factor"):
        Event("x", JAN)
    with pytest.raises(ValueError, match=r"coverage \(default\)"):
        CommitmentStrategy.flat("1.5", "0.3")


# ---- unit costs from history -----------------------------------------------------------------------


def test_unit_costs_from_history_volume_weighted_trailing_window():
    costs = [("2025-10", "web", "headcount", 5000), ("2025-11", "web", "headcount", 1100),
             ("2025-12", "web", "headcount", 1200), ("2026-01", "web", "headcount", 1300)]
    vols = [("2025-10", "web", "headcount", 10), ("2025-11", "web", "headcount", 10),
            ("2025-12", "web", "headcount", 12), ("2026-01", "web", "headcount", 8)]
    (uc,) = unit_costs_from_history(costs, vols, window=3)
    # last 3 months Nov–Jan: (1100 + 1200 + 1300) ÷ (10 + 12 + 8) = 3600 ÷ 30 = 120
    # (October's 5000 is outside the window; the mean of monthly ratios would be 124.17)
    assert uc.cost_per_unit == D(120)
    assert (uc.owner, uc.driver) == ("web", "headcount")
    assert uc.source == "history 2025-11..2026-01 (3 months)"
    with pytest.raises(ValueError, match="data/tb: cost but no volume"):
        unit_costs_from_history(costs + [("2026-01", "data", "tb", 9)], vols)


# ---- bottom-up budget ------------------------------------------------------------------------------


def test_team_budget_for_a_july_fiscal_year_and_top_down_gap():
    fy = FiscalCalendar(7)
    months = fy.months(2027)  # July 2026 – June 2027
    plans = {"web": [Driver("headcount", "people", {m: 10 for m in months})],
             "data": [Driver("headcount", "people", {m: 4 for m in months})]}
    budget = team_budget(plans, UNIT_COSTS, 2027, fy)
    by_team = budget.by_team()
    # web: 10 × 150 = 1500 a month;  data: 4 × 200 = 800 a month
    assert by_team["web"][0] == (dt.date(2026, 7, 1), D(1500))
    assert by_team["data"][-1] == (dt.date(2027, 6, 1), D(800))
    assert len(by_team["web"]) == 12
    # 12 × (1500 + 800) = 27600
    assert budget.total == D(27600)
    # Quarterly roll-up: 3 × 2300 = 6900 in each of FY2027 Q1..Q4
    q = fy.by_quarter((r.month, r.net) for r in budget.lines)
    assert [(t.label, t.amount) for t in q] == [(f"FY2027 Q{i}", D(6900)) for i in (1, 2, 3, 4)]
    gap = compare_top_down(budget.total, D(25000))
    # 27600 − 25000 = 2600;  2600 ÷ 25000 = 0.104
    assert (gap.gap, gap.gap_pct) == (D(2600), D("0.104"))


def test_budget_rows_load_back_with_load_budget(tmp_path):
    storage = Driver("storage", "GB-Mo", {JAN: 1005}, owner="data")
    ucs = (UnitCost("web", "headcount", D(150), service_category="Compute"),
           UnitCost("data", "storage", D("0.023"), service_category="Storage"))
    rows = driver_forecast(DRIVERS + (storage,), ucs, [JAN])
    out = budget_rows_for_variance(rows, pricing_units={"storage": "GB-Mo"})
    path = write_budget_csv(out, tmp_path / "budget.csv")
    lines = load_budget(path)
    got = {(b.owner, b.service_category): (b.month, b.amount, b.quantity, b.unit) for b in lines}
    assert got == {
        # 10 × 150 = 1500, no billed quantity for headcount
        ("web", "Compute"): (JAN, D("1500.00"), None, None),
        # 1005 × 0.023 = 23.115 → half-even to the cent → 23.12 (the 1 before the 5 is odd)
        ("data", "Storage"): (JAN, D("23.12"), D(1005), "GB-Mo"),
    }


# ---- properties ------------------------------------------------------------------------------------

small = st.integers(min_value=0, max_value=10_000)


@given(st.lists(small, min_size=3, max_size=3), st.lists(small, min_size=3, max_size=3),
       st.integers(min_value=0, max_value=50))
def test_totals_scale_linearly_with_volumes(web, data, k):
    def plan(vs):
        return [Driver("headcount", "people", dict(zip(MONTHS, (D(v) * k for v in vs))), owner="web"),
                Driver("headcount", "people", dict(zip(MONTHS, map(D, data))), owner="data")]

    base = [Driver("headcount", "people", dict(zip(MONTHS, map(D, web))), owner="web"),
            Driver("headcount", "people", dict(zip(MONTHS, map(D, data))), owner="data")]
    kw = {"price_changes": [PriceChange(MAR, D("1.05"))],
          "commitment": CommitmentStrategy.flat("0.6", "0.3"),
          "events": [Event("mig", FEB, kind="ramp", factor=D("0.8"), ramp_months=2)]}
    one = driver_forecast(base, UNIT_COSTS, MONTHS, **kw)
    scaled = driver_forecast(plan(web), UNIT_COSTS, MONTHS, **kw)
    assert totals(scaled, "web") == [t * k for t in totals(one, "web")]
    assert totals(scaled, "data") == totals(one, "data")
    # A scenario factor k is the same as volumes × k.
    via_scenario = driver_forecast(base, UNIT_COSTS[:1], MONTHS, scenario=Scenario("k", D(k)), **kw)
    assert totals(via_scenario, "web") == totals(scaled, "web")
    # Totals are conserved: Σ gross = Σ discount + Σ net.
    assert sum(r.gross for r in scaled) == sum(r.discount + r.net for r in scaled)
