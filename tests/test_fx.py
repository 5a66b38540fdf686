"""FX: average vs closing rates, inverse rates, identity, and clear errors for missing or bad rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finops_xl.close.fx import (
    MissingRateError,
    RateTable,
    RateTableError,
    convert,
    load_rates,
)

D = Decimal
JAN = dt.date(2025, 1, 15)

RATES_CSV = """month,date,from_currency,to_currency,rate,kind
2025-01,,EUR,USD,1.0350,average
,2025-01-31,EUR,USD,1.0420,closing
2025-02,,EUR,USD,1.0410,average
2025-01,,USD,JPY,156.25,average
2025-01,,GBP,EUR,1.2,closing
2025-01,,EUR,GBP,0.8,closing
"""


@pytest.fixture
def rates(tmp_path) -> RateTable:
    path = tmp_path / "rates.csv"
    path.write_text(RATES_CSV, encoding="utf-8")
    return load_rates(path)


def test_average_and_closing_rates(rates):
    """1,000 EUR at January's average 1.0350 = 1,035.00 USD; at its closing 1.0420 = 1,042.00."""
    avg = convert(D("1000.00"), "EUR", "USD", JAN, "average", rates)
    close = convert(D("1000.00"), "EUR", "USD", JAN, "closing", rates)
    assert (avg.amount, avg.rate, avg.source, avg.inverse) == \
        (D("1035"), D("1.0350"), "rates.csv row 1", False)
    assert (close.amount, close.rate, close.source) == (D("1042"), D("1.0420"), "rates.csv row 2")
    assert avg.month == close.month == dt.date(2025, 1, 1)
    # February has its own average rate: 1,000 × 1.0410
    assert convert(D("1000"), "EUR", "USD", dt.date(2025, 2, 28), "average", rates).amount == D("1041")
    # 12 decimals, half-even: 0.01 EUR × 1.0350 = 0.010350 USD exactly
    assert convert(D("0.01"), "eur", "usd", JAN, "average", rates).amount == D("0.010350000000")


def test_inverse_rate_is_derived_when_only_the_other_direction_is_given(rates):
    """USD→EUR from EUR→USD 1.0350: 1,035 USD ÷ 1.0350 = 1,000 EUR; the rate shown is 1 ÷ 1.0350."""
    c = convert(D("1035"), "USD", "EUR", JAN, "average", rates)
    assert c.amount == D("1000")
    assert c.inverse and c.source == "inverse of rates.csv row 1"
    assert c.rate == D("0.9661835748792270531400966184")  # 1 / 1.035 to 28 significant digits
    # 100 USD ÷ 1.0350 = 96.618357487922705... → 12 decimals, half-even
    assert convert(D("100"), "USD", "EUR", JAN, "average", rates).amount == D("96.618357487923")
    # JPY→USD only via the inverse: 156.25 JPY ÷ 156.25 = 1 USD
    assert convert(D("156.25"), "JPY", "USD", JAN, "average", rates).amount == D("1")
    # both directions given (GBP→EUR 1.2, EUR→GBP 0.8, not each other's inverse): each uses its own
    assert convert(D("100"), "EUR", "GBP", JAN, "closing", rates).amount == D("80")
    assert convert(D("100"), "GBP", "EUR", JAN, "closing", rates).amount == D("120")


def test_same_currency_is_identity_without_a_table():
    c = convert(D("12.345"), "USD", "usd", JAN, "closing", None)
    assert (c.amount, c.rate, c.source) == (D("12.345"), D(1), "identity")


def test_missing_rate_names_the_pair_and_month(rates):
    with pytest.raises(MissingRateError, match=r"no average rate for EUR to USD in 2025-03 \(nor USD to "
                                               r"EUR to invert\); the table has average rates for "
                                               r"EUR/USD in 2025-01, 2025-02"):
        convert(D("1"), "EUR", "USD", dt.date(2025, 3, 1), "average", rates)
    with pytest.raises(MissingRateError, match="no closing rate for CHF to USD in 2025-01.*no closing "
                                               "rate for CHF/USD in any month"):
        convert(D("1"), "CHF", "USD", JAN, "closing", rates)
    with pytest.raises(MissingRateError, match="no rate table given to convert EUR to USD"):
        convert(D("1"), "EUR", "USD", JAN, "average", None)


def test_float_money_and_unknown_kind_are_refused(rates):
    with pytest.raises(TypeError, match="money is Decimal"):
        convert(1.1, "EUR", "USD", JAN, "average", rates)
    with pytest.raises(ValueError, match="kind must be average or closing"):
        convert(D("1"), "EUR", "USD", JAN, "spot", rates)


def test_bad_rate_tables_list_every_problem(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("month,date,from_currency,to_currency,rate,kind\n"
                    "2025-13,,EUR,USD,1.1,average\n"
                    "2025-01,2025-01-31,EUR,USD,1.1,average\n"
                    "2025-01,,EURO,USD,abc,monthly\n"
                    "2025-01,,EUR,USD,-1,average\n"
                    "2025-01,,EUR,USD,1.1,average\n"
                    "2025-01,,EUR,USD,1.2,average\n"
                    "2025-01,,USD,USD,2,average\n", encoding="utf-8")
    with pytest.raises(RateTableError) as err:
        load_rates(path)
    assert [(row, col) for row, col, _ in err.value.problems] == [
        (1, "month"), (2, "month"), (3, "from_currency"), (3, "rate"), (3, "kind"), (4, "rate"),
        (6, "rate"), (7, "rate")]
    text = str(err.value)
    assert "bad.csv: row 1, column month: '2025-13' is not a month (YYYY-MM)" in text
    assert "second average rate for EUR to USD in 2025-01 (first on row 5)" in text
    assert "USD to itself must be 1" in text
    (tmp_path / "cols.csv").write_text("from_currency,to_currency,rate\n", encoding="utf-8")
    with pytest.raises(RateTableError, match="column kind: missing column"):
        load_rates(tmp_path / "cols.csv")


RATE = st.decimals(min_value=D("0.0001"), max_value=D("20000"), places=4)
AMOUNT = st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=2)


@given(AMOUNT, RATE)
def test_round_trip_through_the_inverse(amount, rate):
    table = RateTable.from_rows([("2025-01", "EUR", "XYZ", str(rate), "average")])
    there = convert(amount, "EUR", "XYZ", JAN, "average", table)
    assert there.amount == amount * rate  # exact: 2 + 4 decimals fit in 12
    back = convert(there.amount, "XYZ", "EUR", JAN, "average", table)
    assert back.inverse and back.amount == amount  # (amount × rate) ÷ rate is exact
