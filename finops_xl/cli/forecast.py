"""``finops-xl forecast``: the monthly cost forecast from the store's history, with a backtest."""

from __future__ import annotations

import argparse
import sys

from finops_xl.cli.options import store_of
from finops_xl.money import format_money


def register(sub, store_opt) -> None:
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


def _cmd_forecast(args: argparse.Namespace) -> int:
    from finops_xl.planning.forecast import monthly_history
    from finops_xl.planning.trend import trend_forecast

    try:
        with store_of(args).reader() as con:
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
