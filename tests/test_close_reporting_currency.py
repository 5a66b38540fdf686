"""The close in a reporting currency: a USD + NOK + EUR month translated into USD, worked by hand.

IAS 21.39 / ASC 830-30-45-3: income and expenses at the rates of the transaction dates (an average
rate for the period approximates them), assets and liabilities at the closing rate; the difference
is the translation difference."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal

import pytest

from finops_xl.cli import main
from finops_xl.close.journal import LedgerMap
from finops_xl.close.reporting_currency import RatesError, load_rates
from tests.conftest import write_csv_rows
from tests.test_accruals import HEADER, charge

D = Decimal
MAR = dt.date(2025, 3, 1)
L = LedgerMap()


def in_currency(row: list[str], currency: str) -> list[str]:
    row = list(row)
    row[HEADER.index("BillingCurrency")] = currency
    return row


@pytest.fixture
def store(tmp_path):
    """March complete (31 days) and not invoiced: USD 10.00 a day (sub-account 1), NOK 100.00 a day
    (2), EUR 5.00 a day (3): accruals of USD 310.00, NOK 3,100.00 and EUR 155.00, nothing projected."""
    days = [MAR.replace(day=d) for d in range(1, 32)]
    rows = [charge(d, 10, "1", "Compute", "EC2") for d in days]
    rows += [in_currency(charge(d, 100, "2", "Compute", "EC2"), "NOK") for d in days]
    rows += [in_currency(charge(d, 5, "3", "Storage", "S3"), "EUR") for d in days]
    src = write_csv_rows(tmp_path / "march.csv", HEADER, rows)
    path = tmp_path / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(path), str(src)]) == 0
    return path


RATES = """date,from_currency,to_currency,rate
2025-03-03,NOK,USD,0.0900
2025-03-31,NOK,USD,0.0950
2025-03-03,EUR,USD,1.0800
2025-03-31,EUR,USD,1.0900
"""


def test_usd_nok_eur_close_in_usd(store, tmp_path, capsys):
    """NOK: average (0.0900 + 0.0950) ÷ 2 = 0.0925, closing 0.0950. The accrual Dr expense
    3,100 × 0.0925 = 286.75 / Cr accrued liabilities 3,100 × 0.0950 = 294.50: the translation
    difference 7.75 is a debit. EUR: average 1.0850, closing 1.0900: Dr 155 × 1.085 = 168.175 →
    168.18 (half-even) / Cr 155 × 1.09 = 168.95: difference 0.77 debit. USD stays 310.00. The
    reversals mirror them on 1 April."""
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    journal = tmp_path / "je.csv"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--journal", str(journal),
                 "--reporting-currency", "USD", "--rates", str(rates)]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(journal.read_text())))
    assert {r["currency"] for r in rows} == {"USD"}

    def lines(entry_id):
        return sorted((r["account"], r["debit"], r["credit"]) for r in rows if r["entry_id"] == entry_id)

    assert lines("ACCR-2025-03-NOK") == sorted([
        ("6100", "286.75", "0.00"), ("2150", "0.00", "294.50"), ("7900", "7.75", "0.00")])
    assert lines("ACCR-2025-03-EUR") == sorted([
        ("6100", "168.18", "0.00"), ("2150", "0.00", "168.95"), ("7900", "0.77", "0.00")])
    assert lines("ACCR-2025-03-USD") == sorted([("6100", "310.00", "0.00"), ("2150", "0.00", "310.00")])
    assert lines("ACCR-2025-03-NOK-REV") == sorted([
        ("6100", "0.00", "286.75"), ("2150", "294.50", "0.00"), ("7900", "0.00", "7.75")])
    for eid in {r["entry_id"] for r in rows}:
        mine = [r for r in rows if r["entry_id"] == eid]
        assert sum(D(r["debit"]) for r in mine) == sum(D(r["credit"]) for r in mine)
    assert "NOK: expense 286.75, accrued liability 294.50" in out
    assert "EUR: expense 168.18, accrued liability 168.95" in out


def test_a_missing_rate_is_refused_by_name_and_month(store, tmp_path, capsys):
    rates = tmp_path / "rates.csv"
    rates.write_text("date,from_currency,to_currency,rate\n2025-03-31,EUR,USD,1.09\n2025-02-28,NOK,USD,0.09\n")
    journal = tmp_path / "je.csv"
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03", "--journal", str(journal),
                 "--reporting-currency", "USD", "--rates", str(rates)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no NOK→USD rate dated in 2025-03" in err and "2025-02-28" in err
    assert not journal.exists()
    assert not list(store.parent.glob("finops.close/ACCR-*")), "nothing is saved when a rate is missing"


def test_ecb_reference_rates_cross_through_the_euro(tmp_path):
    """ECB layout: units per 1 EUR. NOK→USD on a day = USD per EUR ÷ NOK per EUR."""
    ecb = tmp_path / "eurofxref-hist.csv"
    ecb.write_text("Date,USD,JPY,NOK,\n2025-03-31,1.0900,160.00,11.5000,\n2025-03-03,1.0800,N/A,12.0000,\n"
                   "2025-02-28,1.0400,157.00,11.7000,\n")
    r = load_rates(ecb)
    assert r.month_rate("EUR", "USD", MAR, "closing") == D("1.0900")
    assert r.month_rate("EUR", "USD", MAR, "average") == D("1.0850")
    assert r.month_rate("USD", "EUR", MAR, "closing") == D(1) / D("1.09")
    assert r.month_rate("NOK", "USD", MAR, "closing") == D("1.09") / D("11.5")
    assert r.month_rate("NOK", "USD", MAR, "average") == (D("1.08") / D("12") + D("1.09") / D("11.5")) / 2
    assert r.month_rate("JPY", "USD", MAR, "average") == D("1.09") / D("160")  # N/A days skipped
    with pytest.raises(RatesError, match="no EUR→CHF rate dated in 2025-03"):
        r.month_rate("EUR", "CHF", MAR, "average")


def test_a_bad_rates_file_names_line_and_column(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("date,from_currency,to_currency,rate\n2025-03-31,NOK,USD,abc\n")
    with pytest.raises(RatesError, match=r"r.csv: line 2: column rate: 'abc' is not a positive number"):
        load_rates(bad)


def test_variance_in_the_reporting_currency(tmp_path):
    """A NOK line: budget 3,000.00 NOK, actual 3,100.00 NOK; March average NOK→USD 0.0925: budget
    277.50 USD, actual 286.75 USD, variance 9.25 USD (= 100 NOK × 0.0925); the percentage stays 3.33%.
    A budget given in USD stays as it is: 280.00 USD budget → variance 6.75 USD."""
    from finops_xl.close.reporting_currency import translate_variance
    from finops_xl.close.variance import VarianceLine, VarianceReport

    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    r = load_rates(rates)
    line = VarianceLine("team", "Compute", MAR, D("3000.00"), D("3100.00"), D("100.00"), D(100) / D(3000))
    report = VarianceReport("EffectiveCost", "NOK", (line,))
    t = translate_variance(report, "USD", r)
    [ln] = t.lines
    assert (t.currency, ln.budget, ln.actual, ln.variance) == ("USD", D("277.50"), D("286.75"), D("9.25"))
    assert abs(ln.variance_pct - D(1) / D(30)) < D("1e-20") and t.variance == D("9.25")
    usd_budget = VarianceReport("EffectiveCost", "NOK", (dataclasses.replace(line, budget=D("280.00")),))
    [ln] = translate_variance(usd_budget, "USD", r, budget_currency="USD").lines
    assert (ln.budget, ln.actual, ln.variance) == (D("280.00"), D("286.75"), D("6.75"))
    with pytest.raises(RatesError, match="no NOK→USD rate dated in 2025-04"):
        translate_variance(VarianceReport("EffectiveCost", "NOK", (dataclasses.replace(line, month=dt.date(2025, 4, 1)),)),
                           "USD", r)
