"""``finops-xl workbook TEMPLATE``: build a template workbook (.xlsx) from the store (overview,
showback, commitments, budget; design is ``cli.design``'s)."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal
from pathlib import Path

from finops_xl.cli import design
from finops_xl.cli.options import month, month_option, report_written, store_of, workbook_out
from finops_xl.store.store import CostStore


def register(sub, store_opt) -> None:
    q = sub.add_parser("workbook", help="build a template workbook (.xlsx) from the store")
    templates = q.add_subparsers(dest="template", required=True, metavar="TEMPLATE")
    w = templates.add_parser(
        "overview", parents=[store_opt],
        help="Cost overview: monthly cost by a dimension, native formulas and a chart",
    )
    _shown_options(w)
    w.add_argument("--by", default="sub_account", metavar="DIM",
                   help="breakdown dimension, e.g. sub_account, service, tag:team (default sub_account)")
    _runtime_option(w)
    w.set_defaults(run=_cmd_workbook_overview)
    w = templates.add_parser(
        "showback", parents=[store_opt],
        help="Showback: each owner's allocated cost by month, statements, coverage (run allocate first)",
    )
    _shown_options(w)
    _runtime_option(w)
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
    workbook_out(w)
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
    month_option(w, "month of the Portfolio sheet's KPIs (default: the store's last month)")
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
    workbook_out(w)
    w.add_argument("--drivers", type=Path, required=True, metavar="FILE",
                   help="driver volumes CSV: owner, driver, unit, month, volume")
    w.add_argument("--unit-costs", type=Path, required=True, metavar="FILE",
                   help="unit costs CSV: owner, driver, cost_per_unit")
    w.add_argument("--store", default=None, metavar="PATH",
                   help="cost store for the Trend sheet (history + forecast); none: no Trend sheet")
    w.add_argument("--months", type=int, default=12, help="months budgeted (default 12)")
    w.add_argument("--start", type=month, default=None, metavar="YYYY-MM",
                   help="first month budgeted (default: the first month of the drivers file)")
    w.add_argument("--fiscal-start", type=int, default=1, metavar="M",
                   help="calendar month (1-12) in which the fiscal year starts (default 1)")
    w.add_argument("--coverage", type=Decimal, default=Decimal(0),
                   help="commitment coverage 0-1 (default 0)")
    w.add_argument("--discount", type=Decimal, default=Decimal(0),
                   help="commitment discount 0-1 (default 0)")
    w.add_argument("--scenario", choices=("base", "low", "high"), default="base",
                   help="initial value of the scenario switch (default base)")
    _runtime_option(w, "the FINOPS.FORECAST formula on the Trend sheet")
    w.set_defaults(run=_cmd_workbook_budget)
    design.register_workbook(templates, store_opt)


def _shown_options(w) -> None:
    """The months a store's workbook shows (``--months`` up to ``--month``) and its ``--out``."""
    month_option(w, "last month shown", required=True)
    workbook_out(w)
    w.add_argument("--months", type=int, default=6, help="months shown (default 6)")


def _runtime_option(w, runs: str = "the FINOPS functions on the Live sheet") -> None:
    w.add_argument("--runtime", choices=("server", "classic", "lite"), default="server",
                   help=f"Excel runtime of {runs} (default server)")


def _cmd_workbook_showback(args: argparse.Namespace) -> int:
    from finops_workbooks.showback_data import NoAllocationError

    from finops_xl.allocation.rules import RuleError

    def problem(exc: Exception) -> str:
        if isinstance(exc, NoAllocationError):
            return f"{exc}: run `finops-xl allocate --rules FILE` first (with the same --store)"
        if isinstance(exc, RuleError):
            return f"cannot read the allocation rules for the Rules sheet (pass --rules FILE): {exc}"
        return str(exc)

    return report_written("workbook showback", lambda: write_showback(
        store_of(args), args.out, last_month=args.month, months=args.months, runtime=args.runtime,
        currency=args.currency, rules_path=args.rules), (NoAllocationError, RuleError, ValueError), problem)


def _cmd_workbook_overview(args: argparse.Namespace) -> int:
    from finops_xl.query.costs import QueryError

    return report_written("workbook overview", lambda: write_overview(
        store_of(args), args.out, last_month=args.month, months=args.months, by=args.by,
        runtime=args.runtime), (QueryError, ValueError))


def _cmd_workbook_budget(args: argparse.Namespace) -> int:
    return report_written("workbook budget", lambda: write_budget(
        store_of(args) if args.store is not None else None, args.out, args.drivers, args.unit_costs,
        months=args.months, start=args.start, coverage=args.coverage, discount=args.discount,
        fiscal_start=args.fiscal_start, runtime=args.runtime, scenario=args.scenario),
        (OSError, ValueError, TypeError))


def _cmd_workbook_commitments(args: argparse.Namespace) -> int:
    return report_written("workbook commitments", lambda: _write_commitments(args))


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

    store = store_of(args) if (args.store or args.on_demand is None) else None
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


def write_overview(store: CostStore, out: Path, *, last_month: dt.date, months: int, by: str,
                    runtime: str) -> Path:
    """Build the Cost overview workbook from ``store`` and write it to ``out``."""
    from finops_workbooks.overview import build_overview
    from finops_workbooks.writer import write_xlsx

    from finops_xl.query.costs import queries_for

    spec = build_overview(queries_for(store), store_path=str(store.path), last_month=last_month,
                          months=months, by=by, runtime=runtime)
    return write_xlsx(spec, out)


def write_showback(store: CostStore, out: Path, *, last_month: dt.date, months: int, runtime: str,
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
                          tags=read_tags(store, last_month), store_version=allocation.store_version)
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


def write_budget(store: CostStore | None, out: Path, drivers_csv: Path, unit_costs_csv: Path, *,
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
