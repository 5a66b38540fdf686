"""Commitment recommendation benchmark: ``finops_xl.commitments.recommend`` over a store of generated data
(default 10M rows over 6 months). Checks that the roll-up is a list a buyer can read.

Usage:
    python benchmarks/commitments_benchmark.py [--rows 10000000] [--lookback 30] [--max-lines 60]

It reuses the store the UDF benchmark builds (benchmarks/out/udf-store-<rows>.duckdb), or builds it.
Prints the time, the number of options considered (every term and payment of every provider and scope)
and the buyable lines after the roll-up; exits 1 when there are more lines than ``--max-lines``, or a
line mixes providers (it cannot: each provider has its own window and profile; the check is cheap).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ingest_benchmark import benchmark_store  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--lookback", type=int, default=30)
    ap.add_argument("--max-lines", type=int, default=60)
    args = ap.parse_args()
    from finops_xl.commitments.recommend import recommend
    from finops_xl.store.store import CostStore

    store = benchmark_store(args.rows)
    t = time.perf_counter()
    with CostStore(store).reader() as con:
        r = recommend(con, lookback_days=args.lookback)
    seconds = time.perf_counter() - t
    print(f"{args.rows:,} rows, {args.lookback}-day lookback: {len(r.candidates):,} options considered, "
          f"{len(r.lines)} buyable lines in {seconds:.1f} s")
    for x in r.lines:
        print(f"  {x.provider:<13} {x.scope:<28} {x.term_years}y {x.payment:<15} {x.coverage_level:>10.2f} $/h  "
              f"{x.annual_savings:>14,.2f} a year")
    providers_ok = all(x.provider in {w.provider for w in r.windows} for x in r.lines)
    if len(r.lines) > args.max_lines or not providers_ok:
        print(f"FAIL: {len(r.lines)} lines (at most {args.max_lines} wanted)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
