"""Allocation benchmark: `allocate` over a store of generated data (default 10M rows) against a raw
DuckDB scan of the same charges. Reported, not asserted.

Usage:
    python benchmarks/allocation_benchmark.py [--rows 10000000]

It reuses the store the UDF benchmark builds (benchmarks/out/udf-store-<rows>.duckdb), or builds
it. Each contender runs in a fresh process (time, peak RSS):

- ``scan``     — ``SELECT`` over ``charges`` reading every column allocation looks at (month,
  currency, accounts, service, categories, commitment status, Tags, both cost columns);
- ``allocate`` — ``finops_xl.allocation.engine.allocate`` with the demo rules: groups, owners,
  pools, splits, conservation check against ``charges``, written to the store (the run includes
  the store's copy-and-swap).

Target (issue 4): allocate within 3× the scan.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest_benchmark import _RSS, _run, against_scan, benchmark_store, peak  # noqa: E402

SCAN = _RSS + textwrap.dedent("""
    import json, sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    t = time.perf_counter()
    row = con.execute('''
        SELECT count(*), count(DISTINCT date_trunc('month', ChargePeriodStart)), max(BillingCurrency),
               max(ProviderName), max(BillingAccountId), max(SubAccountId), max(SubAccountName),
               max(ServiceName), max(ServiceCategory), max(RegionId), max(ChargeCategory),
               max(PricingCategory), max(CommitmentDiscountStatus), max(CAST(Tags AS VARCHAR)),
               sum(BilledCost), sum(EffectiveCost)
        FROM charges''').fetchall()[0]
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": row[0], "rss": _rss()}))
""")

ALLOCATE = _RSS + textwrap.dedent("""
    import json, sys, time
    from finops_xl.allocation.engine import allocate
    from finops_xl.allocation.rules import load_rules
    from finops_xl.data import allocation_rules
    t = time.perf_counter()
    report = allocate(sys.argv[1], load_rules(allocation_rules()))
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": report.groups,
                      "lines": report.lines, "rss": _rss()}))
""")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    args = ap.parse_args()
    store = benchmark_store(args.rows)
    from finops_xl.store.store import CostStore

    with CostStore(store).writer():
        pass  # bring the store's layout up to date first, so the run below measures allocation only
    allocate = _run(ALLOCATE, str(store))  # a first run creates the allocation tables
    allocate = _run(ALLOCATE, str(store))
    scan = _run(SCAN, str(store))
    print(f"charges scan: {scan['seconds']:.2f} s over {scan['rows']:,} rows, {peak(scan)}")
    print(f"allocate:     {allocate['seconds']:.2f} s ({allocate['rows']:,} charge groups, "
          f"{allocate['lines']:,} lines), {peak(allocate)}")
    against_scan("allocate", allocate, scan, "allocation_results.json", "  (target <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
