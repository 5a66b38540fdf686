"""``finops-xl prices``, ``finops-xl design`` and ``finops-xl workbook design``: architecture reviews
with a cost lens.

- ``prices [--provider P] [--service S] [--format csv]`` — the price book from the bill: list,
  contracted and effective unit price per SKU, region, pricing category and unit, with the months
  observed and the quantity behind each.
- ``design --model FILE [--store S] [--rate R] [--monthly] [--format csv]`` — each alternative's cost over the
  model's months, migration costs, NPV of the difference against the baseline, break-even month
  and the tornado of the main assumptions.
- ``workbook design --model FILE --out FILE [--store S] [--rate R]`` — the same as a workbook of
  native ``quantity × price`` formulas over a Price book and an Assumptions sheet, with charts.
"""

from __future__ import annotations

import argparse
import csv
import sys
from decimal import Decimal
from pathlib import Path

from finops_xl.cli.options import fail, report_written, store_of, workbook_out
from finops_xl.money import format_money
from finops_xl.store.store import CostStore

__all__ = ["register", "register_workbook"]


def register(sub, store_opt) -> None:
    """Add ``prices`` and ``design`` to the command line's subparsers."""
    q = sub.add_parser("prices", parents=[store_opt],
                       help="the price book from the bill: list, contracted and effective unit prices")
    q.add_argument("--provider", default=None, help="only this provider (ProviderName)")
    q.add_argument("--service", default=None, help="only this service (ServiceName)")
    q.add_argument("--format", choices=("table", "csv"), default="table")
    q.set_defaults(run=_cmd_prices)

    q = sub.add_parser("design", help="price design alternatives over months: NPV, break-even, tornado",
                       description="Prices a design model (YAML; the bundled example is "
                                   "finops_xl.data.design_model()). With --store, prices naming a SKU "
                                   "or service come from the bill; the others are assumptions.")
    _model_options(q, init=True)
    q.add_argument("--monthly", action="store_true", help="also print every month's cost")
    q.add_argument("--format", choices=("table", "csv"), default="table",
                   help="csv: one row per period (0 = the start day) with each alternative's cost "
                        "(operating + migration) and its flow against the baseline")
    q.set_defaults(run=_cmd_design)


def register_workbook(templates, store_opt) -> None:
    """Add ``design`` to the templates of ``finops-xl workbook``."""
    w = templates.add_parser("design", help="Design review: alternatives as native quantity × price "
                                            "formulas over a price book, NPV, break-even, charts")
    _model_options(w)
    workbook_out(w)
    w.set_defaults(run=_cmd_workbook_design)


def _model_options(q, init: bool = False) -> None:
    if init:
        g = q.add_mutually_exclusive_group(required=True)
        g.add_argument("--model", type=Path, metavar="FILE", help="design model (YAML)")
        g.add_argument("--init", type=Path, metavar="FILE",
                       help="write the bundled example model (monolith to services) to FILE, to edit")
    else:
        q.add_argument("--model", type=Path, required=True, metavar="FILE", help="design model (YAML)")
    q.add_argument("--store", default=None, metavar="PATH",
                   help="cost store whose bill prices the components (default: none; stated prices only)")
    q.add_argument("--rate", type=Decimal, default=None, metavar="R",
                   help="annual discount rate (default: the model's discount_rate)")


# ---- prices -----------------------------------------------------------------------------------


def _text(v) -> str:
    if v is None:
        return ""
    return f"{v:.10g}" if isinstance(v, Decimal) else str(v)


def _cmd_prices(args: argparse.Namespace) -> int:
    from finops_xl.design.prices import PriceBookRow, price_book

    with store_of(args).reader() as con:
        rows = price_book(con, provider=args.provider, service=args.service)
    if not rows:
        what = " ".join(f"{k} {v!r}" for k, v in (("provider", args.provider), ("service", args.service)) if v)
        print(f"finops-xl prices: no usage with a pricing quantity{' for ' + what if what else ''} in the "
              "store; check the names with `finops-xl summary`", file=sys.stderr)
        return 1
    if args.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(PriceBookRow.HEADER)
        for r in rows:
            w.writerow(["" if v is None else (f"{v:f}" if isinstance(v, Decimal) else v) for v in r.values()])
        return 0
    print(f"Price book from the bill ({len(rows)} prices; unit prices per pricing unit)")
    print(f"  {'provider':<12} {'service':<32} {'sku / instance':<22} {'region':<14} {'pricing':<10} "
          f"{'unit':<16} {'list':>12} {'contracted':>12} {'effective':>12} {'quantity':>16} {'months':>6}")
    for r in rows:
        print(f"  {r.provider:<12} {(r.service or '')[:32]:<32} {(r.instance_type or r.sku_id or '')[:22]:<22} "
              f"{(r.region or '')[:14]:<14} {(r.pricing_category or '')[:10]:<10} {(r.pricing_unit or '')[:16]:<16} "
              f"{_text(r.list_unit_price):>12} {_text(r.contracted_unit_price):>12} "
              f"{_text(r.effective_unit_price):>12} {_text(r.pricing_quantity):>16} {r.months:>6}")
    return 0


# ---- design -----------------------------------------------------------------------------------


def priced_model(model_path: Path, store: str | None, rate: Decimal | None):
    """The model, its resolved prices and the bill's price book (None without a store)."""
    from finops_xl.design.evaluate import resolve_prices
    from finops_xl.design.model import load_model
    from finops_xl.design.prices import price_book

    model = load_model(model_path)
    if rate is not None:
        if not Decimal(-1) < rate <= 1:
            raise ValueError(f"--rate {rate}: give the annual rate as a fraction, e.g. 0.08 for 8%")
        model = model.replace(discount_rate=rate)
    book = None
    if store is not None:
        with CostStore(store).reader() as con:
            book = price_book(con)
    return model, resolve_prices(model, book), book


def _cmd_design(args: argparse.Namespace) -> int:
    from finops_xl.design.evaluate import evaluate, tornado

    if args.init is not None:
        return _init(args.init)
    try:
        model, prices, _ = priced_model(args.model, args.store, args.rate)
        result, bars = evaluate(model, prices), tornado(model, prices)
    except ValueError as exc:
        return fail("design", exc)
    if args.format == "csv":
        return _design_csv(result)
    cur = model.currency
    print(f"{model.name}: {model.months} months from {model.start:%Y-%m}, discount rate "
          f"{model.discount_rate * 100:.1f}%, baseline {model.baseline}")
    n_bill = sum(1 for p in prices.values() if not p.is_assumption)
    print(f"Prices: {n_bill} from the bill, {len(prices) - n_bill} assumptions")
    for name, p in prices.items():
        print(f"  {name:<22} {_text(p.unit_price):>14} {cur} per {p.unit or 'unit':<12} {p.source:<10} {p.note}")
    print(f"  {'alternative':<22} {'operating':>14} {'migration':>12} {'total':>14} "
          f"{'NPV vs ' + model.baseline:>18} {'break-even':>11}")
    for a in result.alternatives:
        be = "-" if a.flows is None else ("never" if a.breakeven_month is None else f"month {a.breakeven_month}")
        npv = "-" if a.npv is None else format_money(a.npv, cur)
        print(f"  {a.name:<22} {format_money(sum(a.monthly, Decimal(0)), cur):>14} "
              f"{format_money(sum(a.migration, Decimal(0)), cur):>12} {format_money(a.total, cur):>14} "
              f"{npv:>18} {be:>11}")
    print("Cost by year")
    for y in range(0, model.months, 12):
        cells = "  ".join(f"{a.name} {format_money(sum(a.monthly[y:y + 12], Decimal(0)), cur)}"
                          for a in result.alternatives)
        print(f"  year {y // 12 + 1}: {cells}")
    if args.monthly:
        print(f"  {'month':<8} " + " ".join(f"{a.name:>16}" for a in result.alternatives))
        for k in range(model.months):
            print(f"  {result.dates[k + 1]:%Y-%m}  " + " ".join(
                f"{format_money(a.monthly[k], cur):>16}" for a in result.alternatives))
    print(f"Sensitivity of the NPV (each assumption ±{model.sensitivity * 100:.0f}% alone; widest first)")
    shown = {}
    for b in bars:  # the widest swings of each alternative
        if shown.setdefault(b.alternative, 0) >= 10:
            continue
        shown[b.alternative] += 1
        print(f"  {b.alternative:<12} {b.parameter:<32} {format_money(b.npv_low, cur):>14} .. "
              f"{format_money(b.npv_high, cur):>14}")
    return 0


def _design_csv(result) -> int:
    others = [a for a in result.alternatives if a.flows is not None]
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["period", "date", *(f"cost_{a.name}" for a in result.alternatives),
                *(f"flow_{a.name}" for a in others)])
    for k, day in enumerate(result.dates):
        costs = [a.migration[k] + (a.monthly[k - 1] if k else 0) for a in result.alternatives]
        w.writerow([k, day.isoformat(), *(f"{c:f}" for c in costs), *(f"{a.flows[k]:f}" for a in others)])
    return 0


def _init(path: Path) -> int:
    import shutil

    from finops_xl.data import design_model

    if path.exists():
        return fail("design", f"{path} exists; give a new file name to --init")
    try:
        shutil.copyfile(design_model(), path)
    except OSError as exc:
        return fail("design", f"cannot write {path} ({exc.strerror}); give a writable path")
    print(f"wrote {path}: the example design model; price it with `finops-xl design --model {path}`")
    return 0


def _cmd_workbook_design(args: argparse.Namespace) -> int:
    from finops_workbooks.design import build_design
    from finops_workbooks.writer import write_xlsx

    from finops_xl.design.evaluate import evaluate, tornado

    def write():
        model, prices, book = priced_model(args.model, args.store, args.rate)
        return write_xlsx(build_design(evaluate(model, prices), tornado(model, prices), book), args.out)

    return report_written("workbook design", write, (OSError, ValueError))
