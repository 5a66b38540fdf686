"""Commitment purchase valuation: Excel-parity NPV/XNPV/IRR/XIRR/MIRR, break-even, cash flows.

Layers: reference vectors (tests/data/valuation/vectors.csv, each with its source), hypothesis
invariants, cash-flow tie-outs, and bad input with its message.
"""

from __future__ import annotations

import csv
import doctest
import json
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from finops_xl.commitments import valuation
from finops_xl.commitments.valuation import (
    ALL_UPFRONT,
    NO_UPFRONT,
    ON_DEMAND,
    PARTIAL_UPFRONT,
    PurchaseOption,
    breakeven_months,
    breakeven_utilization,
    cash_flows,
    compare,
    irr,
    mirr,
    npv_excel,
    npv_t0,
    spend_commitment_hour_cost,
    value,
    xirr,
    xnpv,
)

VECTORS = Path(__file__).parent / "data" / "valuation" / "vectors.csv"


# --------------------------------------------------------------------------------------------------
# reference vectors
# --------------------------------------------------------------------------------------------------


def _load_vectors() -> list[dict]:
    with VECTORS.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _call(function: str, args: dict):
    if "dates" in args:
        args = {**args, "dates": [date.fromisoformat(d) for d in args["dates"]]}
    if function in {"on_demand_avoided", "commitment_cost", "total_savings"}:
        option = PurchaseOption(
            "vector", args["term_years"], args["payment"], args["upfront"], args["recurring_hourly"]
        )
        v = value(option, args["on_demand_hourly"], date.fromisoformat(args["start"]), 0, args["utilization"])
        return getattr(v, function)
    return getattr(valuation, function)(**args)


def _round_sig(x: Decimal, digits: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(x.adjusted() - digits + 1), rounding=ROUND_HALF_EVEN)


@pytest.mark.parametrize("row", _load_vectors(), ids=lambda r: r["id"])
def test_reference_vector(row):
    assert row["source"] and row["locator"], "every vector names its source"
    result = _call(row["function"], json.loads(row["args"]))
    mode, _, param = row["compare"].partition(":")
    if mode == "none":
        assert result is None
        return
    got = Decimal(repr(result)) if isinstance(result, float) else Decimal(result)
    expected = Decimal(row["expected"])
    if mode == "exact":
        assert got == expected
    elif mode == "decimals":
        assert got.quantize(Decimal(1).scaleb(-int(param)), rounding=ROUND_HALF_EVEN) == expected
    elif mode == "sig":
        assert _round_sig(got, int(param)) == _round_sig(expected, int(param))
    elif mode == "abs":
        assert abs(got - expected) <= Decimal(param)
    elif mode == "rel":
        assert abs(got - expected) <= Decimal(param) * abs(expected)
    else:  # pragma: no cover - a typo in the CSV
        pytest.fail(f"unknown compare mode {row['compare']!r}")


def test_vectors_cover_every_core_function():
    functions = {r["function"] for r in _load_vectors()}
    assert {"xnpv", "xirr", "npv_t0", "npv_excel", "irr", "mirr", "breakeven_utilization",
            "spend_commitment_hour_cost"} <= functions


def test_doctests():
    failures, tried = doctest.testmod(valuation, optionflags=doctest.ELLIPSIS)
    assert tried > 10 and failures == 0


def test_xnpv_agrees_with_pyxirr_float():
    """An independent implementation (pyxirr, float64) agrees with the Decimal one to 1e-9 relative."""
    import pyxirr

    d = [date(2008, 1, 1), date(2008, 3, 1), date(2008, 10, 30), date(2009, 2, 15), date(2009, 4, 1)]
    v = [-10000, 2750, 4250, 3250, 2750]
    assert float(xnpv("0.09", v, d)) == pytest.approx(pyxirr.xnpv(0.09, d, v), rel=1e-12)


def test_xnpv_dates_after_first_may_be_in_any_order():
    """Excel: only dates[0] must be earliest; shuffling the rest does not change XNPV."""
    d = [date(2008, 1, 1), date(2008, 3, 1), date(2008, 10, 30), date(2009, 2, 15), date(2009, 4, 1)]
    v = [-10000, 2750, 4250, 3250, 2750]
    order = [0, 4, 2, 1, 3]
    assert xnpv("0.09", [v[i] for i in order], [d[i] for i in order]) == xnpv("0.09", v, d)


def test_npv_conventions_differ_by_one_period():
    # numpy-financial's 122.89 (t=0) and numpy<=1.16's 117.04 (Excel) are the same flows one period apart
    v = [-15000, 1500, 2500, 3500, 4500, 6000]
    assert npv_excel("0.05", v) * Decimal("1.05") == pytest.approx(npv_t0("0.05", v), abs=Decimal("1e-25"))


# --------------------------------------------------------------------------------------------------
# hypothesis invariants
# --------------------------------------------------------------------------------------------------

money = st.decimals(min_value=-10**7, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value="-0.5", max_value="2", places=4, allow_nan=False, allow_infinity=False)
flows = st.lists(money, min_size=1, max_size=40)


@st.composite
def dated_flows(draw):
    values = draw(flows)
    first = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)))
    offsets = draw(st.lists(st.integers(0, 3650), min_size=len(values) - 1, max_size=len(values) - 1))
    return values, [first] + [first + timedelta(days=o) for o in offsets]


@given(dated_flows())
def test_xnpv_at_rate_zero_is_the_sum(vd):
    values, dates = vd
    assert xnpv(0, values, dates) == sum(values, Decimal(0))


@given(rates, flows)
def test_npv_excel_is_npv_t0_one_period_later(rate, values):
    lhs = npv_excel(rate, values)
    rhs = npv_t0(rate, values) / (1 + rate)
    # both sides are computed in 28-digit Decimal arithmetic: allow a few units in the last place
    # of the largest magnitude involved
    scale = max(abs(lhs), sum((abs(v) for v in values), Decimal(1)))
    assert abs(lhs - rhs) <= Decimal("1e-24") * scale


@given(flows)
def test_npv_at_rate_zero_is_the_sum(values):
    assert npv_t0(0, values) == npv_excel(0, values) == sum(values, Decimal(0))


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=20), st.integers(1, 10**6))
def test_irr_zeroes_npv(inflows, outlay):
    values = [-outlay, *inflows]
    r = irr(values)
    assume(r is not None and r > -0.99)
    assert float(npv_t0(repr(r), values)) == pytest.approx(0, abs=1e-6 * outlay)


@given(dated_flows())
def test_xirr_zeroes_xnpv_or_is_none(vd):
    values, dates = vd
    r = xirr(values, dates)
    if not (any(v > 0 for v in values) and any(v < 0 for v in values)):
        assert r is None
        return
    assume(r is not None and -0.95 < r < 100)
    total = float(sum(abs(v) for v in values))
    assert float(xnpv(repr(r), values, dates)) == pytest.approx(0, abs=1e-6 * total)


on_demand = st.decimals(min_value="0.01", max_value="50", places=4)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@st.composite
def options(draw):
    term = draw(st.sampled_from((1, 3)))
    payment = draw(st.sampled_from((NO_UPFRONT, PARTIAL_UPFRONT, ALL_UPFRONT)))
    upfront = Decimal(0) if payment == NO_UPFRONT else draw(
        st.decimals(min_value="1", max_value="100000", places=2))
    recurring = Decimal(0) if payment == ALL_UPFRONT else draw(
        st.decimals(min_value="0.0001", max_value="40", places=4))
    return PurchaseOption("x", term, payment, upfront, recurring)


@given(options(), on_demand, starts)
@settings(max_examples=50)
def test_savings_vanish_at_breakeven_utilization(option, od, start):
    """At u = effective / on-demand the purchase saves exactly nothing; above it saves, below it loses."""
    u = breakeven_utilization(od, option.effective_hourly(start))
    assume(u <= 1)
    at = value(option, od, start, 0, u).total_savings
    assert abs(at) <= Decimal("1e-15") * (option.upfront + 1)
    assert option.discount(od, start) == 1 - u
    if u < 1:
        assert value(option, od, start, 0, min(Decimal(1), u + Decimal("0.01"))).total_savings > 0
    if u > Decimal("0.01"):
        assert value(option, od, start, 0, u - Decimal("0.01")).total_savings < 0


@given(options(), on_demand, starts, st.decimals(min_value=0, max_value=1, places=3))
@settings(max_examples=50)
def test_cash_flows_tie_out(option, od, start, u):
    rows = cash_flows(option, od, start, u)
    term_hours = (option.term_end(start) - start).days * 24
    assert len(rows) == 12 * option.term_years + 1
    assert [r.period for r in rows] == list(range(len(rows)))
    assert sum(r.hours for r in rows) == term_hours
    assert term_hours in {8760, 8784} if option.term_years == 1 else term_hours in {26280, 26304}
    assert sum(r.upfront for r in rows) == -option.upfront
    assert sum(r.recurring for r in rows) == -option.recurring_hourly * term_hours
    assert sum(r.on_demand_avoided for r in rows) == od * term_hours * u
    assert all(r.upfront == 0 for r in rows[1:]) and rows[0].recurring == rows[0].on_demand_avoided == 0
    assert all(r.upfront <= 0 and r.recurring <= 0 and r.on_demand_avoided >= 0 for r in rows)
    v = value(option, od, start, 0, u)
    assert v.npv == v.total_savings == sum((r.net for r in rows), Decimal(0))
    assert v.commitment_cost == option.upfront + option.recurring_hourly * term_hours


@given(options(), on_demand, starts)
@settings(max_examples=50)
def test_breakeven_month_is_first_non_negative_cumulative(option, od, start):
    rows = cash_flows(option, od, start)
    month = breakeven_months(option, od, start)
    cumulative = [sum((r.net for r in rows[: k + 1]), Decimal(0)) for k in range(len(rows))]
    hits = [k for k in range(1, len(rows)) if cumulative[k] >= 0]
    assert month == (hits[0] if hits else None)


# --------------------------------------------------------------------------------------------------
# purchase options, valuation, comparison
# --------------------------------------------------------------------------------------------------

START = date(2023, 1, 1)  # not a leap year: 8,760 hours, as in Cloudability's example


def test_cash_flow_dates_are_month_ends_in_arrears():
    opt = PurchaseOption("1y no upfront", 1, NO_UPFRONT, 0, "0.074")
    rows = cash_flows(opt, "0.126", date(2024, 1, 31))
    assert rows[0].date == date(2024, 1, 31)
    assert [r.date for r in rows[1:4]] == [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]
    assert rows[1].hours == 29 * 24  # 31 Jan → 29 Feb 2024


def test_no_upfront_has_no_irr_and_breaks_even_in_month_one():
    opt = PurchaseOption("1y no upfront", 1, NO_UPFRONT, 0, "0.074")
    v = value(opt, "0.126", START, "0.08")
    assert v.irr is None and v.mirr is None  # nothing invested: no sign change
    assert v.breakeven_month == 1
    assert v.npv > 0
    assert v.breakeven_utilization == Decimal("0.074") / Decimal("0.126")


def test_all_upfront_below_breakeven_never_pays_back():
    opt = PurchaseOption("1y all upfront", 1, ALL_UPFRONT, "648.24", 0)  # $0.074/h effective
    v = value(opt, "0.126", START, "0.08", utilization="0.5")
    assert v.breakeven_month is None and v.breakeven_date is None
    assert v.total_savings == Decimal("551.88") - Decimal("648.24")  # Cloudability's 50% case
    assert v.npv < 0
    assert v.irr is not None and v.irr < 0


def test_discounting_lowers_npv_of_an_upfront_purchase():
    opt = PurchaseOption("3y partial", 3, PARTIAL_UPFRONT, "1000", "0.03")
    v0 = value(opt, "0.126", START, 0)
    v8 = value(opt, "0.126", START, "0.08")
    assert v8.npv < v0.npv == v0.total_savings
    assert v8.irr is not None and v8.irr > 0.08  # positive NPV at 8% ⇔ IRR above 8%
    assert v8.mirr is not None and 0.08 < v8.mirr < v8.irr


def test_irr_above_rate_iff_npv_positive():
    opt = PurchaseOption("1y all upfront", 1, ALL_UPFRONT, "900", 0)
    v = value(opt, "0.126", START, "0.10")
    assert v.irr is not None
    assert (v.npv > 0) == (v.irr > 0.10)
    assert value(opt, "0.126", START, repr(v.irr)).npv == pytest.approx(Decimal(0), abs=Decimal("1e-6"))


def test_compare_puts_on_demand_first_with_npv_zero():
    opts = [
        PurchaseOption("1y no upfront", 1, NO_UPFRONT, 0, "0.08"),
        PurchaseOption("1y all upfront", 1, ALL_UPFRONT, "648.24", 0),
    ]
    rows = compare(opts, "0.126", START, "0.08")
    assert [r.name for r in rows] == [ON_DEMAND, "1y no upfront", "1y all upfront"]
    base = rows[0]
    assert base.npv == base.total_savings == base.commitment_cost == 0 and base.irr is None
    assert rows[1].total_savings == Decimal("1103.76") - Decimal("0.08") * 8760
    assert rows[2] == value(opts[1], "0.126", START, "0.08")


def test_from_monthly_uses_730_hours():
    opt = PurchaseOption.from_monthly("m", 1, NO_UPFRONT, 0, "73")
    assert opt.recurring_hourly == Decimal("0.1")


def test_spend_commitment_overflow_and_waste():
    assert spend_commitment_hour_cost(13, 0, 4, 5) == 13  # nothing used: commitment still paid
    assert spend_commitment_hour_cost(13, "3.25", 4, 5) == 13  # exactly covered
    assert spend_commitment_hour_cost(0, 4, 4, 5) == 20  # no plan: all on demand


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------

D5 = [date(2008, 1, 1), date(2008, 3, 1), date(2008, 10, 30), date(2009, 2, 15), date(2009, 4, 1)]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: xnpv("0.09", [], []), "values is empty"),
        (lambda: npv_excel("0.09", []), "values is empty"),
        (lambda: npv_t0("0.09", []), "values is empty"),
        (lambda: irr([]), "values is empty"),
        (lambda: xirr([], []), "values is empty"),
        (lambda: mirr([], "0.1", "0.1"), "values is empty"),
        (lambda: xnpv("0.09", [-1, 1], [date(2024, 2, 1), date(2024, 1, 1)]),
         r"dates out of order: dates\[1\] = 2024-01-01 precedes the first date dates\[0\] = 2024-02-01"),
        (lambda: xirr([-1, 1], [date(2024, 2, 1), date(2024, 1, 1)]), "dates out of order"),
        (lambda: xnpv("0.09", [-1, 1, 2], D5[:2]), "3 values, 2 dates"),
        (lambda: xnpv("0.09", [-1, 1], ["2024-01-01", "2024-02-01"]), r"dates\[0\] must be a date"),
        (lambda: xnpv(-1, [-1, 1], D5[:2]), "rate must be greater than -1"),
        (lambda: npv_excel("abc", [1]), "rate must be a number, got 'abc'"),
        (lambda: npv_t0("0.1", [1, float("nan")]), r"values\[1\] must be a finite number"),
        (lambda: npv_t0("0.1", [1, True]), r"values\[1\] must be a number, got a bool"),
        (lambda: npv_t0("0.1", "123"), "values must be a sequence of numbers"),
        (lambda: mirr([-1, 1], "-2", "0.1"), "finance_rate must be greater than -1"),
        (lambda: breakeven_utilization(0, "0.074"), "on_demand_rate must be positive"),
        (lambda: breakeven_utilization("0.126", "-1"), "effective_rate must not be negative"),
        (lambda: spend_commitment_hour_cost(13, 4, 0, 5), "commit_price must be positive"),
        (lambda: spend_commitment_hour_cost(13, -1, 4, 5), "units must not be negative"),
        (lambda: PurchaseOption("x", 2, NO_UPFRONT, 0, "0.1"), "term_years must be 1 or 3"),
        (lambda: PurchaseOption("x", 1, "monthly", 0, "0.1"), "payment must be one of"),
        (lambda: PurchaseOption("x", 1, ALL_UPFRONT, 100, "0.1"),
         "all_upfront needs upfront > 0 and recurring_hourly = 0"),
        (lambda: PurchaseOption("x", 1, NO_UPFRONT, 100, "0.1"), "no_upfront needs upfront = 0"),
        (lambda: PurchaseOption("x", 1, PARTIAL_UPFRONT, -5, "0.1"), "not negative"),
        (lambda: cash_flows(PurchaseOption("x", 1, NO_UPFRONT, 0, "0.1"), "0.2", START, "1.5"),
         "utilization must be between 0 and 1"),
        (lambda: cash_flows("x", "0.2", START), "option must be a PurchaseOption"),
        (lambda: compare([], "0.2", START, "0.08"), "options is empty"),
        (lambda: compare([PurchaseOption("a", 1, NO_UPFRONT, 0, "0.1")] * 2, "0.2", START, "0.08"),
         "option names must be unique"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_no_sign_change_is_none_not_an_error():
    assert irr([1, 2, 3]) is None
    assert xirr([1, 2], D5[:2]) is None
    assert mirr([1, 2], "0.1", "0.1") is None
