"""``finops-xl allocate --rules FILE``: allocate every cost in the store to owners by rules."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

from finops_xl.cli.options import engine_options, spark_engine, store_of
from finops_xl.cli.report import print_policy_spread
from finops_xl.money import format_money


def register(sub, store_opt) -> None:
    q = sub.add_parser("allocate", parents=[store_opt, engine_options()],
                       help="allocate every cost in the store to owners by rules (replaces the last allocation)")
    q.add_argument("--rules", type=Path, required=True, metavar="FILE", help="allocation rules (YAML)")
    q.set_defaults(run=_cmd_allocate)


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

    store = store_of(args)
    try:
        if args.engine == "spark":
            from finops_xl.allocation.spark import allocate_spark

            report = allocate_spark(store, rules, spark_engine(args))
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
        print_coverage(coverage(con))
        print_policy_spread(con)
        lines = statements(con)
    if lines:
        _print_owner_totals([s for s in lines if s.month == lines[-1].month], rules.owner)
    return 0


def print_coverage(rows) -> None:
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
