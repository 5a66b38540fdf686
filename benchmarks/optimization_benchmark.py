"""Optimization benchmark: every detector over the last month of a store of generated data (default
10M rows over 6 months) against a raw DuckDB scan of that month's charges. Reported, not asserted.

Usage:
    python benchmarks/optimization_benchmark.py [--rows 10000000]

It reuses the store the UDF benchmark builds (benchmarks/out/udf-store-<rows>.duckdb), or builds it.
Each contender runs in a fresh process (time, peak RSS):

- ``scan``   — one pass over the month's usage rows reading every column the detectors look at
  (resource, account, zone, service, categories, units, quantities, cost, price details, tags);
- ``detect`` — ``finops_xl.optimization.detectors.detect`` with the demo rules (owners from the
  taxonomy): the per-resource roll-up and all rules, utilization rules excluded (no export); then,
  timed apart, ``ledger.record`` of the findings into a fresh savings ledger (removed afterwards).
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
    month = con.execute("SELECT date_trunc('month', max(ChargePeriodStart)) FROM charges").fetchone()[0]
    t = time.perf_counter()
    row = con.execute('''
        SELECT count(*), count(DISTINCT ResourceId), max(ResourceName), max(ProviderName), max(SubAccountId),
               max(AvailabilityZone), max(ServiceName), max(ServiceCategory), max(ServiceSubcategory),
               max(ResourceType), max(ConsumedUnit), sum(ConsumedQuantity), sum(EffectiveCost),
               max(SkuPriceDetails), max(CAST(Tags AS VARCHAR)), max(PricingCategory)
        FROM charges WHERE ChargePeriodStart >= ? AND ChargeCategory = 'Usage' AND ResourceId IS NOT NULL''',
        [month]).fetchall()[0]
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": row[0], "resources": row[1], "rss": _rss()}))
""")

DETECT = _RSS + textwrap.dedent("""
    import json, sys, time
    from finops_xl.allocation.rules import load_rules
    from finops_xl.data import allocation_rules
    from finops_xl.optimization import ledger
    from finops_xl.optimization.detectors import detect
    from finops_xl.store.store import CostStore
    rules = load_rules(allocation_rules())
    store = CostStore(sys.argv[1])
    store.savings_path.unlink(missing_ok=True)
    with store.reader() as con:
        con.execute("SET enable_progress_bar = false")
        t = time.perf_counter()
        found = detect(con, rules=rules)
        seconds = time.perf_counter() - t
    t = time.perf_counter()
    ledger.record(store, found)
    record = time.perf_counter() - t
    store.savings_path.unlink()
    rules_hit = sorted({f.rule for f in found})
    print(json.dumps({"seconds": seconds, "record_seconds": record, "findings": len(found), "rules": rules_hit,
                      "rss": _rss()}))
""")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    args = ap.parse_args()
    store = benchmark_store(args.rows)
    scan = _run(SCAN, str(store))
    detect = _run(DETECT, str(store))
    print(f"month scan: {scan['seconds']:.2f} s over {scan['rows']:,} usage rows of {scan['resources']:,} "
          f"resources, {peak(scan)}")
    print(f"detect:     {detect['seconds']:.2f} s, {detect['findings']:,} findings ({', '.join(detect['rules'])}), "
          f"{peak(detect)}; recorded in the ledger in {detect['record_seconds']:.2f} s")
    against_scan("detect", detect, scan, "optimization_results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
