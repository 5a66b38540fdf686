"""Valuation with risk, against values worked by hand (a month = 730 h; NPV discounts month m by 1.r^(m/12))."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from finops_xl.commitments import risk
from finops_xl.commitments.valuation import PurchaseOption

NO_UPFRONT = PurchaseOption("1y no upfront", 1, "no_upfront", D(0), D("0.6"))
ALL_UPFRONT = PurchaseOption("1y all upfront", 1, "all_upfront", D(5000), D(0))
HALF_YEAR_DROP = [D(1)] * 6 + [D("0.5")] * 6  # usage halves after six months


def test_utilization_path_npv_by_hand():
    flows = risk.monthly_flows(NO_UPFRONT, D(1), HALF_YEAR_DROP)
    # avoided = 730 × 1 $/h × (6 × 1 + 6 × 0.5) = 6,570; fees = 730 × 0.6 × 12 = 5,256
    assert sum(f.avoided for f in flows) == D(6570) and sum(f.fee for f in flows) == D(5256)
    assert risk.npv([f.pre_tax for f in flows], D(0)) == D(1314)
    # at 12.68250301319698% a year the monthly factor is exactly 1.01: month m is discounted by 1.01^m
    rate = D("1.01") ** 12 - 1
    by_hand = sum(((D(730) - D(438)) / D("1.01") ** m for m in range(1, 7)), D(0)) \
        + sum(((D(365) - D(438)) / D("1.01") ** m for m in range(7, 13)), D(0))
    assert abs(risk.npv([f.pre_tax for f in flows], rate) - by_hand) < D("1e-20")
    # a flat path at 75% is the single-scalar case: 730 × 12 × (0.75 − 0.6) = 1,314 too, the same total
    flat = risk.monthly_flows(NO_UPFRONT, D(1), risk.path(12, D("0.75")))
    assert risk.npv([f.pre_tax for f in flat], D(0)) == D(1314)


def test_after_tax_npv_by_hand_both_deduction_timings():
    flows = risk.monthly_flows(ALL_UPFRONT, D(1), HALF_YEAR_DROP)
    assert risk.npv([f.pre_tax for f in flows], D(0)) == D(6570) - D(5000)
    amortized = risk.after_tax(flows, D("0.25"), "amortized")
    # −5,000 + 6,570 × 0.75 + 0.25 × 5,000 (deducted 1/12 a month) = 1,177.50
    assert risk.npv([f.after_tax for f in amortized], D(0)).quantize(D("1e-12")) == D("1177.50")  # 28-digit division
    immediate = risk.after_tax(flows, D("0.25"), "immediate")
    assert immediate[0].after_tax == D(-3750)  # the deduction comes at purchase
    assert risk.npv([f.after_tax for f in immediate], D(0)) == D("1177.50")
    # with time value the earlier deduction is worth more: month-by-month by hand at 1% a month
    rate = D("1.01") ** 12 - 1
    tax_monthly = D("0.25") * D(5000) / 12
    saved = [D(730)] * 6 + [D(365)] * 6
    amortized_by_hand = D(-5000) + sum(((s * D("0.75") + tax_monthly) / D("1.01") ** m
                                        for m, s in enumerate(saved, start=1)), D(0))
    assert abs(risk.npv([f.after_tax for f in amortized], rate) - amortized_by_hand) < D("1e-20")
    assert risk.npv([f.after_tax for f in immediate], rate) > risk.npv([f.after_tax for f in amortized], rate)


def test_paths_decay_growth_and_price_drop():
    assert risk.path(3, D("0.9"), D("-0.19"))[0] == D("0.9")  # month 1 at the start
    assert risk.path(13, D("0.9"), D("-0.19"))[12] == D("0.9") * D("0.81")  # a year later: −19%
    assert risk.path(13, D("0.9"), D("0.5"))[12] == 1  # growth is capped at full use
    assert risk.price_path(13, D("0.10"))[12] == D("0.9")
    flows = risk.monthly_flows(NO_UPFRONT, D(1), [D(1)] * 12, [D("0.5")] * 12)  # the price halves
    assert sum(f.pre_tax for f in flows) == D(730) * 12 * (D("0.5") - D("0.6"))  # it now loses money
    with pytest.raises(ValueError, match="12 months"):
        risk.monthly_flows(NO_UPFRONT, D(1), [D(1)] * 11)


def test_residual_value_where_the_provider_allows_it():
    ri = PurchaseOption("3y all upfront", 3, "all_upfront", D(36000), D(0))
    # after 12 of 36 months, 24,000 of the upfront remains; the Marketplace keeps 12%
    assert risk.residual_value("AWS", "Reserved Instance", ri, 12) == D(24000) * D("0.88")
    assert risk.residual_value("Microsoft", "Reservation", ri, 12) == D(24000)
    big = PurchaseOption("3y all upfront", 3, "all_upfront", D(360000), D(0))
    assert risk.residual_value("Microsoft", "Reservation", big, 12) == D(50000)  # refund cap
    assert risk.residual_value("Microsoft", "Reservation", big, 12, exchange=True) == D(240000)
    assert risk.residual_value("AWS", "Savings Plan", ri, 12) == 0
    assert risk.residual_value("Google Cloud", "Committed Use Discount", ri, 12) == 0


def test_cash_schedule_and_rate_sensitivity():
    partial = PurchaseOption("1y partial", 1, "partial_upfront", D(2000), D("0.3"))
    rows = risk.cash_schedule(partial)
    assert rows[0].upfront == D(2000) and len(rows) == 13 and rows[5].recurring == D(219)
    assert sum(r.total for r in rows) == D(2000) + D(219) * 12
    names = [n for n, _ in risk.rate_guidance(D("0.07"), D("0.12"))]
    assert names[1].startswith("WACC") and names[2].startswith("hurdle")
    table = risk.sensitivity(NO_UPFRONT, D(1), D(1), [D(0), D("-0.5")], [D(0), D("0.10")])
    assert table[0][0] == D(730) * 12 * D("0.4")  # full use, no time value
    assert table[1][0] < table[0][0] and table[0][1] < table[0][0]  # decay and discounting both cost
