"""Store v2 benchmark (issue 16): restating a month as history grows, CSV and Parquet ingest against
their floors, and FINOPS.COST on a large store. Reported, not asserted: prints a table and ratios.

Usage:
    python benchmarks/store_benchmark.py                       # every part, default sizes
    python benchmarks/store_benchmark.py --month-rows 250000 --csv-rows 1000000 --parts a,b,c,d

Data is generated (``finops_xl.sample``) and cached under benchmarks/out/store-bench/. Every timed step
runs in a fresh process, which reports its own wall time and peak RSS.

(a) restate: one generated month of ``--month-rows`` rows (three providers) is copied to 36 months
    (timestamps shifted month by month). One store grows to 1, 6, 12 and 36 months; at each size the
    first month is restated (reloaded with changed costs) ``--repeat`` times. Target: the 36-month
    time <= 1.2x the 1-month time.
(b) CSV ingest of ``--csv-rows`` rows (six files) into a new store, against DuckDB's own
    ``CREATE TABLE charges AS SELECT * FROM read_csv(...)`` into a new database file (target <= 1.5x)
    and against pandas ``read_csv`` of the same files alone, nothing else (target: faster).
(c) Parquet ingest of the same rows against ``CREATE TABLE AS SELECT * FROM read_parquet(...)``
    (target <= 1.3x).
(d) FINOPS.COST through xlwings' Office.js call path on the 36-month store of (a): the first call,
    p50/p95 of ``--calls`` calls with varied filters, and the process's RSS after them and at peak
    (targets: first <= 0.5 s, p50 <= 5 ms, <= 300 MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "store-bench"
sys.path.insert(0, str(HERE))

from udf_benchmark import COST_CALLS  # noqa: E402  (the FINOPS.COST call mix both storms use)

_RSS = textwrap.dedent("""
    import resource
    def _rss():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    def _now_rss():
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0
""")

INGEST = _RSS + textwrap.dedent("""
    import json, sys, time
    from finops_xl.store.ingest import ingest
    store, paths = sys.argv[1], sys.argv[2:]
    t = time.perf_counter()
    report = ingest(paths, store)
    assert not report.unchanged, "nothing was loaded"
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": report.rows, "rss": _rss()}))
""")

DUCKDB_FLOOR = _RSS + textwrap.dedent("""
    import json, sys, time, duckdb
    db, reader = sys.argv[1], sys.argv[2]
    t = time.perf_counter()
    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE charges AS SELECT * FROM {reader}")
    rows = con.execute("SELECT count(*) FROM charges").fetchall()[0][0]
    con.execute("CHECKPOINT")
    con.close()
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows, "rss": _rss()}))
""")

PANDAS_CSV = _RSS + textwrap.dedent("""
    import json, sys, time
    import pandas as pd
    t = time.perf_counter()
    rows = 0
    for path in sys.argv[1:]:
        rows += len(pd.read_csv(path))
    print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows, "rss": _rss()}))
""")

STORM = _RSS + COST_CALLS + textwrap.dedent("""
    calls, first_month, months_n = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    start_rss = _now_rss()
    y, m = map(int, first_month.split("-"))
    months = [dt.date(y + (m - 1 + k) // 12, (m - 1 + k) % 12 + 1, 1) for k in range(months_n + 1)]
    t = time.perf_counter()
    first = run("FINOPS_COST", [[[serial(months[0])]], [[serial(months[-1])]], []])
    cold = time.perf_counter() - t
    times = storm(months, calls)
    print(json.dumps({"cold_s": cold, "first_value": str(first), "p50_ms": times[len(times) // 2] * 1000,
                      "p95_ms": times[int(len(times) * 0.95)] * 1000, "calls": calls,
                      "rss_start": start_rss, "rss_after": _now_rss(), "rss": _rss()}))
""")


def _run(script: str, *args: str) -> dict:
    env = dict(os.environ)
    root = HERE.parent
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "udfs"), str(root / "workbooks"),
                                         env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _gib(n: float) -> str:
    return f"{n / 2**30:5.2f} GiB"


# ---- data -----------------------------------------------------------------------------------------

_TIMESTAMPS = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")


def _months(month_rows: int, count: int) -> list[Path]:
    """``count`` folders of one month each (month_rows rows, three providers), and two restated
    versions of the first month (``restate-0``, ``restate-1``: costs changed)."""
    import duckdb

    from finops_xl.sample.generator import SampleSpec, generate

    base = OUT / f"months-{month_rows}"
    template = base / "template"
    if not (template / ".complete").exists():
        shutil.rmtree(template, ignore_errors=True)
        generate(SampleSpec(rows=month_rows, months=1), template)
        (template / ".complete").write_text("")
    con = duckdb.connect()
    folders = []
    for k in range(count):
        folder = base / f"month-{k:02d}"
        folders.append(folder)
        if (folder / ".complete").exists():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shift = ", ".join(f"{c} + INTERVAL {k} MONTH AS {c}" for c in _TIMESTAMPS)
        for f in sorted(template.glob("*.parquet")):
            con.execute(f"COPY (SELECT * REPLACE ({shift}) FROM read_parquet('{f}')) "
                        f"TO '{folder / f.name.replace('2025-01', f'm{k:02d}')}' (FORMAT parquet)")
        (folder / ".complete").write_text("")
    for v in (0, 1):
        folder = base / f"restate-{v}"
        if not (folder / ".complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            factor = "1.01" if v == 0 else "0.99"
            for f in sorted(template.glob("*.parquet")):
                con.execute(
                    f"COPY (SELECT * REPLACE (CAST(BilledCost * {factor} AS DECIMAL(38,12)) AS BilledCost, "
                    f"CAST(EffectiveCost * {factor} AS DECIMAL(38,12)) AS EffectiveCost) "
                    f"FROM read_parquet('{f}')) TO '{folder / f.name}' (FORMAT parquet)")
            (folder / ".complete").write_text("")
    con.close()
    return folders


def _ingest_data(rows: int) -> tuple[Path, Path]:
    """(a folder of Parquet files, a folder of the same rows as CSV) of ``rows`` generated rows."""
    import duckdb

    from finops_xl.sample.generator import SampleSpec, generate

    base = OUT / f"ingest-{rows}"
    parquet, csv = base / "parquet", base / "csv"
    if not (base / ".complete").exists():
        shutil.rmtree(base, ignore_errors=True)
        generate(SampleSpec(rows=rows, months=2), parquet)
        csv.mkdir(parents=True)
        con = duckdb.connect()
        for f in sorted(parquet.glob("*.parquet")):
            con.execute(f"COPY (SELECT * FROM read_parquet('{f}')) TO '{csv / (f.stem + '.csv')}' (HEADER)")
        con.close()
        (base / ".complete").write_text("")
    return parquet, csv


# ---- parts ----------------------------------------------------------------------------------------

def part_a(month_rows: int, repeat: int) -> tuple[dict, Path]:
    sizes = (1, 6, 12, 36)
    folders = _months(month_rows, max(sizes))
    restates = [folders[0].parent / "restate-0", folders[0].parent / "restate-1"]
    store = OUT / "store-36"
    shutil.rmtree(store, ignore_errors=True)
    loaded, results, flip = 0, {}, 0
    print(f"\n(a) restating one month ({month_rows:,} rows, 3 providers) as the store grows")
    for size in sizes:
        t = time.perf_counter()
        while loaded < size:  # grow the store, six months a load at most
            chunk = folders[loaded:min(size, loaded + 6)]
            _run(INGEST, str(store), *map(str, chunk))
            loaded += len(chunk)
        grow = time.perf_counter() - t
        runs = []
        for _ in range(repeat):
            runs.append(_run(INGEST, str(store), str(restates[flip])))
            flip = 1 - flip
        secs = [r["seconds"] for r in runs]
        disk = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
        results[size] = {"median_s": statistics.median(secs), "runs_s": secs,
                         "rss": max(r["rss"] for r in runs), "store_bytes": disk}
        print(f"  {size:>2} months ({size * month_rows:>11,} rows, store {disk / 2**20:7.0f} MiB): restate "
              f"median {statistics.median(secs):6.2f} s  runs {', '.join(f'{s:.2f}' for s in secs)}  "
              f"peak RSS {_gib(results[size]['rss'])}  (growing the store took {grow:.0f} s)")
    ratio = results[36]["median_s"] / results[1]["median_s"]
    print(f"  36-month / 1-month restate time: {ratio:.2f}x  (target <= 1.2x)")
    return {"month_rows": month_rows, "sizes": results, "ratio_36_vs_1": ratio}, store


def part_bc(rows: int, repeat: int, formats: set[str]) -> dict:
    parquet, csv = _ingest_data(rows)
    csv_files = sorted(map(str, csv.glob("*.csv")))
    csv_mb = sum(Path(f).stat().st_size for f in csv_files) / 2**20
    pq_mb = sum(f.stat().st_size for f in parquet.glob("*.parquet")) / 2**20
    out: dict = {"rows": rows, "csv_mib": csv_mb, "parquet_mib": pq_mb}
    store, db = OUT / "ingest-store", OUT / "floor.duckdb"
    contenders = {
        "csv": [("finops-xl ingest", INGEST, lambda: (str(store), str(csv))),
                ("duckdb read_csv CTAS", DUCKDB_FLOOR, lambda: (str(db), f"read_csv('{csv}/*.csv')")),
                ("pandas read_csv alone", PANDAS_CSV, lambda: tuple(csv_files))],
        "parquet": [("finops-xl ingest", INGEST, lambda: (str(store), str(parquet))),
                    ("duckdb read_parquet CTAS", DUCKDB_FLOOR,
                     lambda: (str(db), f"read_parquet('{parquet}/*.parquet')"))],
    }
    for fmt, steps in contenders.items():
        if fmt not in formats:
            continue
        size = csv_mb if fmt == "csv" else pq_mb
        print(f"\n({'b' if fmt == 'csv' else 'c'}) {fmt.upper()} ingest of {rows:,} rows ({size:,.0f} MiB in 6 files)")
        runs: dict[str, list[dict]] = {name: [] for name, _, _ in steps}
        for _ in range(repeat):  # interleaved, so a drift of the machine's speed hits each alike
            for name, script, args in steps:
                shutil.rmtree(store, ignore_errors=True)
                db.unlink(missing_ok=True)
                runs[name].append(_run(script, *args()))
        shutil.rmtree(store, ignore_errors=True)
        db.unlink(missing_ok=True)
        res = {}
        for name, rs in runs.items():
            secs = [r["seconds"] for r in rs]
            res[name] = {"median_s": statistics.median(secs), "runs_s": secs, "rss": max(r["rss"] for r in rs)}
            print(f"  {name:<26} median {res[name]['median_s']:7.2f} s  runs {', '.join(f'{s:.1f}' for s in secs)}"
                  f"  peak RSS {_gib(res[name]['rss'])}")
        ours = res["finops-xl ingest"]["median_s"]
        floor = next(v for k, v in res.items() if k.startswith("duckdb"))["median_s"]
        res["ratio_vs_duckdb"] = ours / floor
        print(f"  finops-xl / DuckDB CTAS: {ours / floor:.2f}x  (target <= {'1.5' if fmt == 'csv' else '1.3'}x)")
        if fmt == "csv":
            res["ratio_vs_pandas"] = ours / res["pandas read_csv alone"]["median_s"]
            print(f"  finops-xl / pandas read_csv: {res['ratio_vs_pandas']:.2f}x  (target < 1x)")
        out[fmt] = res
    return out


def part_d(store: Path, months: int, calls: int) -> dict:
    from finops_xl.store.store import CostStore

    with CostStore(store).reader() as con:
        charges = con.execute("SELECT count(*) FROM charges").fetchall()[0][0]
        cube = con.execute("SELECT count(*) FROM cost_daily").fetchall()[0][0]
        first = con.execute("SELECT strftime(min(BillingPeriodStart), '%Y-%m') FROM charges").fetchall()[0][0]
    r = _run(STORM, str(store), str(calls), first, str(months))
    print(f"\n(d) FINOPS.COST through the Office.js call path: store of {charges:,} charges "
          f"(daily cube {cube:,} rows)")
    print(f"  first call {r['cold_s'] * 1000:,.0f} ms (target <= 500 ms); {calls:,} calls: p50 {r['p50_ms']:.2f} ms "
          f"(target <= 5 ms), p95 {r['p95_ms']:.2f} ms")
    print(f"  process RSS: {r['rss_start'] / 2**20:,.0f} MiB after imports, {r['rss_after'] / 2**20:,.0f} MiB after "
          f"the calls, peak {r['rss'] / 2**20:,.0f} MiB (target <= 300 MiB)")
    return {**r, "charges": charges, "cube_rows": cube}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--month-rows", type=int, default=250_000, help="rows of one month in (a)")
    ap.add_argument("--csv-rows", type=int, default=1_000_000, help="rows ingested in (b) and (c)")
    ap.add_argument("--calls", type=int, default=1000, help="FINOPS.COST calls in (d)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each step (median reported)")
    ap.add_argument("--parts", default="a,b,c,d", help="which parts to run (d needs a's store)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    results: dict = {}
    store = OUT / "store-36"
    if "a" in parts:
        results["restate"], store = part_a(args.month_rows, args.repeat)
    if parts & {"b", "c"}:
        formats = ({"csv"} if "b" in parts else set()) | ({"parquet"} if "c" in parts else set())
        results["ingest"] = part_bc(args.csv_rows, args.repeat, formats)
    if "d" in parts:
        results["excel"] = part_d(store, 36, args.calls)
    results["load_average_at_end"] = os.getloadavg()[0]
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nload average at end {os.getloadavg()[0]:.1f}; results in {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
