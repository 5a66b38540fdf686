"""Ingest benchmark: finops-xl ingest against two baselines, on generated FOCUS 1.2 Parquet.

Reported, not asserted. For each size (default 1M and 10M rows) it generates the data once
(``finops-xl sample``, cached under benchmarks/out/), then runs each contender in a fresh process
and records wall time, rows/s and peak RSS:

- ``finops-xl``  — ``finops_xl.store.ingest.ingest`` into a new store: validation, normalization,
  typing, restatement bookkeeping, swap-in;
- ``duckdb-raw`` — ``CREATE TABLE charges AS SELECT * FROM read_parquet(...)`` into a new DuckDB
  file: the floor for copying the data into a store, with no checks at all;
- ``duckdb-raw-unordered`` — the same with ``preserve_insertion_order = false`` (as finops-xl sets
  it): the lowest floor, reported so the comparison is not flattered by DuckDB's default;
- ``pandas``     — the script an analyst would write: read each file with pandas, check mandatory
  columns, numbers, allowed values, period order and Tags JSON, then per-slice totals.

Usage:
    python benchmarks/ingest_benchmark.py                 # 1M and 10M rows
    python benchmarks/ingest_benchmark.py --rows 1000000  # one size
    python benchmarks/ingest_benchmark.py --skip-pandas-above 2000000
Targets (issue 2): finops-xl within 2x of duckdb-raw, >= 5x faster than pandas, peak RSS <= 3 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

_RSS = "import resource; _rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"

FINOPS = _RSS + textwrap.dedent("""
    import json, sys, time
    from finops_xl.store.ingest import ingest
    data, store = sys.argv[1], sys.argv[2]
    t = time.perf_counter()
    report = ingest([data], store)
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": report.rows, "rss": _rss()}))
""")

RAW = _RSS + textwrap.dedent("""
    import json, sys, time, duckdb
    data, store = sys.argv[1], sys.argv[2]
    t = time.perf_counter()
    con = duckdb.connect(store)
    if len(sys.argv) > 3:
        con.execute("SET preserve_insertion_order = false")
    con.execute(f"CREATE TABLE charges AS SELECT * FROM read_parquet('{data}/*.parquet')")
    rows = con.execute("SELECT count(*) FROM charges").fetchall()[0][0]
    con.execute("CHECKPOINT")
    con.close()
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows, "rss": _rss()}))
""")

#: The checks the pandas baselines make of each file: FOCUS's mandatory columns, numbers, dates and
#: allowed values (what a finops-xl load checks), as ``check(df)``; ``scale_benchmark`` shares it.
PANDAS_CHECKS = textwrap.dedent("""
    import pandas as pd
    MANDATORY = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "BillingAccountId",
                 "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory",
                 "ChargePeriodStart", "ChargePeriodEnd", "ProviderName", "ChargeFrequency"]
    ALLOWED = {"ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
               "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
               "PricingCategory": {"Standard", "Dynamic", "Committed", "Other"},
               "CommitmentDiscountStatus": {"Used", "Unused"}}

    def check(df):
        missing = [c for c in MANDATORY if c not in df.columns]
        assert not missing, missing
        for c in ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost"]:
            df[c] = pd.to_numeric(df[c], errors="raise")
        for c in ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"]:
            df[c] = pd.to_datetime(df[c], utc=True)
        assert (df["ChargePeriodEnd"] >= df["ChargePeriodStart"]).all()
        for c, allowed in ALLOWED.items():
            bad = ~df[c].isna() & ~df[c].isin(allowed)
            assert not bad.any(), c
""")

PANDAS = _RSS + PANDAS_CHECKS + textwrap.dedent("""
    import glob, json, sys, time
    data = sys.argv[1]
    t = time.perf_counter()
    totals, rows = [], 0
    for path in sorted(glob.glob(f"{data}/*.parquet")):
        df = pd.read_parquet(path)
        check(df)
        tags = df["Tags"].dropna()
        tags.map(json.loads)  # raises on invalid JSON
        totals.append(df.groupby(["ProviderName", "BillingAccountId", "BillingPeriodStart"])
                        [["BilledCost", "EffectiveCost"]].sum())
        rows += len(df)
        del df
    pd.concat(totals)
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows, "rss": _rss()}))
""")


def _run(script: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _dataset(rows: int) -> Path:
    target = OUT / f"data-{rows}"
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        from finops_xl.sample.generator import SampleSpec, generate

        t = time.perf_counter()
        generate(SampleSpec(rows=rows, months=6), target)
        (target / ".complete").write_text(f"{time.perf_counter() - t:.1f}\n")
    return target


def benchmark_store(rows: int) -> Path:
    """The store of ``rows`` generated rows the UDF, allocation and optimization benchmarks share
    (``benchmarks/out/udf-store-<rows>.duckdb``), loaded on first use."""
    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / f"udf-store-{rows}.duckdb"
    if not store.exists():
        from finops_xl.store.ingest import ingest

        print(f"loading {rows:,} generated rows into {store} …")
        ingest([_dataset(rows)], store)
    return store


def peak(result: dict) -> str:
    """A step's peak memory, as the benchmarks print it."""
    return f"peak RSS {result['rss'] / 2**30:.2f} GiB"


def against_scan(name: str, result: dict, scan: dict, saved: str, target: str = "") -> None:
    """Print ``result``'s time over the ``scan``'s and save both (``benchmarks/out/<saved>``)."""
    ratio = result["seconds"] / scan["seconds"]
    print(f"{name} / scan: {ratio:.2f}x{target}")
    (OUT / saved).write_text(json.dumps({"scan": scan, name: result, "ratio": ratio}, indent=2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, action="append", help="dataset size (repeatable)")
    ap.add_argument("--skip-pandas-above", type=int, default=20_000_000,
                    help="skip the pandas baseline above this many rows")
    args = ap.parse_args()
    sizes = args.rows or [1_000_000, 10_000_000]
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for rows in sizes:
        data = _dataset(rows)
        mb = sum(f.stat().st_size for f in data.glob("*.parquet")) / 1e6
        print(f"\n== {rows:,} rows ({mb:,.0f} MB of Parquet in {len(list(data.glob('*.parquet')))} files)")
        entry = {"rows": rows, "parquet_mb": round(mb, 1)}
        contenders = (("finops-xl", FINOPS, True, ()), ("duckdb-raw", RAW, True, ()),
                      ("duckdb-raw-unordered", RAW, True, ("unordered",)), ("pandas", PANDAS, False, ()))
        for name, script, needs_store, extra in contenders:
            if name == "pandas" and rows > args.skip_pandas_above:
                print(f"  {name:<21} skipped (--skip-pandas-above {args.skip_pandas_above:,})")
                continue
            store = OUT / f"bench-{name}.duckdb"
            for leftover in OUT.glob(f"bench-{name}.duckdb*"):
                leftover.unlink()
            r = _run(script, str(data), *([str(store)] if needs_store else []), *extra)
            for leftover in OUT.glob(f"bench-{name}.duckdb*"):
                leftover.unlink()
            r["rows_per_s"] = r["rows"] / r["seconds"]
            entry[name] = r
            print(f"  {name:<21} {r['seconds']:8.1f} s  {r['rows_per_s']:>12,.0f} rows/s  "
                  f"peak RSS {r['rss'] / 2**30:5.2f} GiB")
        f = entry["finops-xl"]["seconds"]
        entry["ratio_vs_raw"] = f / entry["duckdb-raw"]["seconds"]
        entry["ratio_vs_raw_unordered"] = f / entry["duckdb-raw-unordered"]["seconds"]
        print(f"  finops-xl / duckdb-raw time: {entry['ratio_vs_raw']:.2f}x  (target <= 2x); "
              f"/ duckdb-raw-unordered: {entry['ratio_vs_raw_unordered']:.2f}x")
        if "pandas" in entry:
            entry["speedup_vs_pandas"] = entry["pandas"]["seconds"] / f
            print(f"  pandas / finops-xl time:     {entry['speedup_vs_pandas']:.1f}x  (target >= 5x)")
        results.append(entry)
    (OUT / "ingest_results.json").write_text(json.dumps(results, indent=2))
    print(f"\nmachine: {os.cpu_count()} cores; results in {OUT / 'ingest_results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
