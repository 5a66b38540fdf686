"""``finops-xl``: the command line.

Every command that touches a store takes ``--store PATH`` (else ``$FINOPS_XL_STORE``, else the user's
data folder). Exit status: 0 success, 1 bad input (nothing changed), 2 usage error.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from finops_xl import __version__
from finops_xl.commands import design, store_of
from finops_xl.commands import month as _month
from finops_xl.commands.commitments import assumed_terms as _assumed_terms
from finops_xl.commands import report as report_command
from finops_xl.money import format_money
from finops_xl.store.errors import StoreError, StoreTerminated
from finops_xl.store.ingest import LoadReport, ingest, validate
from finops_xl.store.outputs import refuse_overwrites
from finops_xl.store.store import CostStore
from finops_xl.store.summary import cost_by_provider_month


def _parser() -> argparse.ArgumentParser:
    store_opt = argparse.ArgumentParser(add_help=False)
    store_opt.add_argument(
        "--store", metavar="PATH",
        help="cost store folder (default: $FINOPS_XL_STORE, else finops-store in your data folder)",
    )
    store_opt.add_argument(
        "--as-of", metavar="VERSION|TIME", default=None,
        help="read the store as it was at that version (see `finops-xl history`) or time "
             "(2025-06-30, 2025-06-30T18:00:00, UTC)")
    p = argparse.ArgumentParser(
        prog="finops-xl", description="Cloud-cost finance for Excel: FOCUS cost store and tools."
    )
    engine_opt = argparse.ArgumentParser(add_help=False)
    engine_opt.add_argument(
        "--engine", choices=("duckdb", "spark"), default="duckdb",
        help="where the work runs: duckdb (default) or spark (needs pyspark); both write the same "
             "store folder")
    engine_opt.add_argument(
        "--spark", metavar="URL", default=None,
        help="with --engine spark: a master URL (local[4], spark://host:7077, yarn) or a Spark "
             "Connect URL (sc://host:15002); default $FINOPS_XL_SPARK, else local[*]")
    p.add_argument("--version", action="version", version=f"finops-xl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from finops_xl.commands import maintenance

    maintenance.register(sub, store_opt)
    design.register(sub, store_opt)

    q = sub.add_parser("ingest", parents=[store_opt, engine_opt], help="load FOCUS exports into the store")
    q.add_argument("paths", nargs="+", metavar="PATH", help="CSV, CSV.gz or Parquet files or folders")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.add_argument("--currency", default="USD", metavar="CODE",
                   help="OpenCost exports only (they carry no currency): the currency OpenCost prices in "
                        "(default USD)")
    q.add_argument("--cluster", default=None, metavar="NAME",
                   help="OpenCost exports without a Cluster column: the cluster they come from")
    q.set_defaults(run=_cmd_ingest)

    q = sub.add_parser("convert", help="write native exports (AWS CUR, Azure, GCP) as FOCUS files")
    q.add_argument("paths", nargs="+", metavar="PATH",
                   help="AWS CUR / CUR 2.0, Azure cost details (actual + amortized), GCP billing export")
    q.add_argument("--to", choices=("focus",), required=True, help="target format: focus (FOCUS 1.2)")
    q.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    q.add_argument("--format", choices=("parquet", "csv"), default="parquet",
                   help="file format written (default parquet)")
    q.set_defaults(run=_cmd_convert)

    q = sub.add_parser("validate", help="check FOCUS exports without loading them")
    q.add_argument("paths", nargs="+", metavar="PATH")
    q.add_argument("--partial", action="store_true",
                   help="accept files that lack mandatory columns (e.g. the FOCUS spec's examples)")
    q.set_defaults(run=_cmd_validate)

    q = sub.add_parser("sample", help="write generated multi-cloud FOCUS 1.2 Parquet")
    q.add_argument("--rows", type=int, default=100_000, help="approximate total rows (default 100000)")
    q.add_argument("--months", type=int, default=3, help="billing months (default 3)")
    q.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    q.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    q.add_argument("--start", type=_month, default=None, metavar="YYYY-MM",
                   help="first billing month (default 2025-01)")
    q.add_argument("--plant-waste", action="store_true",
                   help="add known waste and healthy look-alikes, and write their utilization export")
    q.add_argument("--utilization", type=Path, default=None, metavar="CSV",
                   help="where --plant-waste writes the utilization export (default: utilization.csv "
                        "beside the output folder, outside what `ingest DIR` reads)")
    q.add_argument("--as-of", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="write the exports as delivered on that day: no charges from that day on, and "
                        "the running month not invoiced yet (to try an accrual)")
    q.add_argument("--inputs", type=Path, default=None, metavar="DIR",
                   help="also write sample input files for this data: allocation rules, ledger map, "
                        "budget, drivers and unit costs")
    q.set_defaults(run=_cmd_sample)

    q = sub.add_parser("summary", parents=[store_opt], help="cost by provider and month")
    q.add_argument("--format", choices=("table", "csv"), default="table")
    q.set_defaults(run=_cmd_summary)

    q = sub.add_parser("demo", help="generate sample data, load a fresh store, show the summary")
    q.add_argument("--out", type=Path, default=Path("finops-demo"), metavar="DIR",
                   help="output folder (default ./finops-demo)")
    q.add_argument("--rows", type=int, default=200_000, help="generated rows (default 200000)")
    q.add_argument("--months", type=int, default=6, help="generated months (default 6)")
    q.set_defaults(run=_cmd_demo)

    q = sub.add_parser("allocate", parents=[store_opt, engine_opt],
                       help="allocate every cost in the store to owners by rules (replaces the last allocation)")
    q.add_argument("--rules", type=Path, required=True, metavar="FILE", help="allocation rules (YAML)")
    q.set_defaults(run=_cmd_allocate)

    from finops_xl.commands import close as close_command
    close_command.register(sub, store_opt)

    q = sub.add_parser("forecast", parents=[store_opt],
                       help="monthly cost forecast from the store's history, with a backtest")
    q.add_argument("--months", type=int, default=6, help="months to forecast (default 6)")
    q.add_argument("--method", default="auto", choices=("auto", "ets", "seasonal_naive", "run_rate"),
                   help="auto (default): the method with the lowest backtest error (ets with under 6 "
                        "months of history, said so); or force one")
    q.add_argument("--owner", default=None, help="one owner's allocated cost (after allocate)")
    q.add_argument("--service-category", default=None, help="one FOCUS service category")
    q.add_argument("--currency", default=None, help="billing currency (needed when several)")
    q.add_argument("--spikes", choices=("exclude", "damp", "keep"), default="exclude",
                   help="one-off spikes (a month 20%% above both neighbours): exclude (default), damp by "
                        "half, or keep in the fit; they are shown either way")
    q.add_argument("--long-horizon", action="store_true",
                   help="forecast more than twice the history's months ahead (refused otherwise)")
    q.set_defaults(run=_cmd_forecast)

    q = sub.add_parser("workbook", help="build a template workbook (.xlsx) from the store")
    templates = q.add_subparsers(dest="template", required=True, metavar="TEMPLATE")
    w = templates.add_parser(
        "overview", parents=[store_opt],
        help="Cost overview: monthly cost by a dimension, native formulas and a chart",
    )
    w.add_argument("--month", type=_month, required=True, metavar="YYYY-MM", help="last month shown")
    w.add_argument("--out", type=Path, required=True, metavar="FILE", help="the .xlsx file to write")
    w.add_argument("--months", type=int, default=6, help="months shown (default 6)")
    w.add_argument("--by", default="sub_account", metavar="DIM",
                   help="breakdown dimension, e.g. sub_account, service, tag:team (default sub_account)")
    w.add_argument("--runtime", choices=("server", "classic", "lite"), default="server",
                   help="Excel runtime of the FINOPS functions on the Live sheet (default server)")
    w.set_defaults(run=_cmd_workbook_overview)
    w = templates.add_parser(
        "showback", parents=[store_opt],
        help="Showback: each owner's allocated cost by month, statements, coverage (run allocate first)",
    )
    w.add_argument("--month", type=_month, required=True, metavar="YYYY-MM", help="last month shown")
    w.add_argument("--out", type=Path, required=True, metavar="FILE", help="the .xlsx file to write")
    w.add_argument("--months", type=int, default=6, help="months shown (default 6)")
    w.add_argument("--runtime", choices=("server", "classic", "lite"), default="server",
                   help="Excel runtime of the FINOPS functions on the Live sheet (default server)")
    w.add_argument("--currency", default=None, metavar="CODE",
                   help="billing currency shown (needed only when the period holds several)")
    w.add_argument("--rules", type=Path, default=None, metavar="FILE",
                   help="rules shown on the Rules sheet (default: the file the last allocation used)")
    w.set_defaults(run=_cmd_workbook_showback)
    w = templates.add_parser(
        "commitments", parents=[store_opt],
        help="Commitment purchase: options side by side, native XNPV/XIRR, cash flows, sensitivity, chart",
        description="Without --on-demand the on-demand rate and utilization come from the store: the "
                    "optimizer's coverage level for --scope of one provider's uncovered usage at the 1-year "
                    "all-upfront discount. The options "
                    "are priced from that rate with typical ratios (finops_workbooks.commitments_data."
                    "TYPICAL_PRICING); overwrite the fees on the Options sheet with real quotes.",
    )
    w.add_argument("--out", type=Path, required=True, metavar="FILE", help="the .xlsx file to write")
    source = w.add_mutually_exclusive_group()
    source.add_argument("--on-demand", type=Decimal, default=None, metavar="RATE",
                        help="on-demand price per hour of the covered usage (no store needed)")
    source.add_argument("--scope", default=None, metavar="SCOPE",
                        help="optimizer scope in the store: compute (default) or family:<series>@<region>")
    w.add_argument("--provider", default=None,
                   help="the provider whose uncovered usage the options cover (default: the one with the most)")
    w.add_argument("--utilization", type=Decimal, default=None, metavar="U",
                   help="utilization 0-1 (default 1 with --on-demand; the optimizer's with the store)")
    w.add_argument("--rate", type=Decimal, default=Decimal("0.08"), help="annual discount rate (default 0.08)")
    w.add_argument("--start", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="purchase date (default: where the store's data ends; with --on-demand alone, "
                        "the first of next month)")
    w.add_argument("--month", type=_month, default=None, metavar="YYYY-MM",
                   help="month of the Portfolio sheet's KPIs (default: the store's last month)")
    w.set_defaults(run=_cmd_workbook_commitments)
    w = templates.add_parser(
        "budget",
        help="Budget: driver-based forecast with a scenario switch, native formulas, fiscal years",
        description="Builds the budget from two CSV files: --drivers (columns owner, driver, unit, month "
                    "as YYYY-MM, volume; an empty owner is a plan every owner shares) and --unit-costs "
                    "(owner, driver, cost_per_unit). The budget covers --months months from the first "
                    "month of the drivers file (or --start). With --store, the store's monthly "
                    "EffectiveCost history and its forecast go on a Trend sheet.",
    )
    w.add_argument("--out", type=Path, required=True, metavar="FILE", help="the .xlsx file to write")
    w.add_argument("--drivers", type=Path, required=True, metavar="FILE",
                   help="driver volumes CSV: owner, driver, unit, month, volume")
    w.add_argument("--unit-costs", type=Path, required=True, metavar="FILE",
                   help="unit costs CSV: owner, driver, cost_per_unit")
    w.add_argument("--store", default=None, metavar="PATH",
                   help="cost store for the Trend sheet (history + forecast); none: no Trend sheet")
    w.add_argument("--months", type=int, default=12, help="months budgeted (default 12)")
    w.add_argument("--start", type=_month, default=None, metavar="YYYY-MM",
                   help="first month budgeted (default: the first month of the drivers file)")
    w.add_argument("--fiscal-start", type=int, default=1, metavar="M",
                   help="calendar month (1-12) in which the fiscal year starts (default 1)")
    w.add_argument("--coverage", type=Decimal, default=Decimal(0),
                   help="commitment coverage 0-1 (default 0)")
    w.add_argument("--discount", type=Decimal, default=Decimal(0),
                   help="commitment discount 0-1 (default 0)")
    w.add_argument("--scenario", choices=("base", "low", "high"), default="base",
                   help="initial value of the scenario switch (default base)")
    w.add_argument("--runtime", choices=("server", "classic", "lite"), default="server",
                   help="Excel runtime of the FINOPS.FORECAST formula on the Trend sheet (default server)")
    w.set_defaults(run=_cmd_workbook_budget)
    design.register_workbook(templates, store_opt)

    from finops_xl.commands import commitments as commitments_cmd

    commitments_cmd.register(sub, store_opt)

    q = sub.add_parser("opportunities", parents=[store_opt],
                       help="idle, orphaned and oversized resources priced per owner; the savings ledger")
    q.add_argument("--month", type=_month, default=None, metavar="YYYY-MM",
                   help="month to analyse (default: the store's last month)")
    q.add_argument("--rules", type=Path, default=None, metavar="FILE",
                   help="allocation rules for owners and retired teams (default: the last allocation's)")
    q.add_argument("--utilization", type=Path, default=None, metavar="CSV",
                   help="utilization export (resource_id, instance_type, cpu_p95, memory_p95, ...)")
    q.add_argument("--retired", action="append", default=[], metavar="OWNER",
                   help="an owner that no longer exists (repeatable; adds to the rules' retired values)")
    q.add_argument("--owner", default=None, help="show only this owner's opportunities")
    q.add_argument("--min-savings", type=Decimal, default=None, metavar="AMOUNT",
                   help="show only opportunities saving at least this much a month")
    q.add_argument("--format", choices=("table", "csv"), default="table")
    q.add_argument("--no-record", action="store_true", help="do not add the findings to the savings ledger")
    q.set_defaults(run=_cmd_opportunities)
    actions = q.add_subparsers(dest="action", metavar="[ACTION]",
                               description="without an action: find, record and list the opportunities")
    action_store = argparse.ArgumentParser(add_help=False)  # --store after the action, too
    action_store.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS,
                              help="cost store file (as for the command)")
    a = actions.add_parser("set", parents=[action_store], help="move an opportunity to a new status (approved, implemented, ...)")
    a.add_argument("opportunity_id", metavar="ID")
    a.add_argument("status", choices=("identified", "approved", "implemented", "realized", "rejected"))
    a.add_argument("--on", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="the day it took effect (implemented: the day the change was made; default today)")
    a.add_argument("--note", default=None)
    a.set_defaults(run=_cmd_opportunities_set)
    a = actions.add_parser("report", parents=[action_store], help="projected vs realized savings by owner and month")
    a.add_argument("--month", type=_month, default=argparse.SUPPRESS, metavar="YYYY-MM",
                   help="last month of the report (default: the store's last month)")
    a.add_argument("--months", type=int, default=3, help="months ending with --month (default 3)")
    a.set_defaults(run=_cmd_opportunities_report)

    q = sub.add_parser("serve", parents=[store_opt],
                       help="run xlwings Server with the FINOPS functions and macros (extra: server)")
    q.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    q.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    q.add_argument("--certs", type=Path, metavar="DIR",
                   help="folder with the HTTPS certificate and key (mkcert localhost); without it, plain HTTP")
    q.set_defaults(run=_cmd_serve)
    report_command.register(sub, store_opt)
    return p


def _store(args: argparse.Namespace) -> CostStore:
    """The store the command names, as of ``--as-of`` if given."""
    return store_of(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        refuse_overwrites(args)
        return args.run(args)
    except StoreError as exc:
        print(f"finops-xl {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (`finops-xl summary | head`): stop quietly, as other tools do
        _silence_stdout()
        return 141
    except StoreTerminated as exc:
        print(f"finops-xl {args.command}: {exc}", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"finops-xl {args.command}: interrupted; the store is unchanged unless a load had "
              "already finished", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place a defect meets the user
        if os.environ.get("FINOPS_XL_DEBUG"):
            raise
        print(f"finops-xl {args.command}: unexpected error ({type(exc).__name__}: {exc}).\n"
              "This is a defect of finops-xl, not of your data: please report it to the finops-xl "
              "maintainers (the issue tracker of the repository you installed from) with the command "
              "you ran and this message; run it again with FINOPS_XL_DEBUG=1 to add the traceback.",
              file=sys.stderr)
        return 2


def _cmd_serve(args: argparse.Namespace) -> int:
    from finops_udfs.server import ServeError, ServerConfig, certificates, serve  # the server extra

    store = Path(args.store or os.environ.get("FINOPS_XL_STORE") or CostStore().path).resolve()
    try:
        cert, key = certificates(args.certs)
        return serve(ServerConfig(store, args.host, args.port, cert, key))
    except ServeError as exc:
        print(f"finops-xl serve: {exc}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until the process ends


# ---- commands ----------------------------------------------------------------------------------


def _spark_engine(args: argparse.Namespace):
    from finops_xl.engine.spark_engine import SparkEngine, spark_session

    return SparkEngine(spark_session(args.spark))


def _cmd_ingest(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.engine == "spark":
        from finops_xl.engine.spark_store import ingest_spark

        _print_load(ingest_spark(args.paths, store, _spark_engine(args)), store)
        return 0
    from finops_xl.store.opencost import AllocationOptions

    k8s = AllocationOptions(currency=args.currency, cluster=args.cluster)
    report = _ingest_with_bar(args.paths, store, quiet=args.quiet, kubernetes=k8s)
    _print_load(report, store)
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from finops_xl.focus.convert.files import convert_exports

    written, skipped = convert_exports(args.paths, args.out, fmt=args.format)
    for c in written:
        print(f"wrote {c.path}: FOCUS 1.2, {c.rows:,} rows from {c.description}")
        for label in c.inputs:
            print(f"  {label}")
    for label in skipped:
        print(f"skipped {label}: already a FOCUS export")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    reports = validate(args.paths, partial=args.partial)
    for r in reports:
        native = f" (converted from {r.native_format})" if r.native_format else ""
        if r.native_format == "opencost":
            print(f"ok  {r.label}: OpenCost allocation export, {r.rows:,} rows (Kubernetes allocations: "
                  f"they load into kubernetes_allocation, not into the cloud charges)")
        else:
            print(f"ok  {r.label}: FOCUS {r.focus_version}{native}, {r.rows:,} rows")
        for n in r.normalizations:
            print(f"    normalized {n.column}: {n.original!r} -> {n.normalized!r} ({n.rows:,} rows; {n.note})")
        for notice in r.notices:
            print(f"    notice: {notice}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    paths = _generate(args.out, args.rows, args.months, args.seed, args.start, plant_waste=args.plant_waste)
    if args.as_of is not None:
        from finops_xl.sample.delivery import as_of

        paths = as_of(paths, args.as_of)
    print(f"wrote {len(paths)} files to {args.out}"
          + (f" (as delivered on {args.as_of}: its month not invoiced yet)" if args.as_of else ""))
    if args.plant_waste:
        from finops_xl.sample.planted import write_utilization

        util = write_utilization(args.utilization or args.out.resolve().parent / "utilization.csv")
        print(f"wrote the planted resources' utilization export to {util}")
    if args.inputs is not None:
        from finops_xl.data import write_sample_inputs

        written = write_sample_inputs(args.inputs)
        print(f"wrote {len(written)} sample input files to {args.inputs}: {', '.join(p.name for p in written)}")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    rows = cost_by_provider_month(_store(args))
    if args.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["ProviderName", "BillingPeriod", "BillingCurrency", "Rows", "BilledCost", "EffectiveCost"])
        for r in rows:
            w.writerow([r.provider, r.billing_period.strftime("%Y-%m"), r.currency, r.rows,
                        r.billed_cost, r.effective_cost])
        return 0
    _print_summary(rows)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from finops_xl.allocation.engine import allocate
    from finops_xl.allocation.rules import load_rules
    from finops_xl.data import allocation_rules, focus_sample_csv, write_sample_inputs

    out: Path = args.out.resolve()  # printed in full, so each path works from anywhere
    data = out / "exports"
    if data.exists():
        shutil.rmtree(data)
    store = CostStore(out / "finops-store")
    for leftover in [*out.glob("finops-store*"), *out.glob("finops.*duckdb*")]:
        # a fresh store, and no allocation left from an earlier demo (or its single-file store)
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    print(f"1/3  generating {args.rows:,} rows of multi-cloud FOCUS 1.2 data ({args.months} months)")
    _generate(data / "generated", args.rows, args.months, 42, None, plant_waste=True)
    print("2/3  loading the exports and the real FOCUS 1.0 sample into a fresh store")
    _print_load(_ingest_with_bar([data / "generated"], store, quiet=False), store)
    _print_load(_ingest_with_bar([focus_sample_csv()], store, quiet=False), store)
    print("3/3  cost by provider and billing month")
    _print_summary(cost_by_provider_month(store))
    last_month, shown = _demo_last_month(args.months), min(args.months, 6)
    workbook = _write_overview(store, out / "cost-overview.xlsx", last_month=last_month,
                               months=shown, by="sub_account_name", runtime="server")
    for leftover in out.glob("close-*.xlsx"):
        leftover.unlink()
    report = allocate(store, load_rules(allocation_rules()))
    print(f"\nallocation by the demo rules: {report.groups:,} charge groups into {report.lines:,} "
          f"lines in {report.seconds:.1f} s")
    _print_coverage(report.coverage)
    with store.reader() as con:
        report_command.print_policy_spread(con)
    _demo_opportunities(store, out, last_month, args.months)
    showback = _write_showback(store, out / "showback.xlsx", last_month=last_month, months=shown,
                               runtime="server")
    inputs = {p.name: p for p in write_sample_inputs(out / "inputs")}
    from finops_xl.close.journal import load_ledger_map

    close, accrued = _write_close(store, out / f"close-{last_month:%Y-%m}.xlsx", month=last_month,
                                  ledger=load_ledger_map(inputs["ledger-map.csv"]), budget=inputs["budget.csv"])
    budget = _write_budget(store, out / "budget.xlsx", inputs["drivers.csv"], inputs["unit-costs.csv"])
    print(f"\nstore: {store.path}\nnext:  finops-xl summary --store {store.path}")
    print(f"workbook: {workbook} (cost overview of the last {shown} generated months)")
    print(f"workbook: {showback} (showback statements by team, same months)")
    print(f"workbook: {close} (monthly close of {last_month:%Y-%m}; "
          + ("its data is complete, so nothing is accrued)" if not accrued
             else f"accrual {format_money(accrued)})"))
    print(f"workbook: {budget} (budget of the next 12 months from inputs/drivers.csv and unit-costs.csv)")
    print(f"inputs:   {out / 'inputs'} (rules, ledger map, budget, drivers, unit costs: start your own from them)")
    return 0


def _write_budget(store: CostStore | None, out: Path, drivers_csv: Path, unit_costs_csv: Path, *,
                  months: int = 12, start: dt.date | None = None, coverage=Decimal(0), discount=Decimal(0),
                  fiscal_start: int = 1, runtime: str = "server", scenario: str = "base") -> Path:
    """Build the Budget workbook from a drivers CSV and a unit-costs CSV (with the store's history
    on its Trend sheet when a store is given) and write it to ``out``."""
    from finops_workbooks.budget import build_budget, read_drivers_csv, read_unit_costs_csv
    from finops_workbooks.writer import write_xlsx

    from finops_xl.planning.fiscal import month_range
    from finops_xl.planning.forecast import monthly_history

    drivers = read_drivers_csv(drivers_csv)
    unit_costs = read_unit_costs_csv(unit_costs_csv)
    start = start or min(m for d in drivers for m, _ in d.volumes)
    history = portfolio = None
    if store is not None:
        from finops_xl.commitments.actions import actions_from_store, savings_now, usage_stats
        from finops_xl.commitments.portfolio import inventory

        with store.reader() as con:
            history = monthly_history(con)
            as_of, actions = actions_from_store(con)
            portfolio = (inventory(con, as_of), actions, savings_now(usage_stats(con, as_of)))
    spec = build_budget(drivers, unit_costs, month_range(start, months), commitment=(coverage, discount),
                        calendar_start_month=fiscal_start, history=history, runtime=runtime, scenario=scenario,
                        portfolio=portfolio)
    return write_xlsx(spec, out)


def _cmd_forecast(args: argparse.Namespace) -> int:
    from finops_xl.planning.forecast import monthly_history
    from finops_xl.planning.trend import trend_forecast

    try:
        with _store(args).reader() as con:
            history = monthly_history(con, owner=args.owner, service_category=args.service_category,
                                      currency=args.currency)
        # a gap (a month without cost) breaks the series: forecast from the run after the last one
        gaps = [i for i, (_, amount) in enumerate(history) if amount == 0]
        if gaps and gaps[-1] < len(history) - 1:
            history = history[gaps[-1] + 1:]
        t = trend_forecast(history, args.months, method=args.method, spikes=args.spikes,
                           allow_long=args.long_horizon)
    except ValueError as exc:
        print(f"finops-xl forecast: {exc}", file=sys.stderr)
        return 1
    result = t.result
    print(f"history: {len(history)} month(s); method {result.method_used}"
          + (f" ({result.note})" if result.note else ""))
    print(f"method {t.method}: {t.chosen_by}")
    for w in t.warnings:
        print(f"warning: {w}")
    print(f"  {'month':<8} {'forecast':>14} {'low':>14} {'high':>14}   ({result.interval:.0%} interval)")
    for r in result.rows:
        print(f"  {r.month:%Y-%m}  {format_money(r.forecast):>14} {format_money(r.low):>14} "
              f"{format_money(r.high):>14}")
    if t.backtest is not None:
        treated = (" on the history with its spikes " + {"exclude": "excluded", "damp": "damped"}[t.spike_mode]) if t.spikes and t.spike_mode != "keep" else ""
        print(f"backtest (one month ahead){treated}: " + "; ".join(
            f"{m.method} MAPE {m.mape:.1%} ({m.band})" for m in t.backtest.scores if m.mape is not None))
    if t.accuracy:
        print(f"accuracy of {t.method} month by month (one month ahead, against the actuals):")
        for a in t.accuracy:
            err = "n/a" if a.error is None else f"{a.error:+.1%}"
            print(f"  {a.month:%Y-%m}  forecast {format_money(a.forecast):>14}  actual "
                  f"{format_money(a.actual):>14}  {err:>7}  {a.band}")
    return 0


def _cmd_allocate(args: argparse.Namespace) -> int:
    from finops_xl.allocation.engine import allocate
    from finops_xl.allocation.rules import RuleError, load_rules
    from finops_xl.allocation.showback import statements

    try:
        rules = load_rules(args.rules)
    except RuleError as exc:
        print(f"finops-xl allocate: {exc}", file=sys.stderr)
        return 1
    from finops_xl.allocation.showback import coverage

    store = _store(args)
    try:
        if args.engine == "spark":
            from finops_xl.allocation.spark import allocate_spark

            report = allocate_spark(store, rules, _spark_engine(args))
        else:
            report = allocate(store, rules)
    except (ValueError, FileNotFoundError) as exc:  # e.g. a kubernetes pool's usage file with bad rows
        print(f"finops-xl allocate: {exc}", file=sys.stderr)
        return 1
    print(f"allocated {report.groups:,} charge groups into {report.lines:,} lines in "
          f"{report.seconds:.1f} s (run {report.run_id}{', spark' if args.engine == 'spark' else ''}) "
          f"in {store.path}")
    print(f"rules: {args.rules} (owner: {rules.owner}; pools: "
          f"{', '.join(p.id for p in rules.pools) or 'none'})")
    with store.reader() as con:
        _print_coverage(coverage(con))
        report_command.print_policy_spread(con)
        lines = statements(con)
    if lines:
        _print_owner_totals([s for s in lines if s.month == lines[-1].month], rules.owner)
    return 0


def _cmd_workbook_showback(args: argparse.Namespace) -> int:
    from finops_workbooks.showback_data import NoAllocationError

    from finops_xl.allocation.rules import RuleError

    try:
        path = _write_showback(_store(args), args.out, last_month=args.month,
                               months=args.months, runtime=args.runtime, currency=args.currency,
                               rules_path=args.rules)
    except NoAllocationError as exc:
        print(f"finops-xl workbook showback: {exc}: run `finops-xl allocate --rules FILE` first "
              f"(with the same --store)", file=sys.stderr)
        return 1
    except RuleError as exc:
        print(f"finops-xl workbook showback: cannot read the allocation rules for the Rules sheet "
              f"(pass --rules FILE): {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"finops-xl workbook showback: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def _cmd_workbook_overview(args: argparse.Namespace) -> int:
    from finops_xl.query.costs import QueryError

    try:
        path = _write_overview(_store(args), args.out, last_month=args.month,
                               months=args.months, by=args.by, runtime=args.runtime)
    except (QueryError, ValueError) as exc:
        print(f"finops-xl workbook overview: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def _cmd_workbook_budget(args: argparse.Namespace) -> int:
    try:
        path = _write_budget(_store(args) if args.store is not None else None, args.out,
                             args.drivers, args.unit_costs, months=args.months, start=args.start,
                             coverage=args.coverage, discount=args.discount, fiscal_start=args.fiscal_start,
                             runtime=args.runtime, scenario=args.scenario)
    except (OSError, ValueError, TypeError) as exc:
        print(f"finops-xl workbook budget: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def _cmd_workbook_commitments(args: argparse.Namespace) -> int:
    try:
        path = _write_commitments(args)
    except ValueError as exc:
        print(f"finops-xl workbook commitments: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def _write_commitments(args: argparse.Namespace) -> Path:
    """Build the Commitment purchase workbook (options from --on-demand, else from the store)."""
    from finops_workbooks.commitments import build_commitment_workbook
    from finops_workbooks.commitments_data import (
        gather_commitments,
        gather_portfolio,
        options_from_store,
        typical_options,
    )
    from finops_workbooks.writer import write_xlsx

    from finops_xl.commitments.actions import actions_from_store
    from finops_xl.commitments.recommend import recommend

    store = _store(args) if (args.store or args.on_demand is None) else None
    basis = portfolio = lines = actions = None
    start = args.start
    if store is None:  # typed-in rate and no data: the first of next month, unless --start says
        today = dt.date.today()
        start = start or (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    if store is not None:
        with store.reader() as con:
            portfolio = gather_portfolio(con, args.month)
            start = start or portfolio.as_of  # the purchase starts where the data ends
            if args.on_demand is None:
                scope = args.scope or "compute"
                od, u, options, basis = options_from_store(con, start, scope=scope, provider=args.provider)
                utilization = args.utilization if args.utilization is not None else u
                source = f"store {store.path}, {basis.scope} (optimizer coverage level)"
            lines = recommend(con, provider=args.provider).lines
            actions = actions_from_store(con)[1]
    if args.on_demand is not None:
        od, utilization = args.on_demand, args.utilization if args.utilization is not None else Decimal(1)
        options, source = typical_options(od, start), "on-demand rate typed in (--on-demand)"
    data = gather_commitments(options, on_demand_hourly=od, annual_rate=args.rate, utilization=utilization,
                              start=start, source=source, basis=basis, portfolio=portfolio,
                              recommendations=lines, actions=actions)
    return write_xlsx(build_commitment_workbook(data), args.out)


# ---- helpers -----------------------------------------------------------------------------------


def _rules_for(store: CostStore, path: Path | None):
    """``path``'s rules, else those of the store's last allocation run, else None."""
    from finops_xl.allocation.rules import load_rules

    if path is not None:
        return load_rules(path)
    if store.has_table("allocated_charges"):
        from finops_workbooks.showback_data import read_allocation

        run = read_allocation(store, current=False).run
        if run is not None and run.rules_source and Path(run.rules_source).is_file():
            return load_rules(run.rules_source)
    return None


def _cmd_opportunities(args: argparse.Namespace) -> int:
    from finops_xl.allocation.rules import RuleError
    from finops_xl.optimization import ledger
    from finops_xl.optimization.detectors import detect
    from finops_xl.optimization.rightsizing import UtilizationError, read_utilization

    store = _store(args)
    try:
        rules = _rules_for(store, args.rules)
        if rules is None:
            print("finops-xl opportunities: no allocation rules (--rules FILE, or a store allocated with "
                  "`finops-xl allocate`): findings have no owner, so --owner and --retired match nothing",
                  file=sys.stderr)
        util = read_utilization(args.utilization) if args.utilization else None
        with store.reader() as con:
            findings = detect(con, args.month, rules=rules, retired=args.retired, utilization=util)
    except (RuleError, UtilizationError, ValueError) as exc:
        print(f"finops-xl opportunities: {exc}", file=sys.stderr)
        return 1
    if not args.no_record:
        new, refreshed = ledger.record(store, findings)
        print(f"{len(findings)} findings; savings ledger: {new} new, {refreshed} seen before "
              "(in the store)", file=sys.stderr)
    status = {}
    if store.has_table("opportunities"):  # each finding's status in the ledger, if it is there
        with store.reader() as con:
            status = {o.opportunity_id: o.status for o in ledger.opportunities(con, statuses=ledger.STATUSES)}
    rows = [f for f in findings if (args.owner is None or (f.owner or "").lower() == args.owner.lower())
            and (args.min_savings is None or f.savings >= args.min_savings)]
    if args.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["OpportunityId", "Rule", "ResourceId", "ResourceName", "Owner", "Provider", "SubAccountId",
                    "Service", "Month", "Currency", "MonthlyCost", "EstimatedMonthlySavings", "Confidence",
                    "Status", "Action", "Evidence"])
        for f in rows:
            w.writerow([f.id, f.rule, f.resource_id, f.resource_name, f.owner, f.provider, f.sub_account_id,
                        f.service, f"{f.month:%Y-%m}", f.currency, f.monthly_cost, f.savings, f.confidence,
                        status.get(f.id, ""), f.action, f.evidence])
        return 0
    if not rows:
        print("no opportunities found")
        return 0
    month = rows[0].month
    print(f"opportunities in {month:%Y-%m} ({len(rows)}), largest savings first")
    print(f"{'id':<15} {'rule':<21} {'resource':<28} {'owner':<14} {'cost/month':>12} {'savings/month':>14} "
          f"{'confidence':<10} status")
    for f in rows:
        print(f"{f.id:<15} {f.rule:<21} {(f.resource_name or f.resource_id)[:28]:<28} {(f.owner or '-')[:14]:<14} "
              f"{format_money(f.monthly_cost):>12} {format_money(f.savings):>14} "
              f"{f.confidence:<10} {status.get(f.id, '')}")
    by_cur: dict[str, Decimal] = {}
    for f in rows:  # open = identified or approved (a finding not in the ledger is identified)
        if status.get(f.id, "identified") in ledger.OPEN_STATUSES:
            by_cur[f.currency] = by_cur.get(f.currency, Decimal(0)) + f.savings
    for cur, total in sorted(by_cur.items()):
        print(f"open savings (identified or approved, found in {month:%Y-%m}): {format_money(total)} {cur} "
              f"a month, {format_money(total * 12)} {cur} a year")
    return 0


def _demo_opportunities(store: CostStore, out: Path, last_month: dt.date, months: int) -> None:
    from finops_xl.optimization.demo import demo_ledger

    from finops_xl.optimization.ledger import open_savings

    found, realized = demo_ledger(store, out / "utilization.csv", last_month, months)
    with store.reader() as con:
        total = open_savings(con, last_month).get("USD", Decimal(0))
    print(f"\nopportunities in {last_month:%Y-%m}: {len(found)} findings, {format_money(total)} USD a month "
          f"of open savings; realized this month: {format_money(realized)} USD "
          f"(`finops-xl opportunities --store {store.path}`)")


def _cmd_opportunities_set(args: argparse.Namespace) -> int:
    from finops_xl.optimization.ledger import LedgerError, set_status

    try:
        o = set_status(_store(args), args.opportunity_id, args.status, on=args.on, note=args.note)
    except LedgerError as exc:
        print(f"finops-xl opportunities set: {exc}", file=sys.stderr)
        return 1
    when = f" on {o.implemented_on}" if o.status in ("implemented", "realized") and o.implemented_on else ""
    print(f"{o.opportunity_id} ({o.rule}, {o.resource_name or o.resource_id}): {o.status}{when}")
    return 0


def _cmd_opportunities_report(args: argparse.Namespace) -> int:
    from finops_xl.months import add_months
    from finops_xl.optimization.detectors import analysis_month
    from finops_xl.optimization.ledger import savings_report

    store = _store(args)
    with store.reader() as con:
        last = analysis_month(con, args.month)
        months = [add_months(last, -i) for i in reversed(range(max(1, args.months)))]
        rows = savings_report(con, months)
    if not rows:
        print("no implemented opportunities to measure in "
              f"{months[0]:%Y-%m} to {months[-1]:%Y-%m}")
        return 0
    print(f"{'month':<8} {'owner':<16} {'n':>3} {'projected':>12} {'realized':>12} {'annualized':>13}")
    for r in rows:
        print(f"{r.month:%Y-%m}  {r.owner[:16]:<16} {r.opportunities:>3} {format_money(r.projected):>12} "
              f"{format_money(r.realized):>12} {format_money(r.annualized):>13} {r.currency}")
    print("realized = baseline cost per day (30 days before the change) × days since − actual cost")
    return 0


def _demo_last_month(months: int) -> dt.date:
    """The last month the demo generates (the generator's default start, ``months`` months on)."""
    from finops_xl.sample.generator import SampleSpec

    index = SampleSpec().start.year * 12 + SampleSpec().start.month - 1 + months - 1
    return dt.date(index // 12, index % 12 + 1, 1)


def _write_overview(store: CostStore, out: Path, *, last_month: dt.date, months: int, by: str,
                    runtime: str) -> Path:
    """Build the Cost overview workbook from ``store`` and write it to ``out``."""
    from finops_workbooks.overview import build_overview
    from finops_workbooks.writer import write_xlsx

    from finops_xl.query.costs import queries_for

    spec = build_overview(queries_for(store), store_path=str(store.path), last_month=last_month,
                          months=months, by=by, runtime=runtime)
    return write_xlsx(spec, out)


def _write_showback(store: CostStore, out: Path, *, last_month: dt.date, months: int, runtime: str,
                    currency: str | None = None, rules_path: Path | None = None) -> Path:
    """Build the Showback workbook from ``store``'s current allocation and write it to ``out``.

    The Rules sheet shows ``rules_path``, else the rules file the allocation run recorded.
    """
    from finops_workbooks.showback import build_showback
    from finops_workbooks.showback_data import describe_run, read_allocation, read_tags
    from finops_workbooks.writer import write_xlsx

    from finops_xl.allocation.rules import Finding, RuleError, load_rules

    allocation = read_allocation(store)
    if rules_path is None and allocation.run is None:
        raise RuleError([Finding("(store)", "rules", "the store does not record its rules file")])
    source = str(rules_path) if rules_path is not None else allocation.run.rules_source
    rules = load_rules(source)
    spec = build_showback(allocation.lines, allocation.coverage, rules, store_path=str(store.path),
                          rules_source=source, last_month=last_month, months=months,
                          runtime=runtime, currency=currency,
                          rules_note=describe_run(allocation.run, rules),
                          opportunities=_opportunities_data(store, last_month, months),
                          tags=read_tags(store, last_month))
    return write_xlsx(spec, out)


def _opportunities_data(store: CostStore, last_month: dt.date, months: int):
    """The savings ledger's view for the showback workbook (None when the ledger is empty)."""
    from finops_workbooks.opportunities import OpportunitiesData

    from finops_xl.months import add_months
    from finops_xl.optimization import ledger

    if not store.has_table("opportunities"):
        return None
    shown = tuple(add_months(last_month, -i) for i in reversed(range(max(1, months))))
    with store.reader() as con:
        opps = ledger.opportunities(con, statuses=ledger.STATUSES)
        meas = tuple(m for month in shown for m in ledger.measure(con, month))
    if not opps:
        return None
    return OpportunitiesData(tuple(opps), meas, shown, opps[0].currency)


def _write_close(store: CostStore, out: Path, *, month: dt.date, run=None, ledger=None,
                 budget: Path | None = None) -> tuple[Path, Decimal]:
    """Build the monthly close workbook of ``month`` and write it to ``out``: the numbers of
    ``run`` (a ``run_close`` result) when given, else an accrual computed for the workbook only
    (nothing saved beside the store). Returns the path and the accrual total shown."""
    from finops_workbooks.close import build_close
    from finops_workbooks.close_data import gather_close
    from finops_workbooks.writer import write_xlsx

    from finops_xl.close.journal import LedgerMap

    data = gather_close(store, month, run=run, ledger=ledger or LedgerMap(), budget=budget)
    accrued = data.accrual.total("accrual", data.currency) if data.accrual.lines else Decimal(0)
    return write_xlsx(build_close(data), out), accrued


def _generate(out: Path, rows: int, months: int, seed: int, start: dt.date | None, *,
              plant_waste: bool = False) -> list[Path]:
    from tqdm import tqdm

    from finops_xl.sample.generator import SampleSpec, generate

    spec = SampleSpec(rows=rows, months=months, seed=seed, plant_waste=plant_waste)
    if start is not None:
        spec = SampleSpec(rows=rows, months=months, seed=seed, start=start, plant_waste=plant_waste)
    with tqdm(total=rows, unit="row", unit_scale=True, disable=None, leave=False) as bar:
        return generate(spec, out, progress=bar.update)


def _ingest_with_bar(paths: Sequence, store: CostStore, *, quiet: bool, kubernetes=None) -> LoadReport:
    from tqdm import tqdm

    with tqdm(total=100, unit="%", disable=True if quiet else None, leave=False,
              bar_format="{desc:<40.40} {bar} {percentage:3.0f}% {elapsed}") as bar:
        def progress(stage: str, fraction: float) -> None:
            bar.set_description_str(stage, refresh=False)
            bar.update(max(0.0, round(fraction * 100, 1) - bar.n))

        return ingest(paths, store, progress=progress, kubernetes=kubernetes)


def _print_load(report: LoadReport, store: CostStore) -> None:
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


def _print_coverage(rows) -> None:
    """Allocation coverage per month, with the FinOps maturity."""
    print("Month    Direct  Shared  Unallocated  Allocated  Maturity")
    for c in rows:
        print(f"{c.month:%Y-%m}  {c.direct:>6.1%}  {c.shared:>6.1%}  {c.unallocated:>11.1%}  "
              f"{c.allocated:>9.1%}  {c.maturity}")


def _print_owner_totals(lines, owner_dim: str) -> None:
    """One month's statement totals by owner (per currency), the ROUNDING line last."""
    from finops_xl.allocation.rules import ROUNDING

    for currency in sorted({s.currency for s in lines}):
        mine = [s for s in lines if s.currency == currency]
        print(f"{mine[0].month:%Y-%m} by {owner_dim} (EffectiveCost, {currency})")
        owners = sorted((s for s in mine if s.owner != ROUNDING), key=lambda s: (-s.total, s.owner))
        rounding = [s for s in mine if s.owner == ROUNDING]
        width = max(len(s.owner) for s in mine)
        for s in owners:
            print(f"  {s.owner:<{width}}  {format_money(s.total, currency):>14}")
        for s in rounding:
            print(f"  {s.owner:<{width}}  {s.total:>14.6f}")
        total = sum((s.total for s in mine), Decimal(0))
        print(f"  {'total':<{width}}  {format_money(total, currency):>14}")


def _print_summary(rows) -> None:
    if not rows:
        print("(the store holds no charges)")
        return
    head = ("Provider", "Month", "Cur", "Rows", "BilledCost", "EffectiveCost")
    body = [(r.provider, r.billing_period.strftime("%Y-%m"), r.currency, f"{r.rows:,}",
             format_money(r.billed_cost, r.currency), format_money(r.effective_cost, r.currency))
            for r in rows]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    left = {0, 1, 2}
    for line in [head, *body]:
        print("  ".join(str(v).ljust(w) if i in left else str(v).rjust(w)
                        for i, (v, w) in enumerate(zip(line, widths))))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
