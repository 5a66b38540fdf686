"""FINOPS.COST in a recalculation storm: 1,000 calls with varied filters through xlwings' Office.js
call path over a store of generated data (default 10M rows). Reported, not asserted.

Usage:
    python benchmarks/udf_benchmark.py [--rows 10000000] [--calls 1000]

It reuses (or generates) the ingest benchmark's data set, loads it into a store once
(benchmarks/out/udf-store-<rows>.duckdb), then in a fresh process times: the cold first call (the
cube is read from the store), and every later call. Each call is the exact payload Excel sends.
Target (issue 3): p50 <= 5 ms per call.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest_benchmark import OUT, benchmark_store  # noqa: E402

#: The call path and the call mix both storms use (this one and ``store_benchmark``'s): ``run`` sends
#: the exact payload Excel sends; ``storm(months, calls)`` makes ``calls`` FINOPS.COST calls over a
#: random [months[a], months[b]) with up to two random filters and, half the time, a metric, and
#: returns their times in seconds, sorted. The store is the first argument.
COST_CALLS = textwrap.dedent("""
    import os, sys, json, time, random, asyncio, datetime as dt
    os.environ["XLWINGS_ON_SERVER"] = "true"
    os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
    os.environ["FINOPS_XL_STORE"] = sys.argv[1]
    import xlwings, xlwings.server, finops_udfs

    def run(name, wire):
        data = {"func_name": name, "args": wire, "caller_address": "Sheet1!A1",
                "formula_name": name.replace("_", "."), "version": xlwings.__version__,
                "client": "Office.js", "runtime": "1.4", "culture_info_name": "en-US",
                "date_format": "M/d/yyyy"}
        return asyncio.run(xlwings.server.custom_functions_call(data, finops_udfs))

    serial = lambda d: (d - dt.date(1899, 12, 30)).days

    def storm(months, calls):
        values = {d: [v[0] for v in run("FINOPS_VALUES", [[[d]], [[0]]])]
                  for d in ("provider", "service_category", "sub_account", "region", "tag:env")}
        rng = random.Random(7)
        metrics = ["EffectiveCost", "BilledCost", "ListCost", "ContractedCost"]
        times = []
        for i in range(calls):
            a = rng.randrange(0, len(months) - 1)
            b = rng.randrange(a + 1, len(months))
            pairs = []
            for dim in rng.sample(sorted(values), rng.randrange(0, 3)):
                pairs += [[[dim]], [[rng.choice(values[dim])]]]
            if rng.random() < 0.5:
                pairs.append([[rng.choice(metrics)]])
            wire = [[[serial(months[a])]], [[serial(months[b])]], pairs]
            t = time.perf_counter()
            run("FINOPS_COST", wire)
            times.append(time.perf_counter() - t)
        return sorted(times)
""")

STORM = COST_CALLS + textwrap.dedent("""
    calls = int(sys.argv[2])
    months = [dt.date(2025, m, 1) for m in range(1, 8)]
    t = time.perf_counter()
    first = run("FINOPS_COST", [[[serial(months[0])]], [[serial(months[1])]], []])
    cold = time.perf_counter() - t
    times = storm(months[:6], calls)
    print(json.dumps({"cold_s": cold, "p50_ms": times[len(times) // 2] * 1000,
                      "p95_ms": times[int(len(times) * 0.95)] * 1000,
                      "max_ms": times[-1] * 1000, "total_s": sum(times), "calls": calls}))
""")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--calls", type=int, default=1000)
    args = ap.parse_args()
    store = benchmark_store(args.rows)
    from finops_xl.store.store import CostStore

    with CostStore(store).reader() as con:
        charges = con.execute("SELECT count(*) FROM charges").fetchall()[0][0]
        cube = con.execute("SELECT count(*) FROM cost_daily").fetchall()[0][0]
    proc = subprocess.run([sys.executable, "-c", STORM, str(store), str(args.calls)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"store: {charges:,} charges, daily cube {cube:,} rows")
    print(f"cold first call (reads the cube): {r['cold_s'] * 1000:,.0f} ms")
    print(f"{r['calls']:,} FINOPS.COST calls with varied filters: p50 {r['p50_ms']:.2f} ms, "
          f"p95 {r['p95_ms']:.2f} ms, max {r['max_ms']:.1f} ms, total {r['total_s']:.2f} s  "
          f"(target p50 <= 5 ms)")
    (OUT / "udf_results.json").write_text(json.dumps({**r, "charges": charges, "cube_rows": cube}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
