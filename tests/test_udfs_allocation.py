"""FINOPS.ALLOCATE and FINOPS.ALLOCATION_COVERAGE through the Office.js call path, and the
DuckDB-free import that xlwings Lite needs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import xlwings

from finops_xl.allocation.engine import allocate
from finops_xl.allocation.rules import rules_from_dict
from finops_xl.data import focus_sample_csv
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import run_without_duckdb, sample_store
from tests.test_udfs_officejs import call, serial


@pytest.mark.parametrize("amount,weights,decimals,expected", [
    (100, [[1], [1], [1]], None, [[33.34], [33.33], [33.33]]),          # a column stays a column
    (100, [[1, 1, 1]], None, [[33.34, 33.33, 33.33]]),                  # a row stays a row
    (10, [[60], [40]], None, [[6.0], [4.0]]),
    (-7, [[2], [1]], None, [[-4.67], [-2.33]]),                          # credits split like costs
    (1000, [[1], [2]], 0, [[333.0], [667.0]]),
    (0.05, [[1], [1], [1], [1]], None, [[0.02], [0.01], [0.01], [0.01]]),
    (10.005, [[1], [1]], None, [[5.0], [5.0]]),                          # 10.005 → 10.00 (half-even)
])
def test_allocate_hand_derived(amount, weights, decimals, expected):
    args = [amount, weights] + ([] if decimals is None else [decimals])
    assert call("ALLOCATE", *args) == expected


@pytest.mark.parametrize("weights,fragment", [
    ([[1], [-1]], "weights cannot be negative"), ([[0], [0]], "add up to 0"),
    ([["a"], [1]], "is not a number"),
])
def test_allocate_bad_weights(weights, fragment):
    with pytest.raises(xlwings.XlwingsError, match=fragment):
        call("ALLOCATE", 100, weights)


def test_allocation_coverage(tmp_path):
    store = tmp_path / "s.duckdb"
    ingest([focus_sample_csv()], store)
    with pytest.raises(xlwings.XlwingsError, match="no allocation yet: run finops-xl allocate"):
        call("ALLOCATION_COVERAGE", serial(dt.date(2024, 9, 1)), str(store))
    allocate(store, rules_from_dict({"owner": "business_unit",
                                     "taxonomy": {"business_unit": {"keys": ["business_unit"]}},
                                     "pools": [{"id": "rest", "filter": {"owner": None},
                                                "split": "proportional"}]}))
    got = dict(map(tuple, call("ALLOCATION_COVERAGE", serial(dt.date(2024, 9, 15)), str(store))))
    with CostStore(store).reader() as con:
        direct, total = con.execute(
            "SELECT sum(EffectiveCost) FILTER (WHERE kind = 'direct'), sum(EffectiveCost) "
            "FROM allocated_charges WHERE month = '2024-09-01'").fetchall()[0]
    assert got["direct"] == float(Decimal(direct) / Decimal(total))
    assert got["unallocated"] == 0.0 and got["allocated"] == pytest.approx(1.0)
    assert got["maturity"] == "run"
    with pytest.raises(xlwings.XlwingsError, match="no allocated cost in 2023-01"):
        call("ALLOCATION_COVERAGE", serial(dt.date(2023, 1, 1)), str(store))


def test_allocate_runs_without_duckdb():
    """xlwings Lite has no DuckDB: importing the functions and splitting must not need it."""
    printed = run_without_duckdb("""
        import finops_udfs
        print(finops_udfs.FINOPS_ALLOCATE(100, [[1], [1], [1]]))
    """)
    assert printed == "[[33.34], [33.33], [33.33]]"


@pytest.fixture(scope="module")
def allocated_store(tmp_path_factory):
    from finops_xl.sample.generator import SampleSpec

    return CostStore(sample_store(tmp_path_factory.mktemp("alloc-udf"), SampleSpec(rows=15_000, months=2, seed=9)))


JAN, FEB, MAR = dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)


def test_cost_by_owner_reads_the_allocation(allocated_store):
    s = str(allocated_store.path)
    got = call("COST", serial(JAN), serial(FEB), "store", s, "owner", "payments")[0][0]
    shared = call("COST", serial(JAN), serial(MAR), "store", s, "owner", "payments",
                  "allocation", "shared", "BilledCost")[0][0]
    with allocated_store.reader() as con:
        want = con.execute("SELECT sum(EffectiveCost) FROM allocated_charges WHERE owner = 'payments' "
                           "AND month = '2025-01-01'").fetchall()[0][0]
        want_shared = con.execute("SELECT sum(BilledCost) FROM allocated_charges WHERE owner = 'payments' "
                                  "AND kind = 'shared'").fetchall()[0][0]
    assert got == float(want) and shared == float(want_shared)


def test_costtable_owner_by_month_ties_to_the_store_total(allocated_store):
    table = call("COSTTABLE", serial(JAN), serial(MAR), "owner", "month", 0, "store", str(allocated_store.path))
    assert table[0] == ["owner", "2025-01", "2025-02"]
    with allocated_store.reader() as con:
        by_month = dict(con.execute("SELECT strftime(ChargePeriodStart, '%Y-%m'), sum(EffectiveCost) "
                                    "FROM charges GROUP BY 1").fetchall())
    for i, month in enumerate(table[0][1:], start=1):
        column = [Decimal(str(r[i])) for r in table[1:] if r[i] != ""]
        assert abs(sum(column) - Decimal(by_month[month])) < Decimal("0.000001") * len(column)


@pytest.mark.parametrize("args,fragment", [
    (("provider", "AWS", "owner", "payments"), "'provider' cannot be combined with allocation dimensions"),
    (("owner", "payments", "ListCost"), "allocated cost has EffectiveCost and BilledCost"),
    (("owner", "payments"), "must be first days of months"),
])
def test_allocated_view_errors(allocated_store, args, fragment):
    start = serial(dt.date(2025, 1, 15)) if fragment.startswith("must") else serial(JAN)
    with pytest.raises(xlwings.XlwingsError, match=fragment):
        call("COST", start, serial(FEB), "store", str(allocated_store.path), *args)


def test_owner_dimension_needs_an_allocation(tmp_path):
    store = tmp_path / "s.duckdb"
    ingest([focus_sample_csv()], store)
    with pytest.raises(xlwings.XlwingsError, match="needs an allocation: run finops-xl allocate"):
        call("VALUES", "owner", str(store))
