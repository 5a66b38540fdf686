"""Scale benchmark: the whole pipeline (ingest + allocate + monthly aggregate) from 1M to 30M rows,
on DuckDB and on Spark local mode, against a raw DuckDB floor and a pandas script.

Reported, not asserted. For each size it generates the data once (``finops-xl sample``: 6 months,
three providers, Parquet; cached under benchmarks/out/), then runs each contender in a fresh
process and records wall time, rows/s and peak RSS (of the process and all its children, sampled every 0.2 s
from /proc, so Spark's JVM counts):

- ``duckdb``  — ``finops-xl ingest`` into a new store (validation, normalization, typing, daily
  cube, restatement bookkeeping, swap-in), ``finops-xl allocate`` with the demo rules, then the
  monthly aggregate (cost per owner × month × currency, ``allocated_monthly_sql``) read from the
  store as the Excel side reads it;
- ``spark``   — the same three steps with ``--engine spark`` (Spark local mode, all cores) into a
  store folder; the monthly aggregate is read from the store through DuckDB, as Excel reads it;
- ``floor``   — raw DuckDB, no checks: ``CREATE TABLE AS SELECT * FROM read_parquet(...)``
  (insertion order not preserved) into a new file, then one GROUP BY of every row by month,
  currency and the raw ``team`` tag. The least work that copies the rows into a store and sums them;
- ``pandas``  — the script an analyst would write: read each file with pandas, check mandatory
  columns, numbers, allowed values, period order and Tags JSON, take the team from the tags, and
  sum cost per team × month × currency. It does no shared-cost pools, no cube and writes no store,
  so it does less than the pipeline.

Usage:
    python benchmarks/scale_benchmark.py                       # the README table
    python benchmarks/scale_benchmark.py --rows 1000000 --engines duckdb,floor
    python benchmarks/scale_benchmark.py --csv --rows 10000000 --engines duckdb,floor,pandas
Results merge into benchmarks/out/scale_results.json (a later run of a size and engine replaces
that row), and the table of all of them is written to benchmarks/out/scale_table.md.
Targets (issue 9): duckdb within 3x of the floor and >= 10x faster than pandas at 10M rows; time
per row within +-30% from 1M to 30M; 30M rows under 8 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

from ingest_benchmark import PANDAS_CHECKS, _dataset  # noqa: E402  (the data and checks every benchmark shares)

_RSS = textwrap.dedent("""
    import os, resource, threading, time as _time
    _peak = [0]
    def _tree_rss():
        todo, seen, total = [os.getpid()], set(), 0
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                with open(f"/proc/{pid}/status") as fh:
                    total += next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmRSS:"))
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as fh:
                        todo.extend(int(x) for x in fh.read().split())
            except (OSError, StopIteration):
                pass
        return total
    def _sample():
        while True:
            _peak[0] = max(_peak[0], _tree_rss())
            _time.sleep(0.2)
    threading.Thread(target=_sample, daemon=True).start()
    def _rss():
        return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, _peak[0], _tree_rss())
""")

DUCKDB = _RSS + textwrap.dedent("""
    import json, sys, time
    from finops_xl.allocation.engine import allocate
    from finops_xl.allocation.rules import load_rules
    from finops_xl.data import allocation_rules
    from finops_xl.engine.spark_store import allocated_monthly_sql
    from finops_xl.store.ingest import ingest
    from finops_xl.store.store import CostStore
    data, store = sys.argv[1], CostStore(sys.argv[2])
    rules = load_rules(allocation_rules())
    t0 = time.perf_counter()
    rows = ingest([data], store).rows
    t1 = time.perf_counter()
    allocate(store, rules)
    t2 = time.perf_counter()
    with store.reader() as con:
        n = len(con.execute(allocated_monthly_sql()).fetchall())
    t3 = time.perf_counter()
    print(json.dumps({"seconds": t3 - t0, "ingest": t1 - t0, "allocate": t2 - t1, "aggregate": t3 - t2,
                      "rows": rows, "aggregate_rows": n, "rss": _rss()}))
""")

SPARK = _RSS + textwrap.dedent("""
    import json, sys, time
    from finops_xl.allocation.rules import load_rules
    from finops_xl.data import allocation_rules
    from finops_xl.allocation.spark import allocate_spark
    from finops_xl.engine.spark_store import allocated_monthly_sql, ingest_spark
    from finops_xl.engine.spark_engine import SparkEngine, spark_session
    from finops_xl.store.store import CostStore
    data, lake = sys.argv[1], sys.argv[2]
    rules = load_rules(allocation_rules())
    t = time.perf_counter()
    engine = SparkEngine(spark_session("local[*]"))
    ts = time.perf_counter()
    rows = ingest_spark([data], lake, engine).rows
    t1 = time.perf_counter()
    allocate_spark(lake, rules, engine)
    t2 = time.perf_counter()
    with CostStore(lake).reader() as con:
        n = len(con.execute(allocated_monthly_sql()).fetchall())
    t3 = time.perf_counter()
    rss = _rss()
    engine.session.stop()
    print(json.dumps({"seconds": t3 - ts, "startup": ts - t, "ingest": t1 - ts, "allocate": t2 - t1,
                      "aggregate": t3 - t2, "rows": rows, "aggregate_rows": n, "rss": rss}))
""")

FLOOR = _RSS + textwrap.dedent("""
    import json, sys, time, duckdb
    data, store = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    con = duckdb.connect(store)
    con.execute("SET preserve_insertion_order = false")
    reader = (f"read_csv('{data}/*.csv', header=true)" if len(sys.argv) > 3 and sys.argv[3] == "csv"
              else f"read_parquet('{data}/*.parquet')")
    con.execute(f"CREATE TABLE charges AS SELECT * FROM {reader}")
    con.execute("CHECKPOINT")
    t1 = time.perf_counter()
    n = len(con.execute(
        "SELECT date_trunc('month', ChargePeriodStart), BillingCurrency, Tags->>'team', "
        "sum(BilledCost), sum(EffectiveCost) FROM charges GROUP BY ALL").fetchall())
    rows = con.execute("SELECT count(*) FROM charges").fetchall()[0][0]
    con.close()
    t2 = time.perf_counter()
    print(json.dumps({"seconds": t2 - t0, "ingest": t1 - t0, "aggregate": t2 - t1, "rows": rows,
                      "aggregate_rows": n, "rss": _rss()}))
""")

PANDAS = _RSS + PANDAS_CHECKS + textwrap.dedent("""
    import glob, json, sys, time
    data = sys.argv[1]
    t = time.perf_counter()
    parts, rows = [], 0
    csv = len(sys.argv) > 3 and sys.argv[3] == "csv"
    for path in sorted(glob.glob(f"{data}/*.csv" if csv else f"{data}/*.parquet")):
        df = pd.read_csv(path) if csv else pd.read_parquet(path)
        check(df)
        tags = df["Tags"].map(lambda s: json.loads(s) if isinstance(s, str) else {})
        df["team"] = tags.map(lambda d: d.get("team"))
        df["month"] = df["ChargePeriodStart"].dt.strftime("%Y-%m")
        parts.append(df.groupby(["team", "month", "BillingCurrency"], dropna=False)
                       [["BilledCost", "EffectiveCost"]].sum())
        rows += len(df)
        del df, tags
    result = pd.concat(parts).groupby(level=[0, 1, 2], dropna=False).sum()
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows, "aggregate_rows": len(result),
                      "rss": _rss()}))
""")

SCRIPTS = {"duckdb": DUCKDB, "spark": SPARK, "floor": FLOOR, "pandas": PANDAS}


def _run(script: str, *args: str) -> dict | None:
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  step failed (left out of the table):\n{proc.stderr[-3000:]}", flush=True)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _csv_dataset(rows: int) -> Path:
    """The same rows as CSV (one file per Parquet file), as many providers deliver exports."""
    import duckdb

    source, target = _dataset(rows), OUT / f"data-{rows}-csv"
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        con = duckdb.connect()
        for f in sorted(source.glob("*.parquet")):
            con.execute(f"COPY (SELECT * FROM read_parquet('{f}')) TO '{target / (f.stem + '.csv')}' "
                        "(HEADER, DELIMITER ',')")
        (target / ".complete").write_text("csv\n")
    return target


def _clean(name: str) -> Path:
    target = OUT / f"scale-{name}"
    for leftover in OUT.glob(f"scale-{name}*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    return target


#: (rows, engine) pairs of the README table.
DEFAULT_PLAN = {1_000_000: ("duckdb", "spark", "floor", "pandas"),
                10_000_000: ("duckdb", "spark", "floor", "pandas"),
                30_000_000: ("duckdb", "floor")}


def _table(results: list[dict]) -> str:
    lines = ["| rows | engine | seconds | rows/s | peak RSS | ratio to floor | pandas / this |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        suffix = "-csv" if r["engine"].endswith("-csv") else ""
        floor = next((x for x in results if x["rows"] == r["rows"] and x["engine"] == "floor" + suffix), None)
        pandas = next((x for x in results if x["rows"] == r["rows"] and x["engine"] == "pandas" + suffix), None)
        ratio = f"{r['seconds'] / floor['seconds']:.2f}×" if floor else "–"
        speed = f"{pandas['seconds'] / r['seconds']:.1f}×" if pandas else "–"
        lines.append(f"| {r['rows'] / 1e6:g}M | {r['engine']} | {r['seconds']:.1f} | "
                     f"{r['rows'] / r['seconds']:,.0f} | {r['rss'] / 2**30:.2f} GiB | {ratio} | {speed} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, action="append", help="dataset size (repeatable)")
    ap.add_argument("--csv", action="store_true",
                    help="read the same rows as CSV (duckdb, floor and pandas only); rows are "
                         "labelled duckdb-csv, floor-csv, pandas-csv")
    ap.add_argument("--engines", default=None,
                    help="comma-separated subset of duckdb,spark,floor,pandas (default: the README plan)")
    args = ap.parse_args()
    plan = {n: DEFAULT_PLAN.get(n, ("duckdb", "floor")) for n in (args.rows or DEFAULT_PLAN)}
    if args.engines:
        chosen = tuple(args.engines.split(","))
        plan = {n: chosen for n in plan}
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for rows, engines in plan.items():
        data = _csv_dataset(rows) if args.csv else _dataset(rows)
        files = sorted(data.glob("*.csv" if args.csv else "*.parquet"))
        mb = sum(f.stat().st_size for f in files) / 1e6
        print(f"\n== {rows:,} rows ({mb:,.0f} MB of {'CSV' if args.csv else 'Parquet'} in {len(files)} "
              "files)", flush=True)
        for engine in engines:
            target = _clean(engine)
            store = target / "finops.duckdb" if engine == "duckdb" else target
            if engine in ("duckdb", "floor"):
                target.mkdir(parents=True, exist_ok=True)
                store = target / ("finops.duckdb" if engine == "duckdb" else "raw.duckdb")
            load = os.getloadavg()[0]
            r = _run(SCRIPTS[engine], str(data), str(store), *(["csv"] if args.csv else []))
            _clean(engine)
            if r is None:
                continue
            r.update(engine=engine + ("-csv" if args.csv else ""), rows=rows, load_before=round(load, 2))
            results.append(r)
            stages = ", ".join(f"{k} {r[k]:.1f} s" for k in ("startup", "ingest", "allocate", "aggregate")
                               if k in r)
            print(f"  {engine:<7} {r['seconds']:8.1f} s  {r['rows'] / r['seconds']:>12,.0f} rows/s  "
                  f"peak RSS {r['rss'] / 2**30:5.2f} GiB  ({stages or 'one script'}; load before "
                  f"{load:.2f})", flush=True)
    # merge with earlier runs (a run of one size or engine replaces just those rows)
    saved = OUT / "scale_results.json"
    earlier = json.loads(saved.read_text()) if saved.exists() else []
    fresh = {(r["rows"], r["engine"]) for r in results}
    order = {e: i for i, e in enumerate(("duckdb", "spark", "floor", "pandas", "duckdb-csv",
                                         "floor-csv", "pandas-csv"))}
    results = sorted([r for r in earlier if (r["rows"], r["engine"]) not in fresh] + results,
                     key=lambda r: (r["rows"], order[r["engine"]]))
    table = _table(results)
    print("\n" + table)
    saved.write_text(json.dumps(results, indent=2))
    for engine in ("duckdb", "spark"):
        per_row = {r["rows"]: r["seconds"] / r["rows"] for r in results if r["engine"] == engine}
        if len(per_row) > 1:
            base = per_row[min(per_row)]
            print(f"{engine} time per row relative to {min(per_row) / 1e6:g}M: " + ", ".join(
                f"{n / 1e6:g}M {v / base:.2f}" for n, v in sorted(per_row.items())))
    (OUT / "scale_table.md").write_text(table + "\n")
    print(f"\nmachine: {os.cpu_count()} cores; results in {OUT / 'scale_results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
