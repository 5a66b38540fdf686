"""``finops-xl demo``: generate sample data, load a fresh store, allocate it, find opportunities and
write the workbooks."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

from finops_xl.cli.allocate import print_coverage
from finops_xl.cli.ingest import ingest_with_bar, print_load
from finops_xl.cli.report import print_policy_spread
from finops_xl.cli.sample import generate_sample
from finops_xl.cli.summary import print_summary
from finops_xl.cli.workbook import write_budget, write_overview, write_showback
from finops_xl.money import format_money
from finops_xl.store.store import CostStore
from finops_xl.store.summary import cost_by_provider_month


def register(sub, store_opt) -> None:
    q = sub.add_parser("demo", help="generate sample data, load a fresh store, show the summary")
    q.add_argument("--out", type=Path, default=Path("finops-demo"), metavar="DIR",
                   help="output folder (default ./finops-demo)")
    q.add_argument("--rows", type=int, default=200_000, help="generated rows (default 200000)")
    q.add_argument("--months", type=int, default=6, help="generated months (default 6)")
    q.set_defaults(run=_cmd_demo)


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
    generate_sample(data / "generated", args.rows, args.months, 42, None, plant_waste=True)
    print("2/3  loading the exports and the real FOCUS 1.0 sample into a fresh store")
    print_load(ingest_with_bar([data / "generated"], store, quiet=False), store)
    print_load(ingest_with_bar([focus_sample_csv()], store, quiet=False), store)
    print("3/3  cost by provider and billing month")
    print_summary(cost_by_provider_month(store))
    last_month, shown = _demo_last_month(args.months), min(args.months, 6)
    workbook = write_overview(store, out / "cost-overview.xlsx", last_month=last_month,
                               months=shown, by="sub_account_name", runtime="server")
    for leftover in out.glob("close-*.xlsx"):
        leftover.unlink()
    report = allocate(store, load_rules(allocation_rules()))
    print(f"\nallocation by the demo rules: {report.groups:,} charge groups into {report.lines:,} "
          f"lines in {report.seconds:.1f} s")
    print_coverage(report.coverage)
    with store.reader() as con:
        print_policy_spread(con)
    _demo_opportunities(store, out, last_month, args.months)
    showback = write_showback(store, out / "showback.xlsx", last_month=last_month, months=shown,
                               runtime="server")
    inputs = {p.name: p for p in write_sample_inputs(out / "inputs")}
    from finops_xl.close.journal import load_ledger_map

    close, accrued = _write_close(store, out / f"close-{last_month:%Y-%m}.xlsx", month=last_month,
                                  ledger=load_ledger_map(inputs["ledger-map.csv"]), budget=inputs["budget.csv"])
    budget = write_budget(store, out / "budget.xlsx", inputs["drivers.csv"], inputs["unit-costs.csv"])
    print(f"\nstore: {store.path}\nnext:  finops-xl summary --store {store.path}")
    print(f"workbook: {workbook} (cost overview of the last {shown} generated months)")
    print(f"workbook: {showback} (showback statements by team, same months)")
    print(f"workbook: {close} (monthly close of {last_month:%Y-%m}; "
          + ("its data is complete, so nothing is accrued)" if not accrued
             else f"accrual {format_money(accrued)})"))
    print(f"workbook: {budget} (budget of the next 12 months from inputs/drivers.csv and unit-costs.csv)")
    print(f"inputs:   {out / 'inputs'} (rules, ledger map, budget, drivers, unit costs: start your own from them)")
    return 0


def _demo_last_month(months: int) -> dt.date:
    """The last month the demo generates (the generator's default start, ``months`` months on)."""
    from finops_xl.sample.generator import SampleSpec

    index = SampleSpec().start.year * 12 + SampleSpec().start.month - 1 + months - 1
    return dt.date(index // 12, index % 12 + 1, 1)


def _demo_opportunities(store: CostStore, out: Path, last_month: dt.date, months: int) -> None:
    from finops_xl.optimization.demo import demo_ledger

    from finops_xl.optimization.ledger import open_savings

    found, realized = demo_ledger(store, out / "utilization.csv", last_month, months)
    with store.reader() as con:
        total = open_savings(con, last_month).get("USD", Decimal(0))
    print(f"\nopportunities in {last_month:%Y-%m}: {len(found)} findings, {format_money(total)} USD a month "
          f"of open savings; realized this month: {format_money(realized)} USD "
          f"(`finops-xl opportunities --store {store.path}`)")


def _write_close(store: CostStore, out: Path, *, month: dt.date, run=None, ledger=None,
                 budget: Path | None = None) -> tuple[Path, Decimal]:
    """Build the monthly close workbook of ``month`` and write it to ``out``: the numbers of
    ``run`` (a ``run_close`` result) when given, else an accrual computed for the workbook only
    (nothing saved beside the store). Returns the path and the accrual total shown."""
    from finops_workbooks.close import build_close
    from finops_xl.close.gather import gather_close
    from finops_workbooks.writer import write_xlsx

    from finops_xl.close.journal import LedgerMap

    data = gather_close(store, month, run=run, ledger=ledger or LedgerMap(), budget=budget)
    accrued = data.accrual.total("accrual", data.currency) if data.accrual.lines else Decimal(0)
    return write_xlsx(build_close(data), out), accrued
