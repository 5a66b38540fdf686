"""``finops-xl ingest PATH...``: load FOCUS exports (and native exports, OpenCost files) into the store."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from finops_xl.cli.options import engine_options, spark_engine, store_of
from finops_xl.money import format_money
from finops_xl.store.ingest import LoadReport, ingest
from finops_xl.store.store import CostStore


def register(sub, store_opt) -> None:
    q = sub.add_parser("ingest", parents=[store_opt, engine_options()], help="load FOCUS exports into the store")
    q.add_argument("paths", nargs="+", metavar="PATH", help="CSV, CSV.gz or Parquet files or folders")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.add_argument("--currency", default="USD", metavar="CODE",
                   help="OpenCost exports only (they carry no currency): the currency OpenCost prices in "
                        "(default USD)")
    q.add_argument("--cluster", default=None, metavar="NAME",
                   help="OpenCost exports without a Cluster column: the cluster they come from")
    q.set_defaults(run=_cmd_ingest)


def _cmd_ingest(args: argparse.Namespace) -> int:
    store = store_of(args)
    if args.engine == "spark":
        from finops_xl.engine.spark_store import ingest_spark

        print_load(ingest_spark(args.paths, store, spark_engine(args)), store)
        return 0
    from finops_xl.store.opencost import AllocationOptions

    k8s = AllocationOptions(currency=args.currency, cluster=args.cluster)
    report = ingest_with_bar(args.paths, store, quiet=args.quiet, kubernetes=k8s)
    print_load(report, store)
    return 0


def ingest_with_bar(paths: Sequence, store: CostStore, *, quiet: bool, kubernetes=None) -> LoadReport:
    from tqdm import tqdm

    with tqdm(total=100, unit="%", disable=True if quiet else None, leave=False,
              bar_format="{desc:<40.40} {bar} {percentage:3.0f}% {elapsed}") as bar:
        def progress(stage: str, fraction: float) -> None:
            bar.set_description_str(stage, refresh=False)
            bar.update(max(0.0, round(fraction * 100, 1) - bar.n))

        return ingest(paths, store, progress=progress, kubernetes=kubernetes)


def print_load(report: LoadReport, store: CostStore) -> None:
    for sk in report.skipped:
        print(f"skipped {sk.label}: {sk.reason}")
    if report.unchanged:
        print(f"unchanged: these files are already the current version of their slices in {store.path}")
        return
    if report.files or report.kubernetes is None:
        print(f"loaded {report.rows:,} rows from {len(report.files)} file(s) in {report.seconds:.1f} s "
              f"(load {report.load_id}) into {store.path}")
        print(f"slices: {len(report.added)} new, {len(report.replaced)} replaced "
              f"({sum(s.replaced_rows for s in report.replaced):,} old rows removed)")
    else:  # OpenCost exports alone: no charges
        print(f"load {report.load_id} into {store.path} in {report.seconds:.1f} s (no cloud charges)")
    for f in report.files:
        if f.native_format:
            print(f"  converted to FOCUS from {f.native_format}: {f.label}")
    for s in report.slices:
        state = "new" if s.is_new else f"replaced {s.replaced_rows:,} rows"
        totals = "; ".join(f"{c} {format_money(b, c)}" for c, _, b, _ in s.currencies)
        if len(s.currencies) > 1:
            totals += " (BilledCost per currency, never added up)"
        print(f"  {s.provider:<12} {s.billing_account:<22} {s.billing_period_start:%Y-%m}  "
              f"{s.rows:>10,} rows  {state}  {totals}".rstrip())
    for f in report.files:
        for n in f.normalizations:
            print(f"  normalized in {f.label}: {n.column} {n.original!r} -> {n.normalized!r} "
                  f"({n.rows:,} rows; {n.note})")
    for notice in report.all_notices:
        print(f"  notice: {notice}")
    from finops_xl.store.opencost import describe

    for line in describe(report.kubernetes):
        print(line)
