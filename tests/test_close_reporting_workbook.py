"""The close workbook in a reporting currency: a USD + NOK + EUR month shown in USD, worked by hand.

The store and rates are those of tests/test_close_reporting_currency.py: March 2025 complete and not
invoiced — USD 10.00 a day, NOK 100.00 a day, EUR 5.00 a day (31 days) — and two daily rates per
pair. By hand: NOK→USD average (0.0900 + 0.0950) ÷ 2 = 0.0925, closing 0.0950; EUR→USD average
(1.0800 + 1.0900) ÷ 2 = 1.0850, closing 1.0900 (IAS 21.39–40: expenses at the average rate, the
accrued liability at the closing rate)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from finops_xl.cli import main
from finops_xl.data import allocation_rules
from tests.libreoffice import convert
from tests.test_close_reporting_currency import RATES, store  # noqa: F401 (the fixture)

D = Decimal
OK = "✓"


def _rows(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def _find(ws, text, column=0):
    """The first row whose ``column`` cell is ``text``."""
    for row in _rows(ws):
        if len(row) > column and row[column] == text:
            return row
    raise AssertionError(f"no row {text!r} on {ws.title}")


def test_the_close_workbook_of_a_multi_currency_month_in_usd(store, tmp_path, capsys):  # noqa: F811
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    book, journal = tmp_path / "close.xlsx", tmp_path / "je.csv"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--journal", str(journal),
                 "--reporting-currency", "USD", "--rates", str(rates), "--out", str(book)]) == 0, \
        capsys.readouterr().err
    [recalculated] = convert([book], tmp_path / "out")
    wb = load_workbook(recalculated, data_only=True)

    settings = wb["Settings"]
    assert _find(settings, "Currency")[1] == "USD"
    assert _find(settings, "Reporting currency")[1] == "USD"
    assert _find(settings, "Rates")[1] == str(rates)
    nok, eur = _find(settings, "NOK→USD"), _find(settings, "EUR→USD")
    assert (D(str(nok[1])), D(str(nok[2]))) == (D("0.0925"), D("0.095"))
    assert (D(str(eur[1])), D(str(eur[2]))) == (D("1.085"), D("1.09"))

    for name in wb.sheetnames:  # each sheet states the currency and the rates it was translated at
        if name in ("Settings", "Ledger map"):
            continue
        title = str(wb[name]["A1"].value)
        assert "in USD" in title and "rates.csv" in title, (name, title)

    # the accrual lines, each at its currency's average rate: USD 310.00, NOK 3,100.00 × 0.0925 =
    # 286.75, EUR 155.00 × 1.0850 = 168.175 (exact; rounded only when posted)
    accruals = _rows(wb["Accruals"])
    head = next(i for i, r in enumerate(accruals) if r[0] == "Owner")
    col = accruals[head].index("Accrual")
    billed_in = accruals[head].index("Billed in")
    got = {r[billed_in]: D(str(r[col])).quantize(D("0.001")) for r in accruals[head + 1:head + 4]}
    assert got == {"USD": D("310.000"), "NOK": D("286.750"), "EUR": D("168.175")}
    total = next(r for r in accruals[head + 1:] if r[0] == "Total")
    assert D(str(total[col])).quantize(D("0.001")) == D("764.925")

    # the journal sheet holds the journal CSV's translated entries, line for line
    rows = list(csv.DictReader(io.StringIO(journal.read_text())))
    lines = _rows(wb["Journal"])
    jhead = next(i for i, r in enumerate(lines) if r[0] == "Entry key")
    cents = D("0.01")
    sheet_lines = sorted((r[1], str(r[4]).split()[0], D(str(r[6] or 0)).quantize(cents),
                          D(str(r[7] or 0)).quantize(cents), r[8])
                         for r in lines[jhead + 1:] if r[1])  # the sheet's account is "number name"
    csv_lines = sorted((r["entry_id"], r["account"], D(r["debit"]), D(r["credit"]), r["currency"])
                       for r in rows)
    assert sheet_lines == csv_lines
    assert ("ACCR-2025-03-NOK", "7900", D("7.75"), D("0.00"), "USD") in sheet_lines  # 294.50 − 286.75
    assert ("ACCR-2025-03-EUR", "2150", D("0.00"), D("168.95"), "USD") in sheet_lines  # 155 × 1.09

    summary = _rows(wb["Summary"])
    accrual_figure = next(r for r in summary if str(r[0]).startswith("Accrual (unbilled cost"))
    assert D(str(accrual_figure[1])).quantize(D("0.001")) == D("764.925")
    checks = summary[next(i for i, r in enumerate(summary) if r[0] == "Checks") + 1:]
    results = {r[0]: r[1] for r in checks if r[0]}
    assert results and all(v == OK for v in results.values()), results


def test_a_multi_currency_workbook_without_rates_says_what_to_give(store, tmp_path, capsys):  # noqa: F811
    book = tmp_path / "close.xlsx"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--out", str(book)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--reporting-currency" in err and "NOK" in err
    assert not book.exists()


def test_a_budget_is_not_counted_once_per_billing_currency(store, tmp_path, capsys):  # noqa: F811
    rates, budget = tmp_path / "rates.csv", tmp_path / "budget.csv"
    rates.write_text(RATES)
    budget.write_text("owner,service_category,month,amount\nteam,Compute,2025-03,500.00\n")
    assert main(["allocate", "--store", str(store), "--rules", str(allocation_rules())]) == 0
    capsys.readouterr()
    book = tmp_path / "close.xlsx"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--reporting-currency", "USD",
                 "--rates", str(rates), "--budget", str(budget), "--out", str(book)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "budget" in err and "EUR, NOK, USD" in err
    assert not book.exists()


def test_the_allocation_of_every_currency_in_usd_ties(store, tmp_path, capsys):  # noqa: F811
    """Allocated: the Allocation sheet's total EffectiveCost is 310.00 + 3,100.00 × 0.0925 +
    155.00 × 1.0850 = 764.925 USD, tied to the store's allocation translated the same way."""
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    assert main(["allocate", "--store", str(store), "--rules", str(allocation_rules())]) == 0
    book = tmp_path / "close.xlsx"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--reporting-currency", "USD",
                 "--rates", str(rates), "--out", str(book)]) == 0, capsys.readouterr().err
    [recalculated] = convert([book], tmp_path / "out")
    wb = load_workbook(recalculated, data_only=True)
    rows = _rows(wb["Allocation"])
    head = next(i for i, r in enumerate(rows) if r[0] == "Owner")
    col = rows[head].index("Total EffectiveCost")
    total = next(r for r in rows[head + 1:] if r[0] == "Total")
    assert D(str(total[col])).quantize(D("0.001")) == D("764.925")
    summary = _rows(wb["Summary"])
    checks = summary[next(i for i, r in enumerate(summary) if r[0] == "Checks") + 1:]
    results = {r[0]: r[1] for r in checks if r[0]}
    assert "Allocation ties to the store" in results and all(v == OK for v in results.values()), results


def test_a_locked_multi_currency_month_rebuilds_its_workbook_in_usd(store, tmp_path, capsys):  # noqa: F811
    """Locked with its journal in USD, the month's workbook is rebuilt from the store as of the lock,
    in USD, with the locked accrual entries: NOK's translation line 7.75 (294.50 − 286.75)."""
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    usd = ["--reporting-currency", "USD", "--rates", str(rates)]
    assert main(["close", "--store", str(store), "--month", "2025-03", "--lock", "--by", "controller", *usd]) == 0
    book = tmp_path / "locked.xlsx"
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03", "--out", str(book), *usd]) == 0, \
        capsys.readouterr().err
    wb = load_workbook(book)
    assert "in USD" in str(wb["Journal"]["A1"].value)
    lines = _rows(wb["Journal"])
    jhead = next(i for i, r in enumerate(lines) if r[0] == "Entry key")
    got = {(r[1], str(r[4]).split()[0], D(str(r[6] or 0)).quantize(D("0.01"))) for r in lines[jhead + 1:] if r[1]}
    assert ("ACCR-2025-03-NOK", "7900", D("7.75")) in got
    assert {r[8] for r in lines[jhead + 1:] if r[1]} == {"USD"}


def test_capitalization_in_usd(store, tmp_path, capsys):  # noqa: F811
    """Project atlas = sub-account 2 (NOK 100.00 a day), developed 1–19 March, in service 20 March for
    12 months: capitalized 19 × 100 = 1,900.00 NOK; March amortization 1,900 ÷ 12 × 12/31 days =
    61.29 NOK; book value 1,838.71 NOK. In USD: 1,900 × 0.0925 = 175.75 and 61.29 × 0.0925 =
    5.669… → 5.67 (average rate), 1,838.71 × 0.0950 = 174.677… → 174.68 (closing rate)."""
    rates, rules = tmp_path / "rates.csv", tmp_path / "cap.csv"
    rates.write_text(RATES)
    rules.write_text("project,match,development_start,in_service,useful_life_months\n"
                     "atlas,sub_account=2,2025-03-01,2025-03-20,12\n")
    book = tmp_path / "close.xlsx"
    assert main(["close", "--store", str(store), "--month", "2025-03", "--reporting-currency", "USD",
                 "--rates", str(rates), "--capitalization", str(rules), "--out", str(book)]) == 0, \
        capsys.readouterr().err
    rows = _rows(load_workbook(book)["Capitalization"])
    head = next(i for i, r in enumerate(rows) if r[0] == "Project")
    names = rows[head]
    [atlas] = [r for r in rows[head + 1:] if r[0] == "atlas"]
    got = {k: D(str(atlas[names.index(k)])) for k in ("Capitalized", "Amortized", "Net book value")}
    assert got == {"Capitalized": D("175.75"), "Amortized": D("5.67"), "Net book value": D("174.68")}
    assert "in USD" in str(rows[0][0])
