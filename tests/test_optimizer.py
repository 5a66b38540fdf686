"""Spend-commitment optimizer: the reference week, the exact optimum against brute force, laddering,
usage-drop risk, and the hourly eligible-spend profile from a hand-built store and from generated data."""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finops_xl.commitments.optimizer import (
    hourly_eligible_spend,
    ladder,
    optimal_spend_commitment,
    risk,
)
from finops_xl.data import focus_sample_csv
from finops_xl.sample.generator import SampleSpec, generate
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore

D = Decimal

# The reference week from the issue: 60 h at $1,000/h, 60 h at $700/h, 48 h at $600/h; d = 30%.
WEEK = [D(1000)] * 60 + [D(700)] * 60 + [D(600)] * 48


def brute_force_cost(profile: list[Decimal], d: Decimal, c: Decimal) -> Decimal:
    """Σ_h [(1 − d) × c + max(0, s_h − c)], written out independently of the module."""
    total = D(0)
    for s in profile:
        total += (1 - d) * c + (s - c if s > c else D(0))
    return total


# ---- the exact optimum --------------------------------------------------------------------------


def test_reference_week():
    # Issue: covers $700/h (commitment $490/h), $100,320 for the week against $130,800 on demand.
    # By hand: 168 × 490 = 82,320 + 60 × 300 = 18,000 → 100,320; 60,000 + 42,000 + 28,800 = 130,800.
    r = optimal_spend_commitment(WEEK, D("0.30"))
    assert r.coverage_level == D(700)
    assert r.hourly_commitment == D(490)
    assert r.commitment_cost == D(82_320)
    assert r.overflow_cost == D(18_000)
    assert r.total_cost == D(100_320)
    assert r.on_demand_cost == D(130_800)
    assert r.savings == D(30_480)
    assert r.hours == 168
    assert r.break_even_utilization == D("0.70")
    # Σ min(s, 700) = 120 × 700 + 48 × 600 = 112,800 over 700 × 168 = 117,600
    assert r.utilization == D(112_800) / D(117_600)


def test_tie_rule_picks_the_smallest_optimal_level():
    # [1, 2, 3, 4], d = 0.5: cost(0) = 10, cost(1) = 2 + 6 = 8, cost(2) = 4 + 3 = 7, cost(3) = 6 + 1 = 7,
    # cost(4) = 8 — 2 and 3 tie; the smallest is returned.
    r = optimal_spend_commitment([D(4), D(1), D(3), D(2)], D("0.5"))
    assert (r.coverage_level, r.total_cost) == (D(2), D(7))


def test_mostly_idle_profile_buys_nothing():
    # [0, 0, 0, 5], d = 0.5: cost(0) = 5 < cost(5) = 4 × 0.5 × 5 = 10.
    r = optimal_spend_commitment([D(0), D(0), D(0), D(5)], D("0.5"))
    assert r.coverage_level == 0 and r.hourly_commitment == 0
    assert r.total_cost == r.on_demand_cost == D(5) and r.savings == 0
    assert r.utilization is None


money = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)
discounts = st.decimals(min_value=D("0.0001"), max_value=D("0.9999"), places=4)


@settings(max_examples=300, deadline=None)
@given(profile=st.lists(money, min_size=1, max_size=200), d=discounts)
def test_optimum_equals_brute_force_over_every_candidate(profile, d):
    r = optimal_spend_commitment(profile, d)
    candidates = sorted({D(0), *profile})
    costs = {c: brute_force_cost(profile, d, c) for c in candidates}
    best = min(costs.values())
    assert r.total_cost == best
    assert r.coverage_level == min(c for c, v in costs.items() if v == best)  # the smallest optimal
    assert r.on_demand_cost == sum(profile, D(0))
    assert r.savings == r.on_demand_cost - r.total_cost >= 0
    assert r.hourly_commitment == (1 - d) * r.coverage_level
    if r.coverage_level > 0:
        used = sum((min(s, r.coverage_level) for s in profile), D(0))
        assert r.utilization == used / (r.coverage_level * len(profile))
        # the optimum is the level exceeded in at most a (1 − d) share of hours
        assert sum(1 for s in profile if s > r.coverage_level) <= (1 - d) * len(profile)


@pytest.mark.parametrize("profile, d, error, message", [
    ([], D("0.3"), ValueError, "empty"),
    ([D(1), D(-1)], D("0.3"), ValueError, r"hourly_on_demand\[1\] is negative"),
    ([D(1)], 0.3, TypeError, "Decimal fraction"),
    ([D(1)], D(0), ValueError, r"\(0, 1\)"),
    ([D(1)], D(1), ValueError, r"\(0, 1\)"),
    ([1.5], D("0.3"), TypeError, r"hourly_on_demand\[0\] must be a Decimal"),
])
def test_bad_arguments_are_named(profile, d, error, message):
    with pytest.raises(error, match=message):
        optimal_spend_commitment(profile, d)


# ---- laddering ----------------------------------------------------------------------------------


def test_ladder_staggers_purchases_and_sums_to_the_target():
    tranches = ladder(D("700.00"), 3, 4, start=dt.date(2025, 11, 15), term_months=12)
    assert [t.coverage_level for t in tranches] == [D("233.34"), D("233.33"), D("233.33")]
    assert sum(t.coverage_level for t in tranches) == D("700.00")
    assert [t.month_offset for t in tranches] == [0, 4, 8]
    assert [t.purchase_month for t in tranches] == [dt.date(2025, 11, 1), dt.date(2026, 3, 1),
                                                    dt.date(2026, 7, 1)]
    assert [t.expiry_month for t in tranches] == [dt.date(2026, 11, 1), dt.date(2027, 3, 1),
                                                  dt.date(2027, 7, 1)]


@given(target=st.decimals(min_value=0, max_value=10**6, places=4), n=st.integers(1, 36),
       apart=st.integers(0, 12))
def test_ladder_always_sums_to_the_target(target, n, apart):
    tranches = ladder(target, n, apart)
    assert len(tranches) == n
    assert sum((t.coverage_level for t in tranches), D(0)) == target
    assert all(t.coverage_level >= 0 for t in tranches)
    assert [t.month_offset for t in tranches] == [i * apart for i in range(n)]


def test_ladder_rejects_bad_arguments():
    with pytest.raises(ValueError, match="tranches"):
        ladder(D(10), 0, 1)
    with pytest.raises(ValueError, match="target_level"):
        ladder(D(-1), 2, 1)


# ---- risk ---------------------------------------------------------------------------------------


def test_risk_savings_fall_with_usage_and_turn_negative():
    r = optimal_spend_commitment(WEEK, D("0.30"))
    cases = risk(r, WEEK)
    # By hand, commitment $82,320 stays; profile × (1 − drop):
    #  10%: 900/630/540 → on demand 117,720; overflow 60 × 200 = 12,000 → cost 94,320, savings 23,400
    #  25%: 750/525/450 → on demand  98,100; overflow 60 ×  50 =  3,000 → cost 85,320, savings 12,780
    #  50%: 500/350/300 → on demand  65,400; no overflow        → cost 82,320, savings −16,920
    assert [c.drop for c in cases] == [D("0.10"), D("0.25"), D("0.50")]
    assert [c.on_demand_cost for c in cases] == [D(117_720), D(98_100), D(65_400)]
    assert [c.total_cost for c in cases] == [D(94_320), D(85_320), D(82_320)]
    assert [c.savings for c in cases] == [D(23_400), D(12_780), D(-16_920)]
    assert [c.loses_money for c in cases] == [False, False, True]
    assert cases[-1].utilization == D(65_400) / D(117_600) < r.break_even_utilization


@settings(max_examples=100, deadline=None)
@given(profile=st.lists(money, min_size=1, max_size=100), d=discounts,
       drops=st.lists(st.decimals(min_value=0, max_value=1, places=2), min_size=1, max_size=6))
def test_risk_savings_never_rise_as_usage_falls(profile, d, drops):
    r = optimal_spend_commitment(profile, d)
    cases = risk(r, profile, sorted(drops))
    savings = [c.savings for c in cases]
    assert savings == sorted(savings, reverse=True)
    assert risk(r, profile, [D(0)])[0].savings == r.savings
    if r.coverage_level > 0:  # everything gone: the fee is pure loss
        assert risk(r, profile, [D(1)])[0].savings == -r.commitment_cost


# ---- the hourly profile from a tiny hand-built store --------------------------------------------

with focus_sample_csv().open(newline="", encoding="utf-8-sig") as _fh:
    _reader = csv.reader(_fh)
    _HEADER = next(_reader)
    BASE = dict(zip(_HEADER, next(_reader)))
HEADER = [*_HEADER, "SkuPriceDetails"]  # a FOCUS 1.1 column, for RI families
JAN1 = dt.datetime(2025, 1, 1)


def charge(start: dt.datetime, hours: int, list_cost, *, category="Compute", pricing="Standard",
           status="NULL", contracted=None, charge_category="Usage", sku: dict | None = None,
           region="us-east-1") -> list[str]:
    """One row: the sample's first row with our fields."""
    end = start + dt.timedelta(hours=hours)
    contracted = list_cost if contracted is None else contracted
    row = dict(BASE, ProviderName="AWS", BillingAccountId="B1", BillingCurrency="USD",
               BillingPeriodStart="2025-01-01 00:00:00", BillingPeriodEnd="2025-02-01 00:00:00",
               ChargePeriodStart=f"{start:%Y-%m-%d %H:%M:%S}", ChargePeriodEnd=f"{end:%Y-%m-%d %H:%M:%S}",
               ChargeCategory=charge_category, ChargeClass="NULL", ServiceCategory=category,
               ServiceName="Amazon Elastic Compute Cloud", PricingCategory=pricing,
               CommitmentDiscountStatus=status, RegionId=region, BilledCost=str(contracted),
               EffectiveCost=str(contracted), ListCost=str(list_cost), ContractedCost=str(contracted),
               SkuPriceDetails=json.dumps(sku) if sku else "NULL")
    return [row[h] for h in HEADER]


def h(hour: int) -> dt.datetime:
    return JAN1 + dt.timedelta(hours=hour)


TINY_ROWS = [
    charge(JAN1, 24, "24"),                                      # one daily row: $1 in each hour
    charge(h(-12), 24, "48"),                                    # straddles the window: $2/h, 12 h inside
    charge(h(5), 1, "3"),                                        # an hourly row
    charge(h(10), 2, "10", contracted="8", pricing="Committed", status="Used"),  # covered: on-demand equiv.
    charge(h(13), 3, "1"),                                       # $1 over 3 h: thirds at 1e-12
    charge(h(20), 1, "7", sku={"InstanceType": "m6i.large", "Series": "m6i"}),
    charge(h(21), 1, "9", sku={"InstanceType": "m6i.large", "Series": "m6i"}, region="eu-west-1"),
    # not eligible:
    charge(h(3), 1, "0", contracted="0", pricing="Committed", status="Unused"),
    charge(h(4), 1, "100", pricing="Dynamic"),                   # spot
    charge(h(6), 1, "100", category="Storage"),                  # not compute
    charge(JAN1, 24, "500", charge_category="Purchase"),         # a commitment fee, not usage
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    path = root / "in" / "jan.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(TINY_ROWS)
    store = root / "finops-store"
    ingest([path], store)
    return store


def test_hourly_profile_by_hand(tiny):
    with CostStore(tiny).reader() as con:
        prof = hourly_eligible_spend(con, scope="compute", lookback_days=1, end=dt.datetime(2025, 1, 2))
    expected = [D(1)] * 24                      # the daily $24
    for i in range(12):
        expected[i] += 2                        # the straddling $48 day: hours 00–11 of Jan 1
    expected[5] += 3
    expected[10] += 5                           # the covered $10 over 2 h, at ListCost
    expected[11] += 5
    expected[13] += D("0.333333333333")         # ⌊1e12/3⌋, ⌊2e12/3⌋ − ⌊1e12/3⌋, 1e12 − ⌊2e12/3⌋
    expected[14] += D("0.333333333333")
    expected[15] += D("0.333333333334")
    expected[20] += 7
    expected[21] += 9
    assert (prof.start, prof.end) == (JAN1, dt.datetime(2025, 1, 2))
    assert list(prof.amounts) == expected
    # in-window eligible cost: 24 + 24 (half of 48) + 3 + 10 + 1 + 7 + 9 = 78
    assert prof.total == D(78)


def test_hourly_profile_contracted_basis_and_family_scope(tiny):
    with CostStore(tiny).reader() as con:
        contracted = hourly_eligible_spend(con, lookback_days=1, end=dt.date(2025, 1, 2), basis="ContractedCost")
        family = hourly_eligible_spend(con, scope="family:m6i@us-east-1", lookback_days=1,
                                       end=dt.datetime(2025, 1, 2, 0, 30, tzinfo=dt.UTC))
        default_end = hourly_eligible_spend(con, lookback_days=1)
    assert contracted.amounts[10] == contracted.amounts[11] == D(1 + 2 + 4)  # $8 contracted over 2 h
    assert contracted.total == D(78 - 2)
    assert family.end == dt.datetime(2025, 1, 2)                            # floored to the hour
    assert family.amounts == tuple(D(7) if i == 20 else D(0) for i in range(24))
    assert default_end.end == dt.datetime(2025, 1, 2)                       # latest eligible row's end


def test_hourly_profile_bad_arguments(tiny):
    with CostStore(tiny).reader() as con:
        for scope in ("storage", "family:m6i", "family:@us-east-1"):
            with pytest.raises(ValueError, match="scope must be"):
                hourly_eligible_spend(con, scope=scope)
        with pytest.raises(ValueError, match="basis"):
            hourly_eligible_spend(con, basis="BilledCost")
        with pytest.raises(ValueError, match="no eligible usage"):
            hourly_eligible_spend(con, scope="family:z9@mars-1")


# ---- generated data -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gen")
    paths = generate(SampleSpec(rows=20_000, months=2), root / "data")
    store = root / "finops-store"
    ingest(paths, store)
    return store


ELIGIBLE = """ChargeCategory = 'Usage' AND (PricingCategory = 'Standard' OR CommitmentDiscountStatus = 'Used')"""


def test_generated_profile_ties_to_eligible_cost(generated):
    with CostStore(generated).reader() as con:
        started = time.perf_counter()
        prof = hourly_eligible_spend(con, scope="compute", lookback_days=30, provider="AWS")
        elapsed = time.perf_counter() - started
        # the generator writes day-aligned daily rows, so the window cuts on row boundaries
        assert con.execute(f"""SELECT count(*) FROM charges WHERE {ELIGIBLE}
            AND (date_trunc('day', ChargePeriodStart) <> ChargePeriodStart
                 OR ChargePeriodEnd - ChargePeriodStart <> INTERVAL 1 DAY)""").fetchone()[0] == 0
        expected_total, rows = con.execute(f"""SELECT sum(coalesce(ListCost, ContractedCost)), count(*)
            FROM charges WHERE {ELIGIBLE} AND ServiceCategory = 'Compute' AND ProviderName = 'AWS'
            AND ChargePeriodStart >= $s AND ChargePeriodEnd <= $e""", {"s": prof.start, "e": prof.end}).fetchone()
        daily = dict(con.execute(f"""SELECT ChargePeriodStart, sum(coalesce(ListCost, ContractedCost))
            FROM charges WHERE {ELIGIBLE} AND ServiceCategory = 'Compute' AND ProviderName = 'AWS'
            AND ChargePeriodStart >= $s GROUP BY 1""", {"s": prof.start}).fetchall())
    assert len(prof) == 30 * 24 and prof.end == dt.datetime(2025, 3, 1)
    assert prof.total == expected_total                                   # exact, to 1e-12
    for day in range(30):
        hours = prof.amounts[day * 24:(day + 1) * 24]
        assert sum(hours) == daily[prof.start + dt.timedelta(days=day)]  # each day ties
        assert max(hours) - min(hours) <= rows * D("1e-12")               # spread evenly
    r = optimal_spend_commitment(prof.amounts, D("0.28"))
    assert r.hours == 720 and r.savings >= 0 and r.total_cost <= r.on_demand_cost
    print(f"hourly_eligible_spend over {rows} rows: {elapsed * 1000:.1f} ms")


def test_generated_family_scope(generated):
    with CostStore(generated).reader() as con:
        series, region, total = con.execute(f"""SELECT json_extract_string(SkuPriceDetails, '$.Series') s, RegionId,
                sum(coalesce(ListCost, ContractedCost)) FROM charges
            WHERE {ELIGIBLE} AND s IS NOT NULL AND ChargePeriodStart >= TIMESTAMP '2025-01-30'
            GROUP BY ALL ORDER BY 3 DESC LIMIT 1""").fetchone()
        prof = hourly_eligible_spend(con, scope=f"family:{series}@{region}", lookback_days=30,
                                     end=dt.date(2025, 3, 1))
    assert prof.total == total
