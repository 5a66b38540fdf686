"""Capitalization of internal-use software against a published worked example.

Source: SuperfastCPA, "BAR CPA Practice Questions: Calculating Capitalized Software Development Costs
and Amortization" (https://www.superfastcpa.com/bar-cpa-practice-questions-calculating-capitalized-
software-development-costs-and-amortization), ASC 350-40 stages: "Ridgepoint Corp. incurs $40,000 on
planning → expensed, $75,000 on coding → capitalized, $25,000 on testing → capitalized, $12,000 on
training → expensed. Total capitalized: $100,000. Total expensed: $52,000." Amortization begins once
the software is ready for its intended use, straight-line over the useful life (ASC 350-40-35-4).

The example's costs become cloud charges tagged ``project=ridgepoint`` on dates in each stage:
planning 2025-01-15 (preliminary project stage, before development starts on 2025-02-01), coding
2025-03-10 and testing 2025-04-08 (application development stage), training 2025-04-20 (after the
software is placed in service on 2025-04-16: post-implementation, expensed). Useful life 36 months.

Amortization, by hand, under the module's stated convention (capitalized ÷ life per full month; the
in-service month prorated by its days in service; the month the life ends takes the rest):
  per full month 100,000 ÷ 36 = 2,777.777… → 2,777.78;
  April 2025, in service 16–30 April = 15 of 30 days: 2,777.777… × 15/30 = 1,388.888… → 1,388.89;
  May 2025 … March 2028: 35 full months × 2,777.78 = 97,222.30;
  April 2028 (the life ends on 16 April 2028) takes the rest: 100,000 − 1,388.89 − 97,222.30 = 1,388.81.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from finops_xl.cli import main
from finops_xl.close import capitalization as cap
from finops_xl.close.journal import LedgerMap
from finops_xl.store.store import CostStore
from tests.test_accruals import charge, write

D = Decimal
L = LedgerMap()
TAG = {"project": "ridgepoint"}
PROJECT = cap.Project("ridgepoint", "tag:project=ridgepoint", dt.date(2025, 2, 1), dt.date(2025, 4, 16), 36)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("ridgepoint")
    rows = [charge(dt.date(2025, 1, 15), "40000.00", "1", "Compute", "EC2", tags=TAG),   # planning
            charge(dt.date(2025, 3, 10), "75000.00", "1", "Compute", "EC2", tags=TAG),   # coding
            charge(dt.date(2025, 4, 8), "25000.00", "1", "Compute", "EC2", tags=TAG),    # testing
            charge(dt.date(2025, 4, 20), "12000.00", "1", "Compute", "EC2", tags=TAG)]   # training
    src = write(root / "ridgepoint.csv", rows)
    path = root / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(path), str(src)]) == 0
    return CostStore(path)


def _entries(store, month):
    with store.reader() as con:
        return {e.kind: e for e in cap.capitalization_entries(con, month, [PROJECT], L)}


def test_stages_capitalize_100000_and_expense_52000(store):
    with store.reader() as con:
        by_month = cap.capitalized_by_month(con, PROJECT)
        (spent,) = con.execute("SELECT sum(EffectiveCost) FROM charges").fetchone()
    assert {m: v for (m, _cur, _cat), v in by_month.items()} == {
        dt.date(2025, 3, 1): D("75000.00"), dt.date(2025, 4, 1): D("25000.00")}
    capitalized = sum(by_month.values(), D(0))
    assert capitalized == D("100000.00")
    assert D(spent) - capitalized == D("52000.00")  # planning + training, expensed as incurred
    assert _entries(store, dt.date(2025, 1, 1)) == {}  # the preliminary stage posts nothing


def test_the_entries_of_the_in_service_month(store):
    april = _entries(store, dt.date(2025, 4, 1))
    assert april["capitalization"].total == D("25000.00")
    transfer = april["capitalization-transfer"]
    assert (transfer.date, transfer.total) == (dt.date(2025, 4, 16), D("100000.00"))
    assert {(l.account, l.debit, l.credit) for l in transfer.lines} == {
        (L.capitalized_software, D("100000.00"), D(0)), (L.asset_under_construction, D(0), D("100000.00"))}
    amort = april["software-amortization"]
    assert (amort.date, amort.total) == (dt.date(2025, 4, 30), D("1388.89"))
    assert _entries(store, dt.date(2025, 5, 1))["software-amortization"].total == D("2777.78")
    assert _entries(store, dt.date(2025, 3, 1))["capitalization"].total == D("75000.00")


def test_the_schedule_over_the_useful_life(store):
    with store.reader() as con:
        rows = [r for r in cap.project_report(con, [PROJECT], dt.date(2028, 5, 1))]
    by = {r.month: r for r in rows}
    assert by[dt.date(2025, 4, 1)].amortized == D("1388.89")
    assert all(by[m].amortized == D("2777.78") for m in by if dt.date(2025, 5, 1) <= m <= dt.date(2028, 3, 1))
    assert len([m for m in by if dt.date(2025, 5, 1) <= m <= dt.date(2028, 3, 1)]) == 35
    assert by[dt.date(2028, 4, 1)].amortized == D("1388.81")
    assert by[dt.date(2028, 3, 1)].net_book_value == D("1388.81")
    assert by[dt.date(2028, 4, 1)].net_book_value == 0 and by[dt.date(2028, 5, 1)].stage == "fully amortized"
    assert sum(r.amortized for r in rows) == D("100000.00")
