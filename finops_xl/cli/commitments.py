"""``finops-xl commitments [recommend | actions]``: the portfolio, purchase advice and the action list.

Without an action the command shows the portfolio (inventory, a month's KPIs, expiries) as before;
``recommend`` lists buyable lines per provider and scope on uncovered usage
(:mod:`finops_xl.commitments.recommend`); ``actions`` lists what to do with expiring and underused
commitments (:mod:`finops_xl.commitments.actions`).
"""

from __future__ import annotations

import argparse
import csv
import sys
from decimal import ROUND_HALF_EVEN, Decimal

from finops_xl.cli.options import action_store, fail, month_option, store_of
from finops_xl.money import format_money

RECOMMEND_COLUMNS = (
    "provider", "currency", "product", "scope", "term_years", "payment", "discount", "start", "lookback_days",
    "window_start", "window_end", "resolution", "eligible", "covered", "uncovered", "optimized_on",
    "coverage_level", "hourly_commitment", "upfront", "recurring_hourly", "annual_savings", "term_savings",
    "npv", "break_even_utilization", "break_even_months", "utilization", "p10", "p50", "p90",
)
ACTION_COLUMNS = ("action", "commitment_id", "provider", "type", "currency", "end", "days_left", "window",
                  "utilization", "size_monthly", "new_size_monthly", "monthly_savings", "waste_avoided", "reason")


def register(sub, store_opt) -> None:
    q = sub.add_parser("commitments", parents=[store_opt],
                       help="commitment portfolio, purchase recommendations (recommend) and actions (actions)")
    month_option(q, "month of the KPIs (default: the store's last month)")
    q.set_defaults(run=_portfolio)
    actions = q.add_subparsers(dest="action", metavar="[ACTION]",
                               description="without an action: inventory, a month's KPIs, expiring in 30/60/90 days")
    after = action_store()
    a = actions.add_parser(
        "recommend", parents=[after],
        help="what to buy: one line per provider and scope, on the usage no commitment covers yet",
        description="Per provider (never pooled) and scope (a family in a region, then the provider's "
                    "compute spend), on uncovered usage over the lookback ending where the data ends: "
                    "each term and payment optimized at its own discount, the best by NPV kept. Discounts "
                    "are typical list-price discounts (finops_xl.commitments.pricing): check them against "
                    "your quotes.")
    a.add_argument("--provider", default=None, help="only this provider (AWS, Microsoft, Google Cloud)")
    a.add_argument("--lookback", type=int, default=30, metavar="DAYS",
                   help="days of history the profile covers (7, 30 or 60; default 30)")
    a.add_argument("--term", type=int, choices=(1, 3), default=None, help="only this term (years)")
    a.add_argument("--rate", type=Decimal, default=Decimal("0.08"),
                   help="annual discount rate for the NPV that picks term and payment (default 0.08)")
    a.add_argument("--min-savings", type=Decimal, default=Decimal(1000), metavar="AMOUNT",
                   help="smallest annual saving worth a line (default 1000)")
    a.add_argument("--all-options", action="store_true",
                   help="list every option considered (each term and payment of each scope), not only the best")
    a.add_argument("--format", choices=("table", "csv"), default="table")
    a.set_defaults(run=_recommend)
    a = actions.add_parser("actions", parents=[after],
                           help="renew, resize or let lapse what expires in 90/180 days; exchanges, refunds, "
                                "size flexibility")
    a.add_argument("--lookback", type=int, default=30, metavar="DAYS",
                   help="days of utilization the actions are based on (default 30)")
    a.add_argument("--format", choices=("table", "csv"), default="table")
    a.set_defaults(run=_actions)


def _portfolio(args) -> int:
    return _cmd_commitments(args)


_RATIOS = {"discount", "break_even_utilization", "utilization", "p10", "p50", "p90"}
_RATES = {"hourly_commitment", "recurring_hourly"}


def _fmt(value, column: str = "") -> str:
    """A CSV cell: money to the cent, $/h fees to 1e-6, ratios to 1e-4 (exact values stay in Python)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        step = "0.0001" if column in _RATIOS else "0.000001" if column in _RATES else "0.01"
        return str(value.quantize(Decimal(step), ROUND_HALF_EVEN))
    return str(value)


def _csv(rows, columns) -> int:
    """``rows`` as CSV on stdout: a header of ``columns``, then each row's attributes of those names."""
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_fmt(getattr(row, c), c) for c in columns])
    return 0


def _read_lookback(args, command: str, read, days: str = ""):
    """``read(con)`` over the store, once ``--lookback`` is a number of days: (its result, 0), else
    (None, the exit status of the failure, told on stderr)."""
    if args.lookback < 1:
        return None, fail(command, f"--lookback {args.lookback}: give a number of days ≥ 1{days}")
    try:
        with store_of(args).reader() as con:
            return read(con), 0
    except ValueError as exc:
        return None, fail(command, exc)


def _recommend(args) -> int:
    from finops_xl.commitments.recommend import recommend

    r, status = _read_lookback(args, "commitments recommend", lambda con: recommend(
        con, provider=args.provider, lookback_days=args.lookback, rate=args.rate,
        min_annual_savings=args.min_savings, terms=(args.term,) if args.term else None), " (7, 30 or 60)")
    if status:
        return status
    rows = r.candidates if args.all_options else r.lines
    if args.format == "csv":
        return _csv(rows, RECOMMEND_COLUMNS)
    for note in r.notes:
        print(f"note: {note}")
    for window in r.windows:
        print(f"{window.provider}: {window.lookback_days} days {window.start:%Y-%m-%d %H:%M} to "
              f"{window.end:%Y-%m-%d %H:%M} ({window.resolution} data); purchases start {window.end:%Y-%m-%d}")
    if not rows:
        print("nothing to buy: no scope saves the minimum (--min-savings) on uncovered usage")
        return 0
    print(f"{'provider':<13} {'scope':<28} {'term':>4} {'payment':<15} {'$/h cover':>10} {'$/h fee':>9} "
          f"{'upfront':>12} {'savings/yr':>12} {'NPV':>12} {'BE mo':>5} {'P10':>5} {'P50':>5} {'P90':>5}")
    for x in rows:
        pct = lambda v: "" if v is None else f"{v * 100:.0f}%"  # noqa: E731
        print(f"{x.provider:<13} {x.scope[:28]:<28} {x.term_years:>3}y {x.payment:<15} "
              f"{format_money(x.coverage_level):>10} {format_money(x.hourly_commitment):>9} "
              f"{format_money(x.upfront):>12} {format_money(x.annual_savings):>12} {format_money(x.npv):>12} "
              f"{_fmt(x.break_even_months):>5} {pct(x.p10):>5} {pct(x.p50):>5} {pct(x.p90):>5}")
    total = sum((x.annual_savings for x in r.lines), Decimal(0))
    print(f"{len(r.lines)} line(s), {format_money(total)} a year of expected savings "
          f"({len(r.candidates)} options considered; --all-options lists them)")
    return 0


def _actions(args) -> int:
    from finops_xl.commitments.actions import ActionOptions, actions_from_store

    found, status = _read_lookback(args, "commitments actions", lambda con: actions_from_store(
        con, options=ActionOptions(lookback_days=args.lookback)))
    if status:
        return status
    as_of, rows = found
    if args.format == "csv":
        return _csv(rows, ACTION_COLUMNS)
    print(f"Commitment actions as of {as_of:%Y-%m-%d} ({len(rows)})")
    for a in rows:
        when = f"ends {a.end:%Y-%m-%d} ({a.days_left} d)"
        print(f"  {a.action:<16} {a.commitment_id[-28:]:<28} {a.provider:<12} {when:<24} "
              f"savings {format_money(a.monthly_savings)}/mo  waste avoided {format_money(a.waste_avoided)}/mo")
        print(f"  {'':<16} {a.reason}")
    return 0


def assumed_terms(con) -> list[str]:
    """Warnings for the commitments whose term no row states (their default term is an assumption)."""
    from finops_xl.close.amortization import commitments_from_store
    from finops_xl.close.commitment_terms import assumed_term_warnings

    return assumed_term_warnings(commitments_from_store(con))


def _pct(x) -> str:
    return "n/a" if x is None else f"{x * 100:.1f}%"


def _short_id(commitment_id: str, width: int = 28) -> str:
    """A provider's long commitment id (ARN, Azure resource path) shortened for a terminal column:
    its tail, which is what tells commitments apart."""
    return commitment_id if len(commitment_id) <= width else "…" + commitment_id[-(width - 1):]


def _cmd_commitments(args: argparse.Namespace) -> int:
    from finops_workbooks.commitments_data import gather_portfolio

    try:
        with store_of(args).reader() as con:
            p = gather_portfolio(con, args.month)
            warnings = assumed_terms(con)
    except ValueError as exc:
        return fail("commitments", exc)
    print(f"Commitments as of {p.as_of:%Y-%m-%d} ({len(p.inventory)})")
    for line in warnings:
        print(f"  {line}")
    for c in p.inventory:
        print(f"  {_short_id(c.id):<28} {c.provider:<12} {c.type:<18} {c.start:%Y-%m-%d} to {c.end:%Y-%m-%d} "
              f"{c.status:<8} upfront {format_money(c.upfront)}  monthly {format_money(c.recurring_monthly)}")
    print(f"KPIs {p.month:%Y-%m}")
    print(f"  {'commitment':<28} {'util.':>7} {'coverage':>9} {'ESR':>7} {'waste':>14}")
    for k in (*p.kpis, *p.kpis_all):
        key = "all" if k.by == "all" else k.key
        print(f"  {_short_id(key):<28} {_pct(k.utilization):>7} {_pct(k.coverage):>9} {_pct(k.esr):>7} "
              f"{format_money(k.waste):>14} {k.currency}")
    for window in (30, 60, 90):
        rows = [e for e in p.expiring if e.window == window]
        print(f"Expiring within {window} days: {len(rows)}")
        for e in rows:
            print(f"  {_short_id(e.id):<28} ends {e.end:%Y-%m-%d} ({e.days_left} d)  utilization {_pct(e.utilization)}"
                  f"  {e.suggestion}")
    return 0
