"""The commitment portfolio functions through the Office.js call path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import xlwings

from finops_xl.sample.generator import SampleSpec
from finops_xl.store.store import CostStore
from tests.conftest import sample_store
from tests.test_udfs_officejs import call, serial


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return CostStore(sample_store(tmp_path_factory.mktemp("commit-udf"), SampleSpec(rows=15_000, months=3, seed=7),
                                  allocated=False))


FEB = dt.date(2025, 2, 1)


def test_utilization_is_used_over_used_plus_unused(store):
    got = call("UTILIZATION", serial(FEB), 0, str(store.path))[0][0]
    with store.reader() as con:
        used, unused = con.execute(
            "SELECT sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), "
            "sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Unused') FROM charges "
            "WHERE ChargeCategory = 'Usage' AND ChargePeriodStart >= '2025-02-01' "
            "AND ChargePeriodStart < '2025-03-01'").fetchall()[0]
    assert got == pytest.approx(float(Decimal(used) / (Decimal(used) + Decimal(unused))), rel=1e-12)
    assert 0 < got <= 1


def test_coverage_esr_inventory_and_expiry(store):
    s = str(store.path)
    coverage = call("COVERAGE", serial(FEB), "AWS", s)[0][0]
    esr = call("ESR", serial(FEB), 0, s)[0][0]
    assert 0 < coverage < 1 and -1 < esr < 1
    inventory = call("COMMITMENTS", s)
    assert inventory[0][:3] == ["id", "provider", "type"] and len(inventory) > 3
    with store.reader() as con:
        ids = {i for (i,) in con.execute("SELECT DISTINCT CommitmentDiscountId FROM charges "
                                         "WHERE ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL").fetchall()}
    assert {r[0] for r in inventory[1:]} == ids
    expiring = call("EXPIRING", 3650, s)
    assert expiring[0][-2:] == ["suggestion", "resize_to"]
    assert {r[6] for r in expiring[1:]} <= {"renew", "resize", "let expire", "review", ""}


def test_bad_commitment_scope(store):
    with pytest.raises(xlwings.XlwingsError, match="'nope'"):
        call("UTILIZATION", serial(FEB), "nope", str(store.path))
    with pytest.raises(xlwings.XlwingsError, match="days must be positive"):
        call("EXPIRING", 0, str(store.path))


def _edates(start: dt.date, n: int) -> list[dt.date]:
    """EDATE(start, 1..n) for a start on the 1st: each month's flow is dated when it is billed."""
    out, y, m = [], start.year, start.month
    for _ in range(n):
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append(dt.date(y, m, 1))
    return out


def _xnpv(rate: float, flows: list[float], dates: list[dt.date]) -> float:
    """Excel's XNPV, written out for the test: Σ v / (1 + r)^((d − d0)/365)."""
    return sum(v / (1 + rate) ** ((d - dates[0]).days / 365) for v, d in zip(flows, dates))


def test_commitment_valuation_functions():
    """Cloudability's example: on demand $0.126/h, reserved effective $0.074/h (all upfront
    $648.24 for 8,760 h). Flows: −648.24 at purchase; each month's on-demand cost avoided,
    0.126 × 24 × its days, dated EDATE(purchase, n) (billed in arrears). Break-even: 212 days to the
    end of July avoid 641.09 < 648.24, so month 8."""
    start = dt.date(2025, 1, 1)
    dates = [start] + _edates(start, 12)
    flows = [-648.24] + [0.126 * 24 * (dates[i] - dates[i - 1]).days for i in range(1, 13)]
    npv = call("COMMIT_NPV", 0.126, 648.24, 0, 1, 0.08, serial(start))[0][0]
    assert npv == pytest.approx(_xnpv(0.08, flows, dates), abs=0.005)
    irr = call("COMMIT_IRR", 0.126, 648.24, 0, 1, serial(start))[0][0]
    assert abs(_xnpv(irr, flows, dates)) < 1e-6
    assert call("BREAKEVEN_MONTHS", 0.126, 648.24, 0, 1, serial(start)) == [[8]]
    with pytest.raises(xlwings.XlwingsError, match="never change sign"):
        call("COMMIT_IRR", 0.126, 0, 0.074, 1, serial(start))
    with pytest.raises(xlwings.XlwingsError, match="never breaks even"):
        call("BREAKEVEN_MONTHS", 0.126, 648.24, 0, 1, serial(start), 0.3)


def test_valuation_runs_without_pyxirr_or_duckdb():
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import sys, datetime as dt
        for m in ("pyxirr", "duckdb", "pyarrow"):
            sys.modules[m] = None
        import finops_udfs
        print(round(finops_udfs.FINOPS_COMMIT_IRR(0.126, 648.24, 0, 1, dt.date(2025, 1, 1)), 6))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(round(call("COMMIT_IRR", 0.126, 648.24, 0, 1, serial(dt.date(2025, 1, 1)))[0][0], 6))


def test_recommendation_and_action_list_spill(store):
    from finops_xl.commitments.actions import actions_from_store
    from finops_xl.commitments.recommend import recommend

    s = str(store.path)
    got = call("COMMIT_RECOMMEND", "Microsoft", 7, s)
    with store.reader() as con:
        want = recommend(con, provider="Microsoft", lookback_days=7).lines
        _, acts = actions_from_store(con)
    assert got[0][:4] == ["provider", "scope", "term_years", "payment"] and len(got) == len(want) + 1 > 1
    assert [(r[0], r[1], r[4]) for r in got[1:]] == [(x.provider, x.scope, float(x.coverage_level)) for x in want]
    assert {r[0] for r in call("COMMIT_RECOMMEND", 0, 0, s)[1:]} == {"AWS", "Google Cloud", "Microsoft"}
    actions = call("COMMIT_ACTIONS", s)
    assert actions[0][-1] == "reason" and [r[1] for r in actions[1:]] == [a.commitment_id for a in acts]
    with pytest.raises(xlwings.XlwingsError, match="--provider 'Oracle'"):
        call("COMMIT_RECOMMEND", "Oracle", 30, s)
    with pytest.raises(xlwings.XlwingsError, match="lookback must be"):
        call("COMMIT_RECOMMEND", "AWS", -1, s)
