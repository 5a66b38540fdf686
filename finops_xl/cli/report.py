"""``finops-xl report`` (the monthly leader pack) and ``finops-xl tags`` (tag governance)."""

from __future__ import annotations

import argparse
import csv
import sys
from decimal import Decimal
from pathlib import Path

from finops_xl.cli.options import fail, month_option, store_of
from finops_xl.money import format_money


def _share(text: str) -> Decimal:
    try:
        value = Decimal(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"expected a share like 5% or 0.05, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"the target must be between 0% and 100%, got {text!r}")
    return value


def register(sub, store_opt) -> None:
    q = sub.add_parser("report", parents=[store_opt],
                       help="the monthly leader pack: finance, one page per owner, tag governance "
                            "(HTML and PDF)")
    month_option(q, "the month reported", required=True)
    q.add_argument("--owner", default=None, help="only this owner's page (with finance and tags)")
    q.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the HTML and PDF")
    q.add_argument("--budget", type=Path, default=None, metavar="CSV",
                   help="budget lines (owner,service_category,month,amount), as finops-xl close reads")
    q.add_argument("--business", type=Path, default=None, metavar="CSV",
                   help="business volumes and revenue (month,owner,metric,value) for unit economics")
    q.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    q.set_defaults(run=_cmd_report)

    q = sub.add_parser("tags", parents=[store_opt],
                       help="tag governance: untagged spend before any policy spread, tag-key compliance")
    month_option(q, "the month (default: the last allocated month)")
    q.add_argument("--target", type=_share, default=None, metavar="SHARE",
                   help="target share of untagged spend (default 5%%)")
    q.add_argument("--format", choices=("text", "csv"), default="text")
    q.set_defaults(run=_cmd_tags)


def _existing_store(args: argparse.Namespace):
    """The store the command names; none there yet is a ``StoreError`` (exit status 1)."""
    from finops_xl.store.errors import StoreError

    store = store_of(args)
    if not store.exists():
        raise StoreError(f"no store at {store.path}: load exports with finops-xl ingest first")
    return store


def _cmd_report(args: argparse.Namespace) -> int:
    from finops_xl.close.variance import BudgetError
    from finops_xl.report import ReportError
    from finops_xl.report.build import build_report

    store = _existing_store(args)
    try:
        w = build_report(store, args.month, args.out.resolve(), owner=args.owner, budget=args.budget,
                         business=args.business, pdf=not args.no_pdf)
    except (ReportError, BudgetError) as exc:
        return fail("report", exc)
    d = w.data
    print(f"{d.month:%B %Y}: {format_money(d.total, d.currency)} {d.currency}, "
          f"{len(d.owners)} owner page(s), untagged {d.governance.current.untagged_share:.1%}")
    print(f"html: {w.html}")
    if w.pdf:
        print(f"pdf:  {w.pdf}")
    return 0


def _cmd_tags(args: argparse.Namespace) -> int:
    from finops_xl.report import ReportError
    from finops_xl.report.governance import TARGET, tag_governance

    store = _existing_store(args)
    try:
        with store.reader() as con:
            month = args.month
            if month is None:
                from finops_xl.report.governance import require_allocation

                require_allocation(con)
                month = con.execute("SELECT max(month) FROM allocated_charges").fetchall()[0][0]
            g = tag_governance(con, month, target=args.target if args.target is not None else TARGET)
    except ReportError as exc:
        return fail("tags", exc)
    if args.format == "csv":
        _tags_csv(g)
    else:
        _tags_text(g)
    return 0


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _tags_csv(g) -> None:
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["section", "month", "key", "amount", "share"])
    for t in g.trend:
        w.writerow(["untagged", f"{t.month:%Y-%m}", "", t.untagged, t.untagged_share])
        w.writerow(["unallocatable", f"{t.month:%Y-%m}", "", t.unallocatable, t.unallocatable_share])
    for c in g.coverage:
        for part in ("by_tag", "by_hierarchy", "shared_by_rule", "spread_by_policy", "unallocated"):
            w.writerow(["coverage", f"{c.month:%Y-%m}", part, getattr(c, part), c.share(part)])
    for a in g.by_account:
        w.writerow(["untagged_by_account", f"{g.month:%Y-%m}", a.label, a.untagged, a.share])
    for a in g.by_owner:
        w.writerow(["untagged_by_owner", f"{g.month:%Y-%m}", a.label, a.untagged, a.share])
    for c in g.compliance:
        w.writerow(["compliance", f"{g.month:%Y-%m}", c.dimension, c.compliant, c.share])
    for r in g.resources:
        w.writerow(["untagged_resource", f"{g.month:%Y-%m}", r.resource_id, r.cost, ""])


def _tags_text(g) -> None:
    cur = g.current
    print(f"Tag governance, {g.month:%Y-%m} (owner tag: {g.owner_dimension})")
    print(f"untagged spend:      {format_money(cur.untagged):>14}  {_pct(cur.untagged_share):>6} "
          f"(before any policy spread; target {_pct(g.target)})")
    print(f"unallocatable spend: {format_money(cur.unallocatable):>14}  {_pct(cur.unallocatable_share):>6} "
          "(no tag, account default or hierarchy)")
    print("\nMonth    Untagged  By tag or hierarchy  Shared by rule  Spread by policy  Unallocated")
    trend = {t.month: t for t in g.trend}
    for c in g.coverage:
        t = trend.get(c.month)
        print(f"{c.month:%Y-%m}  {_pct(t.untagged_share if t else None):>8}  "
              f"{_pct(c.share('tag_or_hierarchy')):>19}  {_pct(c.share('shared_by_rule')):>14}  "
              f"{_pct(c.share('spread_by_policy')):>16}  {_pct(c.share('unallocated')):>11}")
    print("\nTag key       Valid  Non-standard  Missing")
    for c in g.compliance:
        t = c.total
        print(f"{c.dimension:<12} {_pct(c.share):>6}  {_pct(c.nonstandard / t if t else None):>12}  "
              f"{_pct(c.missing / t if t else None):>7}")
    print("\nUntagged by account                              Untagged   Of account")
    for a in g.by_account[:10]:
        print(f"{a.label[:46]:<46} {format_money(a.untagged):>12}  {_pct(a.share):>10}")
    print("\nTop untagged resources                           Cost  Account")
    for r in g.resources:
        print(f"{(r.resource_name or r.resource_id)[:44]:<44} {format_money(r.cost):>12}  {r.account}")


def print_policy_spread(con) -> None:
    """After a coverage table: how much of the last month's "allocated" cost is untagged spend a
    policy spread, rather than ownership a tag or the hierarchy proves."""
    from finops_xl.report.governance import coverage_split, policy_pools, run_rules

    pools = policy_pools(con, run_rules(con))
    months = [c for c in coverage_split(con, pools) if c.total]
    if not pools or not months:
        return
    last = months[-1]
    print(f"of it in {last.month:%Y-%m}: {last.share('tag_or_hierarchy'):.1%} allocated by tag or hierarchy, "
          f"{last.share('shared_by_rule'):.1%} shared services split by rule, "
          f"{last.share('spread_by_policy'):.1%} untagged spend spread by policy "
          f"({', '.join(pools)}); see finops-xl tags")
