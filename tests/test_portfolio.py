"""The commitment portfolio: KPIs on the FOCUS 1.2 spec's commitment scenarios (expected values from the
spec's own rows, arithmetic written beside them), on generated data against the amortization module's
provider cross-check and independent SQL sums, and the expiry calendar on a hand-built inventory."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from finops_xl.close import amortization as am
from finops_xl.commitments import portfolio as pf
from finops_xl.focus.reader import FocusFile
from finops_xl.store.sources import sniff
from finops_xl.store.store import connect
from tests.conftest import SPEC_EXAMPLES

SCENARIOS = SPEC_EXAMPLES / "commitment_discount_scenarios"


# --------------------------------------------------------------------------------------------------
# FOCUS 1.2 spec commitment usage scenarios (one hour of one commitment of 8,760 units over a year,
# bought for 8,760.00: the hour's amortized commitment is 8,760.00 / 8,760 h = 1.00)
# --------------------------------------------------------------------------------------------------

@pytest.fixture
def spec():
    con = connect(":memory:", read_only=False)

    def load(n: int) -> str:
        name = f"commitment_discount_usage_scenario_{n}"
        f = FocusFile(con, sniff(SCENARIOS / f"{name}.csv"), partial=True)
        assert f.problems() == []
        con.execute(f"CREATE OR REPLACE TABLE s{n} AS {f.select_sql()}")
        return f"s{n}"

    yield con, load
    con.close()


def one(rows):
    assert len(rows) == 1, rows
    return rows[0]


def test_scenario_1_fully_used(spec):
    con, load = spec
    k = one(pf.monthly_kpis(con, by="commitment", table=load(1)))
    # one Used row, EffectiveCost 1.00; no Unused row
    assert (k.key, k.month) == ("<my-commitment-discount-id>", dt.date(2023, 1, 1))
    assert (k.used, k.unused, k.amortized) == (D("1.00"), D(0), D("1.00"))
    assert k.utilization == 1 and k.waste == 0


def test_scenario_2_unused(spec):
    con, load = spec
    k = one(pf.monthly_kpis(con, by="all", table=load(2)))
    # one Unused row, EffectiveCost 1.00: the whole hour is waste
    assert (k.used, k.unused, k.amortized) == (D(0), D("1.00"), D("1.00"))
    assert k.utilization == 0 and k.waste == D("1.00")
    assert k.missing_list_rows == 0  # an Unused row's missing ListCost is not a missing list price


def test_scenario_3_partly_used(spec):
    con, load = spec
    k = one(pf.monthly_kpis(con, by="commitment", table=load(3)))
    # Used 0.75 + Unused 0.25 = 1.00; utilization 0.75 ÷ 1.00 = 75 %; waste = the Unused row's 0.25
    assert (k.used, k.unused, k.amortized) == (D("0.75"), D("0.25"), D("1.00"))
    assert k.utilization == D("0.75") and k.waste == D("0.25")


def test_scenario_4_coverage_with_on_demand_overage(spec):
    con, load = spec
    t = load(4)
    # The scenario's excerpt has no ListCost column: both consumption rows lack a list price, so coverage
    # and ESR are unknown and the two rows are reported (EffectiveCost 1.00 + 0.50), not zeroed.
    k = one(pf.monthly_kpis(con, by="all", table=t))
    assert k.utilization == 1 and k.waste == 0
    assert k.coverage is None and k.esr is None
    assert (k.missing_list_rows, k.missing_list_effective_cost) == (2, D("1.50"))
    # On-demand-equivalent: the Standard (on-demand) row prices 1.00 Hour at BilledCost 0.50, i.e. 0.50 per
    # hour. The committed row consumed 1.00 Hour → ListCost 1.00 × 0.50 = 0.50; the overage 1.00 Hour →
    # 0.50. Coverage = committed ÷ (committed + on-demand) = 0.50 ÷ (0.50 + 0.50) = 0.5.
    con.execute(f"UPDATE {t} SET ListCost = ConsumedQuantity * 0.50 WHERE ConsumedQuantity IS NOT NULL")
    k = one(pf.monthly_kpis(con, by="all", table=t))
    assert (k.covered_list, k.eligible_list) == (D("0.50"), D("1.00"))
    assert k.coverage == D("0.5") and k.missing_list_rows == 0
    # ESR over eligible rows: (List 1.00 − Effective (1.00 + 0.50)) ÷ 1.00 = −0.5 (the spec's numbers
    # are illustrative: its committed hour costs more than on demand)
    assert k.esr == D("-0.5")
    c = one(pf.monthly_kpis(con, by="commitment", table=t))
    assert (c.covered_list, c.eligible_list, c.coverage) == (D("0.50"), D("1.00"), D("0.5"))


def test_by_must_be_named():
    with pytest.raises(ValueError, match="by must be one of"):
        pf.monthly_kpis(None, by="team")


# --------------------------------------------------------------------------------------------------
# Generated data: 30,000 rows, 4 months, commitments of every payment option
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from finops_xl.sample.generator import SampleSpec, generate
    from finops_xl.store.ingest import ingest
    from finops_xl.store.store import CostStore

    root = tmp_path_factory.mktemp("portfolio")
    paths = generate(SampleSpec(rows=30_000, months=4, seed=7), root / "data")
    ingest(paths, root / "store.duckdb")
    with CostStore(root / "store.duckdb").reader() as con:
        yield con


MONTHS = [dt.date(2025, m, 1) for m in range(1, 5)]


def test_amortized_cost_ties_to_the_amortization_cross_check(generated):
    """Σ Used + Unused EffectiveCost per commitment-month = provider_check's provider_amount."""
    kpis = {(k.key, k.month): k for k in pf.monthly_kpis(generated, by="commitment")}
    check = am.provider_check(generated, am.commitments_from_store(generated))
    assert check and {r.commitment_id for r in check} == {cid for cid, _ in kpis}
    for r in check:
        k = kpis.get((r.commitment_id, r.month))
        assert (k.amortized if k else 0) == r.provider_amount, r
    for (cid, m), k in kpis.items():  # and no KPI month the cross-check does not know
        assert any(r.commitment_id == cid and r.month == m for r in check)


def test_used_unused_waste_and_utilization(generated):
    expected = {(cid, m): (D(u), D(x)) for cid, m, u, x in generated.execute("""
        SELECT CommitmentDiscountId, CAST(date_trunc('month', ChargePeriodStart) AS DATE),
               sum(CASE WHEN CommitmentDiscountStatus = 'Used' THEN EffectiveCost ELSE 0 END),
               sum(CASE WHEN CommitmentDiscountStatus = 'Unused' THEN EffectiveCost ELSE 0 END)
        FROM charges WHERE ChargeCategory = 'Usage' AND CommitmentDiscountId IS NOT NULL
        GROUP BY ALL""").fetchall()}
    rows = pf.monthly_kpis(generated, by="commitment")
    assert {(k.key, k.month): (k.used, k.unused) for k in rows} == expected
    assert any(k.waste > 0 for k in rows) and any(k.utilization == 1 for k in rows)
    for k in rows:
        assert 0 <= k.utilization <= 1 and k.utilization * k.amortized == k.used
        assert k.coverage is None or 0 <= k.coverage <= 1
    overall = {k.month: k for k in pf.monthly_kpis(generated, by="all")}
    assert sorted(overall) == MONTHS
    for m, k in overall.items():  # waste = Σ Unused EffectiveCost; the portfolio = Σ its commitments
        assert k.waste == sum(x for (_, mm), (_, x) in expected.items() if mm == m)
        assert k.used == sum(u for (_, mm), (u, _) in expected.items() if mm == m)
        assert 0 <= k.utilization <= 1 and 0 <= k.coverage <= 1


def test_groupings_conserve_totals(generated):
    """by provider sums to all; the month filter returns the same rows as the full run."""
    allr = {k.month: k for k in pf.monthly_kpis(generated, by="all")}
    prov = pf.monthly_kpis(generated, by="provider")
    assert {k.key for k in prov} == {"AWS", "Google Cloud", "Microsoft"}
    for m, k in allr.items():
        mine = [p for p in prov if p.month == m]
        for field in ("used", "unused", "covered_list", "eligible_list", "list_cost", "contracted_cost",
                      "effective_cost", "savings_total"):
            assert sum(getattr(p, field) for p in mine) == getattr(k, field), (m, field)
        assert k.savings_total == k.savings_negotiated + k.savings_commitment
    march = pf.monthly_kpis(generated, dt.date(2025, 3, 17), by="provider")
    assert march == [p for p in prov if p.month == dt.date(2025, 3, 1)]


def test_coverage_and_esr_from_independent_sql(generated):
    """Coverage and ESR for AWS in February, from a plain query over the eligible rows: AWS commitments
    cover Compute and Databases (its commitment scope); eligible = Standard + Committed Usage rows there."""
    lst, eff, covered, eligible = generated.execute("""
        SELECT sum(ListCost), sum(EffectiveCost),
               sum(CASE WHEN CommitmentDiscountStatus = 'Used' THEN ListCost ELSE 0 END),
               sum(CASE WHEN CommitmentDiscountStatus = 'Unused' THEN 0 ELSE ListCost END)
        FROM charges
        WHERE ProviderName = 'AWS' AND ChargeCategory = 'Usage'
          AND ServiceCategory IN ('Compute', 'Databases') AND PricingCategory IN ('Standard', 'Committed')
          AND ChargePeriodStart >= '2025-02-01' AND ChargePeriodStart < '2025-03-01'""").fetchone()
    (k,) = [p for p in pf.monthly_kpis(generated, dt.date(2025, 2, 1), by="provider") if p.key == "AWS"]
    assert (k.covered_list, k.eligible_list, k.list_cost, k.effective_cost) == (covered, eligible, lst, eff)
    assert k.coverage == covered / eligible and k.esr == (lst - eff) / lst
    # a fixed list of service categories instead of the scope found in the data
    (f,) = [p for p in pf.monthly_kpis(generated, dt.date(2025, 2, 1), by="provider",
                                       options=pf.KpiOptions(service_categories=("Compute",)))
            if p.key == "AWS"]
    assert f.eligible_list < k.eligible_list and f.used == k.used


def test_rows_lacking_list_prices_are_reported(generated):
    assert all(k.missing_list_rows == 0 for k in pf.monthly_kpis(generated, by="provider"))
    generated.execute("CREATE OR REPLACE TEMP TABLE nolist AS SELECT * FROM charges")
    try:
        # take the list price off the 10 first AWS on-demand Compute rows of January
        n, lost_list, lost_eff = generated.execute("""
            CREATE OR REPLACE TEMP TABLE victims AS
                SELECT rowid AS r, ListCost, EffectiveCost FROM nolist
                WHERE ProviderName = 'AWS' AND ServiceCategory = 'Compute' AND PricingCategory = 'Standard'
                  AND ChargeCategory = 'Usage' AND EffectiveCost <> 0 AND ChargePeriodStart < '2025-02-01'
                ORDER BY ChargePeriodStart, r LIMIT 10;
            UPDATE nolist SET ListCost = NULL WHERE rowid IN (SELECT r FROM victims);
            SELECT count(*), sum(ListCost), sum(EffectiveCost) FROM victims""").fetchone()
        assert n == 10
        before = {(k.key, k.month): k for k in pf.monthly_kpis(generated, by="provider")}
        after = {(k.key, k.month): k for k in pf.monthly_kpis(generated, by="provider", table="nolist")}
        k0, k1 = before[("AWS", dt.date(2025, 1, 1))], after[("AWS", dt.date(2025, 1, 1))]
        assert (k1.missing_list_rows, k1.missing_list_effective_cost) == (10, lost_eff)
        # left out of coverage and ESR, not counted at 0
        assert k1.eligible_list == k0.eligible_list - lost_list
        assert k1.effective_cost == k0.effective_cost - lost_eff and k1.used == k0.used
        assert {key: k for key, k in after.items() if key != ("AWS", dt.date(2025, 1, 1))} == \
               {key: k for key, k in before.items() if key != ("AWS", dt.date(2025, 1, 1))}
    finally:
        generated.execute("DROP TABLE IF EXISTS nolist; DROP TABLE IF EXISTS victims")


def test_inventory_on_generated_data(generated):
    inv = {c.id: c for c in pf.inventory(generated, dt.date(2025, 5, 1))}
    cs = {c.id: c for c in am.commitments_from_store(generated)}
    assert set(inv) == set(cs)
    for cid, c in inv.items():  # term, upfront and recurring fee are the amortization module's
        assert (c.term_months, c.upfront, c.recurring_monthly) == \
               (cs[cid].term_months, cs[cid].upfront, cs[cid].recurring_monthly)
        assert c.category in {"Spend", "Usage"} and c.end == am.add_months(c.start, c.term_months)
    # the 1-year no-upfront EC2 RI bought 2024-03-07 (its ChargeDescription) expired on 2025-03-07: its
    # last rows end there
    (m6i,) = [c for c in inv.values() if "m6i" in c.name]
    assert (m6i.start, m6i.end, m6i.start_source) == (dt.date(2024, 3, 7), dt.date(2025, 3, 7),
                                                       "ChargeDescription")
    assert m6i.last_seen == dt.datetime(2025, 3, 7) and m6i.status == "expired" and m6i.remaining_days == 0
    (c,) = [c for c in pf.inventory(generated, dt.date(2025, 2, 15)) if c.id == m6i.id]
    assert (c.status, c.remaining_days, c.remaining_months) == ("active", 20, 0)


def test_expiry_calendar_from_store(generated):
    cal = pf.expiry_calendar_from_store(generated, dt.date(2025, 2, 15))
    (r,) = cal  # only the m6i RI ends within 90 days of 15 Feb 2025
    assert (r.end, r.days_left, r.window) == (dt.date(2025, 3, 7), 20, 30)
    assert r.utilization == 1 and r.suggestion == "renew"


# --------------------------------------------------------------------------------------------------
# Expiry calendar on a hand-built inventory
# --------------------------------------------------------------------------------------------------

AS_OF = dt.date(2025, 6, 1)


def commitment(cid: str, end: dt.date) -> pf.InventoryRow:
    start = am.add_months(end, -12)
    days, months, status = pf._remaining(start, end, AS_OF)
    return pf.InventoryRow(cid, cid, "AWS", "Reserved Instance", "Usage", "USD", start, end, "hand", 12,
                           D("1200.00"), D(0), AS_OF, days, months, status)


def test_expiry_calendar_windows_and_suggestions():
    inv = [
        commitment("expired", AS_OF),                               # end = as_of: already over
        commitment("renew", AS_OF + dt.timedelta(days=30)),         # 30 days left → 30-day window
        commitment("resize", AS_OF + dt.timedelta(days=31)),        # 31 → 60
        commitment("expire", AS_OF + dt.timedelta(days=60)),        # 60 → 60
        commitment("review", AS_OF + dt.timedelta(days=90)),        # 90 → 90
        commitment("later", AS_OF + dt.timedelta(days=91)),         # beyond the horizon
        commitment("edge-renew", AS_OF + dt.timedelta(days=1)),     # 1 → 30
        commitment("edge-resize", AS_OF + dt.timedelta(days=75)),   # 75 → 90
    ]
    util = {
        "renew": (D(95), D(5)),          # 95 % ≥ 90 % → renew
        "resize": (D(75), D(25)),        # 75 % in [60 %, 90 %) → resize to 0.75 of the current size
        "expire": (D(59), D(41)),        # 59 % < 60 % → let expire
        "later": (D(0), D(100)),
        "edge-renew": (D(90), D(10)),    # exactly 90 % → renew
        "edge-resize": (D(60), D(40)),   # exactly 60 % → resize to 0.6
        # "review": no rows in the lookback
    }
    cal = pf.expiry_calendar(inv, util, AS_OF)
    got = [(r.id, r.days_left, r.window, r.utilization, r.suggestion, r.resize_to) for r in cal]
    assert got == [
        ("edge-renew", 1, 30, D("0.9"), "renew", None),
        ("renew", 30, 30, D("0.95"), "renew", None),
        ("resize", 31, 60, D("0.75"), "resize", D("0.75")),
        ("expire", 60, 60, D("0.59"), "let expire", None),
        ("edge-resize", 75, 90, D("0.6"), "resize", D("0.6")),
        ("review", 90, 90, None, "review", None),
    ]
    assert {r.suggestion for r in cal} <= set(pf.SUGGESTIONS)
    # thresholds and windows are options
    strict = pf.expiry_calendar(inv, util, AS_OF, options=pf.ExpiryOptions(windows=(30,), renew_at=D("0.95")))
    assert [(r.id, r.suggestion) for r in strict] == [("edge-renew", "resize"), ("renew", "renew")]
    with pytest.raises(ValueError):
        pf.ExpiryOptions(resize_at=D("0.95"), renew_at=D("0.90"))


def test_remaining_term():
    # a 12-month term from 15 Jan 2025 ends (exclusive) 15 Jan 2026
    assert pf._remaining(dt.date(2025, 1, 15), dt.date(2026, 1, 15), dt.date(2025, 6, 1)) == (228, 7, "active")
    assert pf._remaining(dt.date(2025, 1, 15), dt.date(2026, 1, 15), dt.date(2026, 1, 15)) == (0, 0, "expired")
    assert pf._remaining(dt.date(2025, 1, 15), dt.date(2026, 1, 15), dt.date(2025, 1, 1)) == (365, 12, "future")
