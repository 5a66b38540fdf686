"""Purchase recommendations per provider and scope on uncovered usage, and the portfolio action list.

Expected values are worked by hand from the inputs (flat profiles whose optimum is obvious) or summed
from the raw generated rows with DuckDB, never taken from the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal as D

import duckdb
import pytest

from finops_xl.cli import main
from finops_xl.commitments.actions import AZURE_REFUND_LIMIT, ActionOptions, Stats, actions
from finops_xl.commitments.portfolio import InventoryRow
from finops_xl.commitments.recommend import recommend
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore

END = dt.datetime(2025, 3, 8)  # the hand-built data ends here (exclusive)


def _charges(rows) -> duckdb.DuckDBPyConnection:
    """A charges table of hourly rows: (provider, hour offset back from END, list cost, status, series, region,
    pricing category); one row per hour and line, each an hour long unless ``hours`` says otherwise."""
    con = duckdb.connect()
    con.execute("""CREATE TABLE charges (ProviderName VARCHAR, ChargePeriodStart TIMESTAMP, ChargePeriodEnd TIMESTAMP,
        ChargeCategory VARCHAR, ServiceCategory VARCHAR, PricingCategory VARCHAR, CommitmentDiscountStatus VARCHAR,
        ListCost DECIMAL(38,12), ContractedCost DECIMAL(38,12), EffectiveCost DECIMAL(38,12),
        SkuPriceDetails VARCHAR, RegionId VARCHAR, BillingCurrency VARCHAR)""")
    con.executemany("INSERT INTO charges VALUES (?, ?, ?, 'Usage', 'Compute', ?, ?, ?, ?, ?, ?, ?, 'USD')", rows)
    return con


def _flat(provider, per_hour, days=7, *, status=None, series=None, region=None, pricing="Standard", hours=1):
    """Rows of ``per_hour`` $/h over the ``days`` before END, ``hours`` long each."""
    out = []
    start = END - dt.timedelta(days=days)
    t = start
    while t < END:
        cost = D(per_hour) * hours
        out.append((provider, t, t + dt.timedelta(hours=hours), pricing, status, cost, cost,
                    cost * D("0.6") if status == "Used" else cost,
                    None if series is None else f'{{"Series": "{series}"}}', region))
        t += dt.timedelta(hours=hours)
    return out


def test_providers_are_never_pooled_and_covered_usage_is_left_out():
    # AWS: 10 $/h on demand + 6 $/h already covered; Azure: 5 $/h on demand. Pooled, one would buy 15 (or 21).
    con = _charges(_flat("AWS", 10) + _flat("AWS", 6, status="Used", pricing="Committed") + _flat("Microsoft", 5))
    r = recommend(con, lookback_days=7, rate=D(0), terms=(1,))
    by = {x.provider: x for x in r.lines}
    assert set(by) == {"AWS", "Microsoft"} and len(r.lines) == 2
    aws, azure = by["AWS"], by["Microsoft"]
    assert aws.coverage_level == D(10) and azure.coverage_level == D(5)
    # eligible 16 $/h × 168 h, covered 6 × 168, uncovered 10 × 168
    assert (aws.eligible, aws.covered, aws.uncovered) == (D(16 * 168), D(6 * 168), D(10 * 168))
    # at a 0% rate the best option is the deepest 1-year discount (AWS all upfront 35%, Azure 25%):
    # savings = level × discount × 8,760 h a year
    assert (aws.payment, aws.annual_savings) == ("all_upfront", D(10) * D("0.35") * 8760)
    assert aws.upfront == D(10) * D("0.65") * 8760 and aws.npv == aws.annual_savings
    assert azure.annual_savings == D(5) * D("0.25") * 8760
    # the purchase starts where the data ends, not today
    assert aws.start == dt.date(2025, 3, 8) and aws.window_start == END - dt.timedelta(days=7)


def test_family_lines_first_then_the_spend_plan_on_what_they_leave():
    # m6i in us-east-1 at 4 $/h; other compute (no family) at 10 $/h
    con = _charges(_flat("AWS", 4, series="m6i", region="us-east-1") + _flat("AWS", 10))
    r = recommend(con, lookback_days=7, rate=D(0), terms=(1,))
    fam, spend = (next(x for x in r.lines if x.kind == k) for k in ("family", "spend"))
    assert fam.scope == "family:m6i@us-east-1" and fam.coverage_level == D(4)
    assert fam.annual_savings == D(4) * D("0.43") * 8760  # 1-year all-upfront family discount 43%
    assert spend.scope == "compute" and spend.coverage_level == D(10) and spend.optimized_on == D(10 * 168)
    # every option of every scope was optimized on its own: 6 family + 6 spend options (AWS has 3 payments × 2 terms)
    assert len(r.candidates) == 12
    assert {(c.term_years, c.payment) for c in r.candidates if c.kind == "family"} == {
        (t, p) for t in (1, 3) for p in ("no_upfront", "partial_upfront", "all_upfront")}


def test_hourly_rows_keep_the_peaks_daily_rows_lose_them():
    # 20 $/h for 12 hours, nothing for the other 12, every day: more than half of the hours are 0, so at any
    # discount below 50% the optimum is to buy nothing. Spread flat from daily rows it would be 10 $/h.
    hourly = []
    for day in range(7):
        for h in range(12):
            t = END - dt.timedelta(days=7 - day) + dt.timedelta(hours=h)
            hourly.append(("Microsoft", t, t + dt.timedelta(hours=1), "Standard", None, D(20), D(20), D(20), None, None))
    r = recommend(_charges(hourly), lookback_days=7, rate=D(0), terms=(1,), min_annual_savings=D(0))
    assert r.windows[0].resolution == "hourly" and r.lines == ()
    daily = _flat("Microsoft", 10, hours=24)
    r = recommend(_charges(daily), lookback_days=7, rate=D(0), terms=(1,))
    assert r.windows[0].resolution == "daily" and r.lines[0].coverage_level == D(10)
    assert any("daily rows" in n for n in r.notes)


def test_utilization_percentiles_of_the_lookback():
    # 40 h at 2 $/h, 40 h at 6, 88 h at 10 (168 h). The optimum is the ⌈n × d⌉-th smallest hour: at the AWS
    # 1-year no-upfront discount (28.5%) the ⌈47.88⌉ = 48th → 6; at 3-year all upfront (62%) the ⌈104.16⌉ = 105th → 10.
    rows = []
    values = [D(2)] * 40 + [D(6)] * 40 + [D(10)] * 88
    for i, v in enumerate(values):
        t = END - dt.timedelta(hours=168 - i)
        rows.append(("AWS", t, t + dt.timedelta(hours=1), "Standard", None, v, v, v, None, None))
    r = recommend(_charges(rows), lookback_days=7, rate=D(0), min_annual_savings=D(0))
    one = next(c for c in r.candidates if (c.term_years, c.payment) == (1, "no_upfront"))
    assert one.coverage_level == D(6)
    # hourly utilization min(s, 6) / 6: 2/6 in 40 hours, 1 in 128: P10 = the 17th smallest = 1/3, P50 = P90 = 1
    assert one.p10 == D(2) / D(6) and one.p50 == D(1) and one.p90 == D(1)
    assert one.break_even_utilization == 1 - D("0.285")
    three = next(c for c in r.candidates if (c.term_years, c.payment) == (3, "all_upfront"))
    assert three.coverage_level == D(10)  # optimized at its own discount, not the 1-year level


def test_hours_before_the_data_starts_are_not_hours_of_zero_use():
    # two days of 10 $/h and a 30-day lookback: counted as 28 days of 0, the optimum would be to buy nothing
    r = recommend(_charges(_flat("AWS", 10, days=2)), lookback_days=30, rate=D(0), terms=(1,), min_annual_savings=D(0))
    assert r.lines[0].coverage_level == D(10) and r.lines[0].window_start == END - dt.timedelta(days=2)
    assert any("only 2 days" in n for n in r.notes)


def test_unknown_provider_is_one_line():
    con = _charges(_flat("AWS", 1))
    with pytest.raises(ValueError, match="--provider 'Oracle'.*AWS, Google Cloud, Microsoft"):
        recommend(con, provider="Oracle")


# ---- the demo store ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from finops_xl.sample.generator import SampleSpec, generate

    out = tmp_path_factory.mktemp("advice")
    generate(SampleSpec(rows=30_000, months=3, seed=42), out / "exports")
    ingest([out / "exports"], out / "finops-store")
    return out


def test_uncovered_is_eligible_minus_covered_to_the_cent_against_the_raw_rows(demo):
    raw = duckdb.connect()
    files = str(demo / "exports" / "*.parquet")
    want = {}
    for provider, end in raw.execute(f"""SELECT ProviderName, max(ChargePeriodEnd) FROM read_parquet('{files}')
            WHERE ChargeCategory = 'Usage' AND ServiceCategory = 'Compute'
              AND (PricingCategory = 'Standard' OR CommitmentDiscountStatus = 'Used') GROUP BY 1""").fetchall():
        start = end - dt.timedelta(days=30)
        straddling, eligible, covered, uncovered = raw.execute(f"""
            SELECT count(*) FILTER (WHERE ChargePeriodStart < $s OR ChargePeriodEnd > $e),
                   sum(coalesce(ListCost, ContractedCost)),
                   sum(coalesce(ListCost, ContractedCost)) FILTER (WHERE CommitmentDiscountStatus = 'Used'),
                   sum(coalesce(ListCost, ContractedCost)) FILTER (WHERE PricingCategory = 'Standard')
            FROM read_parquet('{files}')
            WHERE ProviderName = $p AND ChargeCategory = 'Usage' AND ServiceCategory = 'Compute'
              AND (PricingCategory = 'Standard' OR CommitmentDiscountStatus = 'Used')
              AND ChargePeriodEnd > $s AND ChargePeriodStart < $e""", {"p": provider, "s": start, "e": end}).fetchall()[0]
        assert straddling == 0  # daily rows on midnight boundaries: whole rows are in the window
        want[provider] = (eligible, covered, uncovered)
    with CostStore(demo / "finops-store").reader() as con:
        r = recommend(con, lookback_days=30)
    got = {w.provider: tuple(sum((getattr(p, k) for p in w.profiles), D(0)) for k in ("eligible", "covered"))
           + (sum((p.uncovered_total for p in w.profiles), D(0)),) for w in r.windows}
    assert set(got) == set(want) == {"AWS", "Google Cloud", "Microsoft"}
    cent = D("0.01")
    for provider, (eligible, covered, uncovered) in want.items():
        g = got[provider]
        assert [x.quantize(cent) for x in g] == [D(x).quantize(cent) for x in (eligible, covered, uncovered)]
        assert (g[0] - g[1]).quantize(cent) == g[2].quantize(cent)
        assert covered > 0  # the demo's commitments cover part of it: the test would catch pooling them in


def test_demo_roll_up_is_a_short_list_one_provider_a_line(demo):
    with CostStore(demo / "finops-store").reader() as con:
        r = recommend(con, lookback_days=30)
    assert 3 <= len(r.lines) <= 40 < len(r.candidates)
    assert all(x.annual_savings >= 1000 for x in r.lines)
    spend = [x.provider for x in r.lines if x.kind == "spend"]
    assert len(spend) == len(set(spend))  # at most one spend plan per provider
    assert {x.start for x in r.lines} == {x.window_end.date() for x in r.lines}


def test_cli_recommend_csv_and_the_portfolio_still_shows(demo, capsys):
    store = str(demo / "finops-store")
    assert main(["commitments", "recommend", "--store", store, "--format", "csv", "--lookback", "7"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and {r["provider"] for r in rows} <= {"AWS", "Google Cloud", "Microsoft"}
    assert all(r["lookback_days"] == "7" for r in rows)
    assert main(["commitments", "recommend", "--store", store, "--provider", "AWS"]) == 0
    out = capsys.readouterr().out
    assert "AWS: 30 days" in out and "Microsoft" not in out.split("provider", 1)[1]
    assert main(["commitments", "--store", store]) == 0
    assert "Commitments as of" in capsys.readouterr().out
    assert main(["commitments", "recommend", "--store", store, "--lookback", "0"]) == 1
    assert "--lookback 0" in capsys.readouterr().err
    assert main(["commitments", "actions", "--store", store, "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("action,commitment_id,provider")


# ---- the action list on a hand-built portfolio -----------------------------------------------------

AS_OF = dt.date(2025, 7, 1)


def _close(x: D, y: D) -> bool:
    """Equal to 1e-9 (Decimal division at 28 digits rounds differently by the order of operations)."""
    return abs(x - y) < D("1e-9")


def _commitment(cid, provider, type_, end, months_left=1):
    return InventoryRow(cid, cid, provider, type_, "Usage", "USD", dt.date(2024, 7, 1), end, "ChargeDescription",
                        12, D(0), D(1000), AS_OF, (end - AS_OF).days, months_left, "active")


def test_expiring_commitments_renew_resize_or_lapse_worked_by_hand():
    inv = [_commitment("ri-renew", "AWS", "Reserved Instance", dt.date(2025, 8, 15)),
           _commitment("ri-resize", "AWS", "Reserved Instance", dt.date(2025, 9, 1)),
           _commitment("ri-lapse", "AWS", "Reserved Instance", dt.date(2025, 12, 1)),
           _commitment("ri-later", "AWS", "Reserved Instance", dt.date(2026, 6, 1))]
    stats = {"ri-renew": Stats(D(900), D(100), D(1500)),   # u = 90%
             "ri-resize": Stats(D(700), D(300), D(1200)),  # u = 70%
             "ri-lapse": Stats(D(300), D(700), D(500)),    # u = 30%
             "ri-later": Stats(D(1000), D(0), D(1600))}    # 335 days left: beyond 180, fully used: nothing
    got = {a.commitment_id: a for a in actions(inv, stats, AS_OF, options=ActionOptions(lookback_days=30))}
    month = D(730) / D(720)  # 30 days = 720 h of lookback → a month of 730 h
    renew, resize, lapse = got["ri-renew"], got["ri-resize"], got["ri-lapse"]
    assert (renew.action, renew.window, renew.days_left) == ("renew", 90, 45)
    assert _close(renew.new_size_monthly, D(1000) * month) and _close(renew.monthly_savings, D(500) * month)
    assert resize.action == "resize" and _close(resize.new_size_monthly, D("0.7") * D(1000) * month)
    assert _close(resize.monthly_savings, (D(1200) - D(700)) * month) and _close(resize.waste_avoided, D(300) * month)
    assert (lapse.action, lapse.window) == ("let lapse", 180)
    assert lapse.monthly_savings == 0 and _close(lapse.waste_avoided, D(700) * month)
    assert "ri-later" not in got
    assert list(got) == ["ri-renew", "ri-resize", "ri-lapse"]  # soonest first


def test_modification_candidates_each_with_its_reason():
    inv = [_commitment("az-res", "Microsoft", "Reservation", dt.date(2027, 7, 1), months_left=24),
           _commitment("aws-ri", "AWS", "Reserved Instance", dt.date(2027, 1, 1), months_left=18),
           _commitment("gcp-cud", "Google Cloud", "Committed Use Discount", dt.date(2027, 1, 1), months_left=18)]
    stats = {"az-res": Stats(D(500), D(500), D(900)),
             "aws-ri": Stats(D(800), D(200), D(1300), ("m6i@us-east-1",), D(120)),
             "gcp-cud": Stats(D(500), D(500), D(800))}
    got = [(a.action, a.commitment_id) for a in actions(inv, stats, AS_OF)]
    assert ("exchange", "az-res") in got and ("refund", "az-res") in got
    assert ("size flexibility", "aws-ri") in got and ("exchange", "aws-ri") in got
    assert ("hold", "gcp-cud") in got
    by = {(a.action, a.commitment_id): a for a in actions(inv, stats, AS_OF)}
    month = D(730) / D(720)
    # size flexibility can absorb at most the uncovered on-demand usage of its family: min(200, 120) a lookback
    assert _close(by[("size flexibility", "aws-ri")].waste_avoided, D(120) * month)
    # the refundable unused share of 24 months: 500 a lookback → 500 × 730/720 × 24, under the 50,000 cap
    refund = by[("refund", "az-res")]
    assert f"{D(500) * month * 24:.2f} refundable" in refund.reason and D(500) * month * 24 < AZURE_REFUND_LIMIT
    assert "cannot be cancelled" in by[("hold", "gcp-cud")].reason
