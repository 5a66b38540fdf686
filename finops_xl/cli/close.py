"""``finops-xl close``: the month-end close (accrual, true-up, journal for the ERP, workbook)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import sys
from pathlib import Path

from finops_xl.cli.options import fail, file_options, month_option, store_of
from finops_xl.money import format_money
from finops_xl.store.store import CostStore


_SETTINGS_FILES = (
    ("--ledger", "ledger map CSV (kind,key,value): owner → cost center, service category → GL"),
    ("--journal", "write every journal entry of the month as one CSV for ERP import"),
)
_CLOSE_FILES = (
    ("--invoice", "the invoices to reconcile the month against: the AP list (CSV: invoice_id, date, "
     "amount, currency[, fx_rate, issuer, billing_account]), the JSON of aws invoicing "
     "list-invoice-summaries, or the JSON of az billing invoice list"),
    ("--chargeback", "chargeback modes CSV (owner, mode = chargeback | showback; owner * = the default): "
     "the journal moves chargeback owners' allocated cost to their cost centers"),
    ("--capitalization", "capitalization rules CSV (project, match, development_start, in_service, "
     "useful_life_months): development-stage cost to assets under construction, "
     "straight-line amortization once in service"),
)
_OUTPUT_FILES = (
    ("--rates", "daily rates CSV (date, from_currency, to_currency, rate) or the ECB reference "
     "rates CSV"),
    ("--out", "also write the monthly close workbook (.xlsx) of the run"),
    ("--budget", "budget CSV (owner, service_category, month, amount[, quantity, unit]) for the "
     "workbook's Variance sheet (with --out)"),
)


def register(sub, store_opt) -> None:
    """Add ``close`` to the CLI's subparsers."""
    from finops_xl.close.erp import FORMATS

    q = sub.add_parser("close", parents=[store_opt],
                       help="month-end close: the accrual while data is not final, then the true-up")
    month_option(q, "the close month", required=True)
    q.add_argument("--cutoff", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="first day without data (default: the day after the last complete day with usage)")
    q.add_argument("--method", default="trailing_7d",
                   choices=("trailing_7d", "month_to_date", "prior_month"),
                   help="how the missing days are projected (default trailing_7d)")
    file_options(q, _SETTINGS_FILES)
    q.add_argument("--journal-format", choices=FORMATS, default="generic",
                   help="journal layout: generic (default), netsuite (journal-entry CSV import), "
                        "sap (G/L document upload)")
    q.add_argument("--post", action="store_true",
                   help="mark this run's accrual as the one posted to the ledger (the true-up compares "
                        "with it; every run is kept either way)")
    q.add_argument("--by", default=None, metavar="NAME", help="who posts, locks or unlocks")
    q.add_argument("--lock", action="store_true",
                   help="sign the close off: record its store version, allocation, figures and journal; "
                        "later loads of the month become prior-period adjustments of the next open month")
    q.add_argument("--unlock", action="store_true", help="unlock the month (with --reason; logged)")
    q.add_argument("--reason", default=None, metavar="TEXT", help="why the month is unlocked")
    file_options(q, _CLOSE_FILES)
    q.add_argument("--reporting-currency", default=None, metavar="CUR",
                   help="translate the journal and the close lines into this currency (with --rates): "
                        "P&L at the month's average rate, balance sheet at its closing rate, the "
                        "difference on a translation line")
    file_options(q, _OUTPUT_FILES)
    q.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from finops_xl.cli.commitments import assumed_terms as _assumed_terms
    from finops_xl.close.accruals import AccrualError
    from finops_xl.close.journal import LedgerMap, load_ledger_map
    from finops_xl.close.run import run_close

    from finops_xl.close import locks

    if args.unlock:
        try:
            aside = locks.unlock(store_of(args), args.month, args.reason or "", by=args.by)
        except ValueError as exc:
            return fail("close", exc)
        print(f"{args.month:%Y-%m} unlocked ({args.reason.strip()}); its lock record is kept as {aside}")
        return 0
    try:
        ledger = load_ledger_map(args.ledger) if args.ledger else LedgerMap()
        store = store_of(args)
        invoices = None
        if args.invoice is not None:
            from finops_xl.close.invoice_files import load_invoices

            invoices = load_invoices(args.invoice)
        rates = None
        if args.rates is not None:
            from finops_xl.close.reporting_currency import load_rates

            rates = load_rates(args.rates)
        reporting = args.reporting_currency.upper() if args.reporting_currency else None
        extra = _extra(args, ledger)
        result = run_close(store, args.month, cutoff=args.cutoff, method=args.method, ledger=ledger,
                           journal=args.journal, journal_format=args.journal_format, post=args.post,
                           by=args.by, reporting_currency=reporting, rates=rates, extra=extra)
    except (AccrualError, ValueError, FileNotFoundError) as exc:
        return fail("close", exc)
    if args.lock:
        try:
            path = locks.lock(store, result.month, result, by=args.by, ledger=ledger,
                              adjusted={f"{a.month:%Y-%m}": a.figures for a in result.adjustments})
        except ValueError as exc:
            return fail("close", exc)
    print_close(result)
    if args.lock:
        print(f"  locked: {path}")
    if reporting is not None and result.stage != "locked":
        try:
            _print_reporting(result, reporting, rates)
            if args.budget is not None:
                _print_variance(store, result.month, args.budget, reporting, rates)
        except ValueError as exc:
            return fail("close", exc)
    if invoices is not None:
        _print_reconciliation(store, result.month, invoices)
    if args.capitalization is not None:
        _print_projects(store, result.month, _projects(args))
    if args.out is not None and result.stage == "locked":
        commit = result.lock.get("store_commit")
        if commit is None:
            print(f"finops-xl close: the workbook was not written: {result.month:%Y-%m} is locked and the "
                  "workbook of a locked month is rebuilt only from the store version it recorded, which "
                  "this store does not keep; its journal is reproduced from the lock (--journal)",
                  file=sys.stderr)
            return 1
        from finops_workbooks.close import build_close
        from finops_xl.close.gather import gather_close
        from finops_workbooks.writer import write_xlsx

        try:  # the store as it was at the lock
            then = CostStore(store.path, as_of=commit)
            data = gather_close(then, result.month, ledger=ledger, budget=args.budget,
                                reporting_currency=reporting, rates=rates)
            locked = tuple(e for e in result.journal_entries if e.kind in ("accrual", "reversal"))
            if reporting is not None:  # the lock's entries in the reporting currency (as recorded, when they are)
                from finops_xl.close.reporting_currency import translate_entries

                locked = translate_entries(locked, reporting, rates, result.month, ledger)
            data = dataclasses.replace(data, stage="locked", extra_entries=(), accrual_entries=locked)
            path = write_xlsx(build_close(data), args.out)
        except ValueError as exc:
            return fail("close", f"the workbook was not written: {exc}")
        print(f"  workbook {path} (the store as of commit {commit}, when the month was locked)")
        return 0
    if args.out is not None:
        try:
            path = _write_workbook(store, args.out, result, ledger, args.budget, invoices,
                                   _projects(args), reporting, rates)
        except ValueError as exc:
            return fail("close", f"the workbook was not written: {exc}")
        print(f"  workbook {path}")
        with store.reader() as con:
            for line in _assumed_terms(con):  # the workbook's amortization schedules rest on them
                print(f"  {line}")
    return 0


def _write_workbook(store, out: Path, result, ledger, budget, invoices, projects, reporting=None,
                    rates=None) -> Path:
    """The monthly close workbook of the run (``finops_workbooks.close``), in the reporting currency
    when one is given."""
    from finops_workbooks.close import build_close
    from finops_xl.close.gather import gather_close
    from finops_workbooks.writer import write_xlsx

    data = gather_close(store, result.month, run=result, ledger=ledger, budget=budget, invoices=invoices,
                        projects=projects, reporting_currency=reporting, rates=rates)
    return write_xlsx(build_close(data), out)


def _projects(args):
    if args.capitalization is None:
        return None
    from finops_xl.close.capitalization import load_projects

    return load_projects(args.capitalization)


def _extra(args, ledger):
    """The journal's chargeback and capitalization entries (None when neither is asked)."""
    modes = projects = None
    if args.chargeback is not None:
        from finops_xl.close.chargeback import load_modes

        modes = load_modes(args.chargeback)
    projects = _projects(args)
    if modes is None and projects is None:
        return None

    def extra(con, month, ledger_):
        out = []
        if modes is not None:
            from finops_xl.close.chargeback import chargeback_entries
            from finops_xl.store.store import table_columns

            if not table_columns(con, "allocated_charges"):
                raise ValueError("--chargeback needs an allocation: run finops-xl allocate first")
            out += chargeback_entries(con, month, ledger_, modes)
        if projects is not None:
            from finops_xl.close.capitalization import capitalization_entries

            out += capitalization_entries(con, month, projects, ledger_)
        return out
    return extra


def _print_variance(store: CostStore, month: dt.date, budget: Path, currency: str, rates) -> None:
    from finops_xl.close.reporting_currency import translate_variance
    from finops_xl.close.variance import variance

    with store.reader() as con:
        billing = [c for (c,) in con.execute(
            "SELECT DISTINCT BillingCurrency FROM charges WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? "
            "ORDER BY 1", [month, (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)]).fetchall()]
        for cur in billing:
            report = variance(con, budget, currency=cur)
            report = dataclasses.replace(report, lines=tuple(l for l in report.lines if l.month == month))
            t = translate_variance(report, currency, rates)
            print(f"  budget variance {month:%Y-%m} of the {cur} cost in {currency}: budget "
                  f"{format_money(t.budget, currency)}, actual {format_money(t.actual, currency)}, variance "
                  f"{format_money(t.variance, currency)}")


def _print_reporting(result, currency: str, rates) -> None:
    from finops_xl.close.reporting_currency import translate_amount

    a, m = result.accrual, result.month
    print(f"  in {currency} (expense at the {m:%Y-%m} average rate, liability at its closing rate):")
    for cur in a.currencies:
        if result.stage == "accrual":
            expense = translate_amount(a.total("estimate", cur), cur, currency, rates, m, "average")
            liability = translate_amount(a.total("accrual", cur), cur, currency, rates, m, "closing")
            print(f"    {cur}: expense {format_money(expense, currency)}, accrued liability "
                  f"{format_money(liability, currency)}")
        else:
            invoiced = translate_amount(a.total("invoiced", cur), cur, currency, rates, m, "average")
            print(f"    {cur}: invoiced expense {format_money(invoiced, currency)}")


def _print_projects(store: CostStore, month: dt.date, projects) -> None:
    from finops_xl.close.capitalization import project_report

    with store.reader() as con:
        rows = [r for r in project_report(con, projects, month) if r.month == month.replace(day=1)]
    print(f"  capitalization {month:%Y-%m}: {'project':<20} {'stage':<18} {'capitalized':>12} "
          f"{'amortized':>12} {'book value':>12}")
    for r in rows:
        m = functools.partial(format_money, currency=r.currency)
        print(f"  {'':<20} {r.project:<20} {r.stage:<18} {m(r.capitalized):>12} {m(r.amortized):>12} "
              f"{m(r.net_book_value):>12} {r.currency}")


def _print_reconciliation(store: CostStore, month: dt.date, invoices) -> None:
    from finops_xl.close.reconciliation import reconcile

    with store.reader() as con:
        currencies = sorted({i.currency for i in invoices}) or [None]
        for cur in currencies:
            r = reconcile(con, month, invoices, currency=cur)
            print(f"  invoice reconciliation {month:%Y-%m} {r.currency} ({len(r.invoices)} invoice(s)):")
            for label, amount in r.summary():
                print(f"    {label:<48} {format_money(amount, r.currency):>16}")
            print("    ties to the cent" if r.ties else f"    does NOT tie: difference {r.difference}")


def print_close(run) -> None:
    """The close run as text: the true-up, or the accrual with its entries."""
    a = run.accrual
    for note in run.notes:
        print(f"  warning: {note}")
    if run.stage == "locked":
        r = run.lock
        version = f"store commit {r['store_commit']}" if r.get("store_commit") is not None else \
            f"after load {r.get('last_load_id')}"
        print(f"{run.month:%Y-%m} is locked (by {r.get('by') or 'unknown'}, {r['locked_at']}; {version}, "
              f"allocation run {r.get('allocation_run')}): reproduced from the lock, later loads are "
              "prior-period adjustments of the next open month")
        _print_journal(run)
        return
    for adj in run.adjustments:
        total = ", ".join(f"{cur} {format_money(sum(v for k, v in adj.changes.items() if k[0] == cur), cur)}"
                          for cur in sorted({k[0] for k in adj.changes}))
        print(f"  prior-period adjustment of locked {adj.month:%Y-%m}: {total}")
        for (cur, cc, acct), v in adj.changes.items():
            print(f"    {cc:<16} {acct:<28} {format_money(v, cur):>14} {cur}")
        for why in adj.slices:
            print(f"    changed since the lock: {why}")
    if run.stage == "true-up":
        t = run.true_up
        print(f"{run.month:%Y-%m} is final: true-up against the accrual of cut-off {a.cutoff}"
              + (f" ({run.against})" if run.against else ""))
        print(f"  {'cost center':<22} {'account':<24} {'accrued':>14} {'actual':>14} {'true-up':>12} {'error':>7}")
        for line in t.lines:
            acc = "" if line.accuracy is None else f"{line.accuracy:.1%}"
            print(f"  {line.cost_center:<22} {line.account:<24} {format_money(line.accrued, line.currency):>14} "
                  f"{format_money(line.actual, line.currency):>14} {format_money(line.true_up, line.currency):>12} {acc:>7}")
        for cur in sorted({line.currency for line in t.lines}):
            acc = t.accuracy(currency=cur)
            print(f"  total {cur}: accrued {format_money(t.total('accrued', cur), cur)}, actual "
                  f"{format_money(t.total('actual', cur), cur)}, true-up "
                  f"{format_money(t.total('true_up', cur), cur)}"
                  + (f"; accrual error {acc:.1%}" if acc is not None else ""))
        print("  the auto-reversing accrual and the booked invoice carry this into next month; "
              "nothing more to post")
        _print_journal(run)
        return
    if run.stage == "final":
        print(f"{run.month:%Y-%m} is final: every charge of the month is invoiced, so nothing is accrued "
              "and there is no accrual to true up; the invoice books the month's expense")
        for cur in a.currencies:
            print(f"  total {cur}: invoiced {format_money(a.total('invoiced', cur), cur)}")
        _print_journal(run)
        return
    if a.days_missing:
        print(f"{run.month:%Y-%m} is not final yet: accrual at cut-off {a.cutoff} ({a.method}, "
              f"{a.days_missing} day(s) projected, {a.metric})")
    else:
        print(f"{run.month:%Y-%m} is not invoiced yet: its data covers every day, so nothing is "
              f"projected; the accrual is what is not invoiced ({a.metric})")
    print(f"  {'owner':<16} {'cost center':<12} {'service category':<26} {'account':<22} {'to date':>13} "
          f"{'projected':>12} {'fees':>10} {'invoiced':>13} {'accrual':>13}")
    for line in a.lines:
        m = functools.partial(format_money, currency=line.currency)
        print(f"  {line.owner:<16} {line.cost_center:<12} {line.service_category or '':<26.26} "
              f"{line.account:<22.22} {m(line.actual_to_date):>13} {m(line.projected):>12} "
              f"{m(line.fixed_fees):>10} {m(line.invoiced):>13} {m(line.accrual):>13}")
    for cur in a.currencies:
        print(f"  total {cur}: accrual {format_money(a.total('accrual', cur), cur)}")
    for e in run.entries:
        print(f"  entry {e.id} {e.date} {e.kind}: {format_money(e.total, e.currency)} {e.currency}, "
              f"{len(e.lines)} lines" + (f", reverses {e.reverses_on}" if e.reverses_on else ""))
    _print_extra(run)
    print(f"  saved run {run.run_number}: {run.saved}" + (f"; journal {run.journal}" if run.journal else ""))
    if run.posted:
        print(f"  posted: {run.posted} (the true-up compares with this run)")


def _print_extra(run) -> None:
    for e in run.journal_entries:
        if e.kind in ("chargeback", "capitalization", "capitalization-transfer", "software-amortization",
                      "prior_period_adjustment"):
            print(f"  entry {e.id} {e.date} {e.kind}: {format_money(e.total, e.currency)} {e.currency}, "
                  f"{len(e.lines)} lines")


def _print_journal(run) -> None:
    _print_extra(run)
    if run.journal:
        kinds = sorted({e.kind for e in run.journal_entries})
        print(f"  journal {run.journal}: {len(run.journal_entries)} entries"
              + (f" ({', '.join(kinds)})" if kinds else " (nothing to post)"))
