"""Invariants, checked on generated cases (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops_udfs.convert import to_date
from finops_xl.store.ingest import ingest
from finops_xl.store.store import CostStore
from tests.conftest import read_csv_rows, write_csv_rows


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)))
def test_excel_serials_round_trip(date):
    assert to_date((date - dt.date(1899, 12, 30)).days, "d") == date


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(versions=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=5))
def test_after_any_sequence_of_loads_each_slice_holds_only_the_last_version(sample_csv, tmp_path_factory, versions):
    """Loading versions of an export in any order (repeats included) leaves exactly the last one."""
    work = tmp_path_factory.mktemp("seq")
    header, rows = read_csv_rows(sample_csv)
    b = header.index("BilledCost")
    files, totals = [], []
    for k in range(4):
        scaled = [r[:b] + [str(Decimal(r[b]) * (k + 1))] + r[b + 1:] for r in rows]
        files.append(write_csv_rows(work / f"v{k}" / "export.csv", header, scaled))
        totals.append(sum((Decimal(r[b]) for r in scaled), Decimal(0)))
    store = work / "finops-store"
    for v in versions:
        ingest([files[v]], store)
    with CostStore(store).reader() as con:
        billed, n = con.execute("SELECT sum(BilledCost), count(*) FROM charges").fetchall()[0]
        cube = con.execute("SELECT sum(BilledCost), sum(rows) FROM cost_daily").fetchall()[0]
    assert (billed, n) == (totals[versions[-1]], len(rows))
    assert cube == (billed, n)  # the daily cube restates with the charges
