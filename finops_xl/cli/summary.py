"""``finops-xl summary [--format csv]``: cost by provider and billing month."""

from __future__ import annotations

import argparse
import csv
import sys

from finops_xl.cli.options import store_of
from finops_xl.money import format_money
from finops_xl.store.summary import cost_by_provider_month


def register(sub, store_opt) -> None:
    q = sub.add_parser("summary", parents=[store_opt], help="cost by provider and month")
    q.add_argument("--format", choices=("table", "csv"), default="table")
    q.set_defaults(run=_cmd_summary)


def _cmd_summary(args: argparse.Namespace) -> int:
    rows = cost_by_provider_month(store_of(args))
    if args.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["ProviderName", "BillingPeriod", "BillingCurrency", "Rows", "BilledCost", "EffectiveCost"])
        for r in rows:
            w.writerow([r.provider, r.billing_period.strftime("%Y-%m"), r.currency, r.rows,
                        r.billed_cost, r.effective_cost])
        return 0
    print_summary(rows)
    return 0


def print_summary(rows) -> None:
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
