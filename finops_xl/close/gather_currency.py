"""A month's close in a reporting currency: the close of each billing currency (``gather.CloseData``)
translated and put together, for the close workbook.

Rates are those of ``reporting_currency`` (IAS 21.39–40, ASC 830-30-45): the month's **average**
rate for profit-and-loss amounts, its **closing** rate for balance-sheet amounts.

- accrual lines, fixed fees, true-up lines, allocation (every owner's parts and BilledCost, the
  store's totals), the invoice tie-out and budget variance: P&L amounts, at the average rate, kept
  exact (each is rounded only where it is posted or shown), so totals and tie-outs still add up;
- journal entries (accrual, reversal, prepaid, chargeback, capitalization): ``translate_entries`` —
  each line rounded, expense at the average rate, balance sheet at the closing rate, the difference
  on the translation line; the same entries the journal CSV holds;
- prepaid commitments: the upfront (a balance-sheet amount) at the closing rate, rounded to the
  minor unit, and the schedules and roll-forward recomputed from it, so the Prepaid sheet's native
  schedules still reproduce them;
- capitalization: capitalized and amortized at the average rate, the book value at the closing rate
  (every month of the project report at the close month's rates; a note says so).

The month-over-month explanation is per billing currency and is left out (a note says so).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal, localcontext

from finops_xl.allocation.rules import ROUNDING
from finops_xl.close import amortization as am
from finops_xl.close.reporting_currency import DailyRates, translate_entries, translate_variance
from finops_xl.money import round_money

ZERO = Decimal(0)


@dataclasses.dataclass(frozen=True)
class ReportingRates:
    """What a reporting-currency close was translated with.

    Attributes:
      currency: the reporting currency.  source: the rates file.
      rates: (billing currency, average rate, closing rate) of the month, one per billing currency
        other than ``currency``.
      line_currencies: the billing currency of each accrual line, in the lines' order.
      entry_currencies: (entry id, billing currency) of each accrual entry and reversal.
    """

    currency: str
    source: str
    rates: tuple[tuple[str, Decimal, Decimal], ...]
    line_currencies: tuple[str, ...] = ()
    entry_currencies: tuple[tuple[str, str], ...] = ()


def _times(value: Decimal | None, rate: Decimal) -> Decimal | None:
    if value is None:
        return None
    with localcontext() as ctx:
        ctx.prec = 38
        return value * rate


def consolidate(parts: Sequence, currency: str, rates: DailyRates, run_entries=None):
    """One ``CloseData`` in ``currency`` from the close of each billing currency (module docstring).

    ``run_entries``: the run's chargeback, capitalization and prior-period adjustment entries in
    ``currency``; None: the parts' own, translated.
    Raises ``reporting_currency.RatesError`` naming the pair and month of a missing rate."""
    from finops_xl.close.gathered import EXTRA_KINDS, OwnerAllocation

    currency = currency.upper()
    first = parts[0]
    month = first.month
    used = []
    line_currencies: list[str] = []
    entry_currencies: list[tuple[str, str]] = []
    accrual_lines, fees, true_lines, entries, prepaid, commitments = [], [], [], [], [], []
    owners: dict[str, list] = {}
    invoices, items, variance_lines, projects = [], [], [], []
    eff = billed = None
    recon = dict(invoice_total=ZERO, allocated_gross=ZERO, allocated_total=ZERO)
    notes = list(first.notes)
    for part in parts:
        cur = part.currency
        avg = rates.month_rate(cur, currency, month, "average")
        clo = rates.month_rate(cur, currency, month, "closing")
        if cur != currency:
            used.append((cur, avg, clo))

        def pl(v, rate=avg):
            return _times(v, rate)
        for line in part.accrual.lines:
            accrual_lines.append(dataclasses.replace(
                line, currency=currency, actual_to_date=pl(line.actual_to_date), projected=pl(line.projected),
                fixed_fees=pl(line.fixed_fees), invoiced=pl(line.invoiced)))
            line_currencies.append(cur)
        fees += [dataclasses.replace(fee, currency=currency, amount=pl(fee.amount))
                 for fee in part.accrual.fees if fee.currency == cur]
        if part.true_up is not None:
            true_lines += [dataclasses.replace(t, currency=currency, accrued=pl(t.accrued), actual=pl(t.actual))
                           for t in part.true_up.lines if t.currency == cur]
        entries += translate_entries(part.accrual_entries, currency, rates, month, part.ledger)
        entry_currencies += [(e.id, cur) for e in part.accrual_entries]
        prepaid += translate_entries(part.prepaid_entries, currency, rates, month, part.ledger)
        commitments += [dataclasses.replace(c, currency=currency,
                                            upfront=round_money(c.upfront * clo, currency),
                                            recurring_monthly=round_money(c.recurring_monthly * avg, currency),
                                            carried_in=round_money(c.carried_in * clo, currency))
                        for c in part.commitments]
        for o in part.owners:
            mine = owners.setdefault(o.owner, [ZERO, ZERO, ZERO, defaultdict(Decimal), ZERO, ZERO, ZERO])
            for i, v in enumerate((o.direct, o.commitment, o.credits)):
                mine[i] += pl(v)
            for pool, v in o.shared:
                mine[3][pool] += pl(v)
            mine[4] += pl(o.rounding)
            mine[5] += pl(o.total)
            mine[6] += pl(o.billed)
        if part.allocated_effective is not None:
            eff = (eff or ZERO) + pl(part.allocated_effective)
            billed = (billed or ZERO) + pl(part.allocated_billed)
        r = part.reconciliation
        invoices += [dataclasses.replace(i, amount=pl(i.amount), charges=pl(i.charges)) for i in r.invoices]
        items += [dataclasses.replace(i, amount=pl(i.amount), reference=pl(i.reference)) for i in r.items]
        for key in recon:
            recon[key] += pl(getattr(r, key))
        if part.variance is not None:
            variance_lines += translate_variance(part.variance, currency, rates).lines
        projects += [dataclasses.replace(p, currency=currency, capitalized=round_money(p.capitalized * avg, currency),
                                         amortized=round_money(p.amortized * avg, currency),
                                         net_book_value=round_money(p.net_book_value * clo, currency))
                     for p in part.capitalization]
        notes += [n for n in part.notes if n not in notes]
    if run_entries is not None:
        extra = tuple(e for e in run_entries if e.kind in EXTRA_KINDS and e.currency == currency)
    else:
        extra = tuple(x for part in parts
                      for x in translate_entries(part.extra_entries, currency, rates, month, part.ledger))
    schedules = tuple(am.schedule(c, first.amortization_method) for c in commitments)
    with_periods = [s for s in schedules if s.periods and s.periods[0].month <= month]
    roll = am.roll_forward(with_periods, min(s.periods[0].month for s in with_periods), month) \
        if with_periods else ()
    owner_rows = [OwnerAllocation(name, v[0], v[1], v[2], tuple(v[3].items()), v[4], v[5], v[6])
                  for name, v in owners.items()]
    owner_rows.sort(key=lambda o: (o.owner == ROUNDING, -o.total, o.owner))
    pools = tuple(dict.fromkeys(p for part in parts for p in part.pools))
    accrual = dataclasses.replace(first.accrual, lines=tuple(accrual_lines), fees=tuple(fees))
    true_up = None
    if first.true_up is not None:
        true_up = dataclasses.replace(first.true_up, accrual=accrual, lines=tuple(true_lines))
    reconciliation = dataclasses.replace(
        first.reconciliation, currency=currency, invoices=tuple(invoices), items=tuple(items), **recon,
        notes=tuple(dict.fromkeys(n for part in parts for n in part.reconciliation.notes)))
    report = None
    if any(part.variance is not None for part in parts):
        base = next(part.variance for part in parts if part.variance is not None)
        report = dataclasses.replace(base, currency=currency, lines=tuple(variance_lines))
    if any(part.change is not None for part in parts):
        notes.append("the month-over-month explanation is per billing currency: build the workbook of one "
                     "billing currency (without --reporting-currency) to see it")
    if projects and used:
        notes.append(f"the Capitalization sheet's months are all translated at the {month:%Y-%m} rates "
                     "(capitalized and amortized at its average, the book value at its closing rate)")
    cutoffs = sorted({part.accrual.cutoff for part in parts})
    if len(cutoffs) > 1:
        notes.append("the billing currencies' data end on different days (cut-offs "
                     f"{', '.join(str(c) for c in cutoffs)}); Settings shows the first")
    return dataclasses.replace(
        first, currency=currency, accrual=accrual, true_up=true_up, accrual_entries=tuple(entries),
        commitments=tuple(commitments), schedules=schedules, roll_forward=roll, prepaid_entries=tuple(prepaid),
        reconciliation=reconciliation, owners=tuple(owner_rows), pools=pools, allocated_effective=eff,
        allocated_billed=billed, variance=report, change=None, notes=tuple(notes), extra_entries=extra,
        capitalization=tuple(projects),
        reporting=ReportingRates(currency, rates.source, tuple(used), tuple(line_currencies),
                                 tuple(entry_currencies)))


def month_currencies(con, month: dt.date) -> tuple[str, ...]:
    """The billing currencies of ``month``'s charges, sorted."""
    end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return tuple(c for (c,) in con.execute(
        "SELECT DISTINCT BillingCurrency FROM charges WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ? "
        "ORDER BY 1", [month, end]).fetchall())
