"""Unit economics, with hand-derived numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from finops_xl.planning.unit_economics import infra_share, owner_monthly_cost, unit_costs, worsening

JAN, FEB, MAR, APR = (dt.date(2025, m, 1) for m in (1, 2, 3, 4))


def test_cost_per_unit_by_owner_and_metric():
    costs = {(JAN, "web"): D("1500"), (FEB, "web"): D("1650")}
    volumes = {(JAN, "web", "users"): D("12000"), (FEB, "web", "users"): D("12000"),
               (JAN, "web", "api_calls"): D("3000000"), (FEB, "web", "api_calls"): D("0")}
    rows = {(r.month, r.metric): r.cost_per_unit for r in unit_costs(costs, volumes)}
    assert rows[(JAN, "users")] == D("0.125")          # 1500 / 12000
    assert rows[(FEB, "users")] == D("0.1375")         # 1650 / 12000
    assert rows[(JAN, "api_calls")] == D("0.0005")     # 1500 / 3,000,000
    assert rows[(FEB, "api_calls")] is None            # no calls: no unit cost, not a zero


def test_infrastructure_share_of_revenue_and_gross_margin():
    rows = infra_share({JAN: D("20000"), FEB: D("30000")},
                       {JAN: D("200000"), FEB: D("200000"), MAR: D("0")},
                       {JAN: D("120000"), FEB: D("210000")})
    jan, feb, mar = rows
    assert (jan.of_revenue, jan.gross_margin, jan.of_gross_margin) == (D("0.1"), D("80000"), D("0.25"))
    assert feb.gross_margin == D("-10000") and feb.of_gross_margin is None  # no margin to share
    assert mar.of_revenue is None


def test_worsening_flags_after_n_months_in_a_row():
    series = [(JAN, D(10)), (FEB, D(11)), (MAR, D(12)), (APR, D(13))]
    assert worsening(series, 3) == [APR]
    assert worsening(series, 2) == [MAR, APR]
    assert worsening(series, 2, worse="down") == []
    assert worsening([(JAN, D(1)), (FEB, None), (MAR, D(2)), (APR, D(3))], 2) == []
    with pytest.raises(ValueError, match='worse must be "up" or "down"'):
        worsening(series, worse="sideways")


def test_owner_cost_from_the_allocation(tmp_path):
    from finops_xl.allocation.engine import allocate
    from finops_xl.allocation.rules import load_rules
    from finops_xl.data import allocation_rules
    from finops_xl.sample.generator import SampleSpec, generate
    from finops_xl.store.ingest import ingest
    from finops_xl.store.store import CostStore

    generate(SampleSpec(rows=8_000, months=2, seed=3), tmp_path / "x")
    store = tmp_path / "s.duckdb"
    ingest([tmp_path / "x"], store)
    with CostStore(store).reader() as con, pytest.raises(ValueError, match="no allocation"):
        owner_monthly_cost(con)
    allocate(store, load_rules(allocation_rules()))
    with CostStore(store).reader() as con:
        costs = owner_monthly_cost(con)
        (total,) = con.execute("SELECT sum(EffectiveCost) FROM charges").fetchall()[0]
    assert sum(costs.values()) == total and ("payments" in {o for _, o in costs})
