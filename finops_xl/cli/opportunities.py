"""``finops-xl opportunities``: idle, orphaned and oversized resources priced per owner; the savings
ledger (``set``, ``report``)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

from finops_xl.cli.options import action_store, fail, month_option, store_of
from finops_xl.money import format_money
from finops_xl.store.store import CostStore


def register(sub, store_opt) -> None:
    q = sub.add_parser("opportunities", parents=[store_opt],
                       help="idle, orphaned and oversized resources priced per owner; the savings ledger")
    month_option(q, "month to analyse (default: the store's last month)")
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
    after = action_store()
    a = actions.add_parser("set", parents=[after], help="move an opportunity to a new status (approved, implemented, ...)")
    a.add_argument("opportunity_id", metavar="ID")
    a.add_argument("status", choices=("identified", "approved", "implemented", "realized", "rejected"))
    a.add_argument("--on", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="the day it took effect (implemented: the day the change was made; default today)")
    a.add_argument("--note", default=None)
    a.set_defaults(run=_cmd_opportunities_set)
    a = actions.add_parser("report", parents=[after], help="projected vs realized savings by owner and month")
    month_option(a, "last month of the report (default: the store's last month)", default=argparse.SUPPRESS)
    a.add_argument("--months", type=int, default=3, help="months ending with --month (default 3)")
    a.set_defaults(run=_cmd_opportunities_report)


def _cmd_opportunities(args: argparse.Namespace) -> int:
    from finops_xl.allocation.rules import RuleError
    from finops_xl.optimization import ledger
    from finops_xl.optimization.detectors import detect
    from finops_xl.optimization.rightsizing import UtilizationError, read_utilization

    store = store_of(args)
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
        return fail("opportunities", exc)
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


def _cmd_opportunities_set(args: argparse.Namespace) -> int:
    from finops_xl.optimization.ledger import LedgerError, set_status

    try:
        o = set_status(store_of(args), args.opportunity_id, args.status, on=args.on, note=args.note)
    except LedgerError as exc:
        return fail("opportunities set", exc)
    when = f" on {o.implemented_on}" if o.status in ("implemented", "realized") and o.implemented_on else ""
    print(f"{o.opportunity_id} ({o.rule}, {o.resource_name or o.resource_id}): {o.status}{when}")
    return 0


def _cmd_opportunities_report(args: argparse.Namespace) -> int:
    from finops_xl.months import add_months
    from finops_xl.optimization.detectors import analysis_month
    from finops_xl.optimization.ledger import savings_report

    store = store_of(args)
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
