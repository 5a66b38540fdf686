"""The numbers of a month's close, gathered for its workbook from ``finops_xl.close`` and the allocation.

Nothing here computes finance: every amount comes from a ``finops_xl`` function —

- the accrual and its entries: ``close.accruals.accrue`` / ``accrual_entries`` (or a ``CloseRun``
  that ``close.run.run_close`` made), the true-up when the run had one;
- prepaid commitments: ``close.amortization.commitments_from_store``, ``schedule``, ``roll_forward``,
  ``purchase_entry`` / ``amortization_entry`` (owners' weights from ``used_by_allocated_owner``) /
  ``reclass_entry``;
- the invoice tie-out: ``close.reconciliation.reconcile``;
- variance: ``close.variance.variance`` (when a budget is given) and ``explain_change``;
- allocation: ``allocation.showback.statements`` (EffectiveCost and BilledCost) and ``coverage``.

The module picks the month and the currency, keeps what the workbook shows of each result, and
gives the rows the numeric keys the workbook's SUMIFS match on (never billing text).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from finops_xl.allocation.rules import ROUNDING, UNALLOCATED
from finops_xl.allocation.showback import StatementLine, coverage, statements
from finops_xl.close import amortization as am
from finops_xl.close.accruals import (
    AccrualResult,
    accrual_entries,
    accrue,
)
from finops_xl.close.gathered import (  # noqa: F401  (the names callers import from here)
    DEFAULT_LEDGER,
    EXTRA_KINDS,
    ZERO,
    CloseData,
    OwnerAllocation,
)
from finops_xl.close.journal import Entry, LedgerMap
from finops_xl.close.reconciliation import reconcile
from finops_xl.close.run import CloseRun
from finops_xl.close.variance import (
    BudgetLine,
    explain_change,
    variance,
)
from finops_xl.store.store import CostStore, table_columns


def gather_close(store: CostStore, month: dt.date, *, run: CloseRun | None = None,
                 cutoff: dt.date | None = None, method: str = "trailing_7d",
                 ledger: LedgerMap = DEFAULT_LEDGER, budget: Sequence[BudgetLine] | str | Path | None = None,
                 currency: str | None = None, policy_owner: str = UNALLOCATED,
                 amortization_method: str = "daily", invoices=None, projects=None,
                 reporting_currency: str | None = None, rates=None) -> CloseData:
    """The close workbook's numbers for ``month`` (its first day) from ``store``.

    Parameters:
      run: a ``run_close`` result to show (its accrual, true-up and entries); None: accrue now
        (``cutoff``, ``method``, ``ledger`` as ``accrue`` takes them) without saving anything.
      budget: budget lines or a budget CSV (``variance.load_budget``); None: no budget variance.
      currency: the billing currency shown; needed only when the month holds several.
      policy_owner: the owner charged with the unused share of a commitment's amortization.
      amortization_method: ``daily`` (the workbook's native schedules reproduce it).
      invoices: the provider's invoices or AP list (``Invoice`` list or CSV path) the tie-out
        reconciles against; None: the invoices the data's InvoiceId names.
      projects: capitalization projects (``close.capitalization``) for the Capitalization sheet.
      reporting_currency, rates: every billing currency of the month translated into
        ``reporting_currency`` with ``rates`` (``reporting_currency.load_rates``) and put together
        (``gather_currency.consolidate``); ``currency`` is then not given.

    Raises ValueError for a month without cost, an ambiguous currency or a bad argument.
    """
    if amortization_method != "daily":
        raise ValueError("the close workbook's native schedules follow daily straight-line "
                         f"amortization; amortization_method must be 'daily', not {amortization_method!r}")
    month = month.replace(day=1)
    if reporting_currency is not None or rates is not None:
        return _in_reporting_currency(store, month, run, reporting_currency, rates, currency,
                                      dict(cutoff=cutoff, method=method, ledger=ledger, budget=budget,
                                           policy_owner=policy_owner, amortization_method=amortization_method,
                                           invoices=invoices, projects=projects))
    notes: list[str] = []
    with store.reader() as con:
        if run is None:
            accrual = accrue(con, month, cutoff=cutoff, method=method, ledger=ledger)
            stage, true_up, entries = "preview", None, None
        else:
            if run.month != month:
                raise ValueError(f"the close run is for {run.month:%Y-%m}, not {month:%Y-%m}")
            accrual, stage, true_up = run.accrual, run.stage, run.true_up
            entries = run.entries or None
        currency = _currency(accrual, currency, month)
        accrual = dataclasses.replace(accrual, lines=tuple(l for l in accrual.lines if l.currency == currency))
        if entries is None:
            entries = accrual_entries(accrual)
            entries = entries + tuple(e.reversal() for e in entries if e.reverses_on)
        entries = tuple(e for e in entries if e.currency == currency)
        if not any(e.lines for e in entries):
            notes.append(f"nothing to accrue for {month:%Y-%m}: the accrual is "
                         f"{accrual.total('accrual', currency) if accrual.lines else ZERO:.2f}, "
                         "so no accrual entry is posted")
        entries = tuple(e for e in entries if e.lines)

        commitments = tuple(c for c in am.commitments_from_store(con) if c.currency == currency)
        schedules = tuple(am.schedule(c, amortization_method) for c in commitments)
        with_periods = [s for s in schedules if s.periods and s.periods[0].month <= month]
        roll = am.roll_forward(with_periods, min(s.periods[0].month for s in with_periods), month) \
            if with_periods else ()
        prepaid = _prepaid_entries(con, schedules, month, ledger, policy_owner)

        reconciliation = reconcile(con, month, invoices, currency=currency)

        allocated = bool(table_columns(con, "allocated_charges"))
        owners, pools, cov, totals = (), (), None, (None, None)
        if allocated:
            owners, pools = _owners(statements(con), statements(con, "BilledCost"), month, currency)
            cov = next((c for c in coverage(con) if c.month == month), None)
            found = con.execute("SELECT sum(EffectiveCost), sum(BilledCost) FROM allocated_charges "
                                "WHERE month = ? AND currency = ?", [month, currency]).fetchone()
            totals = tuple(Decimal(v) if v is not None else ZERO for v in found)
        else:
            notes.append("the store holds no allocation: run finops-xl allocate for the Allocation "
                         "and Variance sheets")

        report = None
        if budget is not None:
            if not allocated:
                raise ValueError("a budget variance needs an allocation: run finops-xl allocate first")
            report = variance(con, budget, currency=currency)
            report = dataclasses.replace(report, lines=tuple(l for l in report.lines if l.month == month))
        change = None
        prior = (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        (has_prior,) = con.execute(
            "SELECT count(*) > 0 FROM charges WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? "
            "AND BillingCurrency = ?", [prior, month, currency]).fetchone()
        if has_prior:
            change = explain_change(con, month, currency=currency)
        else:
            notes.append(f"the store holds no {prior:%Y-%m} cost: no month-over-month explanation")

        extra = tuple(e for e in (run.journal_entries if run is not None else ())
                      if e.kind in EXTRA_KINDS and e.currency == currency)
        version = _version(store, con)
        projects_report = ()
        if projects:
            from finops_xl.close.capitalization import project_report

            projects_report = tuple(r for r in project_report(con, projects, month) if r.currency == currency)

    return CloseData(month, currency, str(store.path), stage, accrual, true_up, entries, commitments,
                     schedules, amortization_method, roll, prepaid, policy_owner, reconciliation,
                     owners, pools, totals[0], totals[1], cov, report, change, tuple(notes), ledger,
                     store_version=version, locked=_locked(store, month),
                     extra_entries=extra, capitalization=projects_report,
                     adjustments=tuple(run.adjustments) if run is not None else ())


def _in_reporting_currency(store: CostStore, month: dt.date, run, reporting_currency, rates, currency,
                           options: dict) -> CloseData:
    """The close of every billing currency of ``month``, translated and put together."""
    from finops_xl.close.gather_currency import consolidate, month_currencies
    from finops_xl.close.reporting_currency import translate_entries

    if reporting_currency is None or rates is None:
        raise ValueError("a reporting currency needs its rates and rates need a reporting currency: "
                         "give both --reporting-currency and --rates")
    if currency is not None:
        raise ValueError("give either currency (one billing currency) or reporting_currency (all of them "
                         "translated), not both")
    with store.reader() as con:
        found = month_currencies(con, month)
    if not found:
        raise ValueError(f"the store holds no cost in {month:%Y-%m}")
    if options["budget"] is not None and len(found) > 1:
        raise ValueError(f"a budget has no currency, and {month:%Y-%m} holds several billing currencies "
                         f"({', '.join(found)}): its variance would count the budget once per currency; "
                         "leave --budget out of the reporting-currency workbook, or build one workbook per "
                         "billing currency")
    parts = [gather_close(store, month, run=run, currency=cur, **options) for cur in found]
    extra = None
    if run is not None:
        extra = translate_entries([e for e in run.journal_entries if e.kind in EXTRA_KINDS],
                                  reporting_currency, rates, month, options["ledger"])
    return consolidate(parts, reporting_currency, rates, run_entries=extra)


def _version(store: CostStore, con) -> str:
    """The store version and allocation run the numbers come from, in words."""
    from finops_xl.close.locks import _store_state

    state = _store_state(store, con)
    where = (f"store commit {state['store_commit']}" if state.get("store_commit") is not None
             else f"after load {state.get('last_load_id')}")
    run = state.get("allocation_run")
    return where + (f", allocation run {run}" if run is not None else ", no allocation")


def _locked(store: CostStore, month: dt.date) -> str:
    from finops_xl.close.locks import read_lock

    record = read_lock(store, month)
    if record is None:
        return ""
    commit = record.get("store_commit")
    version = f"store commit {commit}" if commit is not None else f"after load {record.get('last_load_id')}"
    run = record.get("allocation_run")
    return (f"locked by {record.get('by') or 'unknown'} at {record.get('locked_at')} at {version}"
            + (f", allocation run {run}" if run is not None else ", no allocation"))




def _currency(accrual: AccrualResult, currency: str | None, month: dt.date) -> str:
    found = accrual.currencies
    if currency is not None:
        currency = currency.upper()
        if found and currency not in found:
            raise ValueError(f"no {currency} cost in {month:%Y-%m} (currencies: {', '.join(found)})")
        return currency
    if len(found) > 1:
        raise ValueError(f"{month:%Y-%m} holds several billing currencies ({', '.join(found)}), which are "
                         "never added together: pick one with currency, or translate them into one "
                         "(finops-xl close --reporting-currency CUR --rates FILE)")
    if not found:
        raise ValueError(f"the store holds no cost in {month:%Y-%m}")
    return found[0]


def _prepaid_entries(con, schedules, month: dt.date, ledger: LedgerMap,
                     policy_owner: str) -> tuple[Entry, ...]:
    """Purchases, amortization and reclass entries of the month (``close.month_entries``)."""
    from finops_xl.close.month_entries import prepaid_entries

    return prepaid_entries(con, schedules, month, ledger, policy_owner)


def _owners(effective: Sequence[StatementLine], billed: Sequence[StatementLine], month: dt.date,
            currency: str) -> tuple[tuple[OwnerAllocation, ...], tuple[str, ...]]:
    mine = [s for s in effective if s.month == month and s.currency == currency]
    billed_by = {s.owner: s.total for s in billed if s.month == month and s.currency == currency}
    pools: list[str] = []
    for s in mine:
        pools += [p for p, _ in s.shared if p not in pools]
    rows = []
    for s in sorted(mine, key=lambda s: (s.owner == ROUNDING, -s.total, s.owner)):
        rounding = s.total if s.owner == ROUNDING else ZERO
        rows.append(OwnerAllocation(s.owner, s.direct, s.commitment, s.credits, s.shared, rounding,
                                    s.total, billed_by.get(s.owner, ZERO)))
    for owner in sorted(set(billed_by) - {s.owner for s in mine}):  # BilledCost without EffectiveCost
        rows.insert(len(rows) - 1, OwnerAllocation(owner, ZERO, ZERO, ZERO, (), ZERO, ZERO, billed_by[owner]))
    return tuple(rows), tuple(pools)

