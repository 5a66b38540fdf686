"""The close functions through the Office.js call path. Reference values:

- AWS Cost and Usage Reports guide, "Amortizing reservations": "if you pay $365 for an All Upfront
  RI for one year ... that instance costs you $1 a day, amortized" → January = 31 days × $1.00.
- Microsoft Learn, "View amortized benefit costs": "$12,016.00, purchased on October 23, 2019 ...
  the term's duration is 366 days ... $12,016 / 366 = $32.83 per day. November has 30 days"
  → November = 30 × 12,016 / 366 = 984.918… → 984.92 (the doc's ~$984.90 rounds the daily rate
  first).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import xlwings

from tests.conftest import run_without_duckdb, sample_store
from tests.test_udfs_officejs import call, serial


def test_aws_all_upfront_ri_is_a_dollar_a_day():
    assert call("AMORT", serial(dt.date(2022, 1, 1)), 12, 365, serial(dt.date(2022, 1, 1))) == [[31.0]]
    assert call("AMORT", serial(dt.date(2022, 1, 1)), 12, 365, serial(dt.date(2022, 2, 1))) == [[28.0]]


def test_azure_leap_year_term_per_day():
    got = call("AMORT", serial(dt.date(2019, 10, 23)), 12, 12016, serial(dt.date(2019, 11, 1)))[0][0]
    assert got == 984.92 and abs(got - 30 * 32.83) < 0.15


def test_schedule_spills_and_sums_to_the_upfront():
    table = call("AMORT_SCHEDULE", serial(dt.date(2023, 3, 1)), 36, 10000, 0, "daily")
    assert table[0] == ["month", "days", "opening", "purchases", "amortization", "closing",
                        "current", "noncurrent", "recurring"]
    body = table[1:]
    assert len(body) == 36
    assert sum(Decimal(str(r[4])) for r in body) == Decimal(10000)
    assert body[-1][5] == 0 and body[0][3] == 10000
    feb_2024 = next(r for r in body if r[1] == 29)  # the leap month has 29 days of the term
    assert feb_2024[4] == 264.6  # 10,000 × 29 / 1,096 = 264.598… (hand-derived)


def test_prepaid_balance_is_upfront_less_amortization_to_date():
    args = (serial(dt.date(2024, 1, 1)), 12, 365)
    june = call("PREPAID_BALANCE", *args, serial(dt.date(2024, 6, 1)))[0][0]
    amortized = sum(Decimal(str(call("AMORT", *args, serial(dt.date(2024, m, 1)))[0][0])) for m in range(1, 7))
    assert Decimal(str(june)) == Decimal(365) - amortized


@pytest.mark.parametrize("args,fragment", [
    ((serial(dt.date(2024, 1, 1)), 0, 365, serial(dt.date(2024, 1, 1))), "term_months must be between"),
    ((serial(dt.date(2024, 1, 1)), 12, -5, serial(dt.date(2024, 1, 1))), "upfront cannot be negative"),
    ((serial(dt.date(2024, 1, 1)), 12, 365, serial(dt.date(2024, 1, 1)), "weekly"), "method must be"),
])
def test_bad_commitment_arguments(args, fragment):
    with pytest.raises(xlwings.XlwingsError, match=fragment):
        call("AMORT", *args)


def test_amortization_functions_run_without_duckdb():
    printed = run_without_duckdb("""
        import datetime as dt
        import finops_udfs
        print(finops_udfs.FINOPS_AMORT(dt.date(2022, 1, 1), 12, 365, dt.date(2022, 3, 1)))
    """)
    assert printed == "31.0"


@pytest.fixture(scope="module")
def allocated(tmp_path_factory):
    from finops_xl.sample.generator import SampleSpec

    return sample_store(tmp_path_factory.mktemp("close-udf"), SampleSpec(rows=15_000, months=3, seed=12))


def test_accrual_and_journal_from_the_store(allocated):
    from finops_xl.close.accruals import accrue
    from finops_xl.store.store import CostStore

    march = serial(dt.date(2025, 3, 1))
    total = call("ACCRUAL", march, 0, serial(dt.date(2025, 3, 25)), str(allocated))[0][0]
    with CostStore(allocated).reader() as con:
        want = accrue(con, dt.date(2025, 3, 1), cutoff=dt.date(2025, 3, 25)).total("accrual", "USD")
    assert total == float(want) and total > 0
    with pytest.raises(xlwings.XlwingsError, match="nothing to accrue: the month's data is complete"):
        call("JOURNAL", march, "accrual", str(allocated))  # generated data is fully invoiced
    lines = call("JOURNAL", march, "amortization", str(allocated))
    assert lines[0][:3] == ["entry", "date", "kind"] and {r[2] for r in lines[1:]} == {"amortization"}
    for entry_id in {r[0] for r in lines[1:]}:  # every entry balances
        rows = [r for r in lines[1:] if r[0] == entry_id]
        assert round(sum(r[5] for r in rows), 2) == round(sum(r[6] for r in rows), 2)
    with pytest.raises(xlwings.XlwingsError, match="no accrual for owner 'nobody'"):
        call("ACCRUAL", march, "nobody", 0, str(allocated))
