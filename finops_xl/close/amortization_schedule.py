"""Amortization schedules of prepaid commitments (RIs, savings plans, CUDs): the schedule, its
changes (terminate, extend, exchange) and the roll-forward; ``amortization`` is the public face of
this, the journal entries and the store readers."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, localcontext

from finops_xl.close.journal import LedgerMap
from finops_xl.money import minor_unit, round_money
from finops_xl.months import edate as add_months

__all__ = [
    "CAUSES", "METHODS", "Commitment", "Exchange", "Period", "RollForwardError", "RollForwardRow", "Schedule",
    "add_months", "amortization", "balance", "current_noncurrent", "exchange", "extend", "roll_forward",
    "schedule", "terminate",
]

ZERO = Decimal(0)
METHODS = ("daily", "monthly")
DEFAULT_LEDGER = LedgerMap()  #: the default accounts (immutable)

#: Causes named by :func:`provider_check` when the schedule and the provider differ in a month (the
#: cause is the first that explains the difference, in this order).
CAUSES: dict[str, str] = {
    "month partly outside the data window":
        "the store holds only part of this month for the provider, so the provider amount is partial",
    "rounding":
        "the schedule rounds each month to the cent (the last month takes the residual) while the provider "
        "carries more decimals; the difference is within that rounding",
    "upfront share outside the data window":
        "the data's One-Time purchase carries only the share of the upfront amortized inside the data "
        "window, and the commitment was read without grossing it up (gross_up_window_share=False)",
    "monthly method: equal months, provider amortizes by the day":
        "the schedule uses monthly straight-line; the provider amortizes per day (hour), so months of "
        "different lengths differ; the daily schedule agrees",
    "recurring fee included by provider":
        "the provider's EffectiveCost carries a recurring fee for which no Recurring purchase row is billed "
        "in the month, so it cannot be taken out before comparing",
    "term starts/ends mid-month: provider prorates hourly":
        "the month holds the start or end of the term and the difference is within one day's amortization: "
        "the provider counts hours from the purchase time, the schedule whole days",
    "unexplained":
        "none of the above; investigate",
}


# --------------------------------------------------------------------------------------------------
# Months
# --------------------------------------------------------------------------------------------------

def _month(d: dt.date) -> dt.date:
    """The first day of ``d``'s month (a month is a date on day 1)."""
    if isinstance(d, dt.datetime):
        d = d.date()
    if not isinstance(d, dt.date):
        raise TypeError(f"a month must be a date, not {type(d).__name__} {d!r}")
    return d.replace(day=1)


def _days_in_month(m: dt.date) -> int:
    return calendar.monthrange(m.year, m.month)[1]


def _month_end(m: dt.date) -> dt.date:
    return m.replace(day=_days_in_month(m))


def _months(a: dt.date, b: dt.date) -> list[dt.date]:
    """Months overlapping ``[a, b)`` (none when ``b <= a``)."""
    out, m = [], _month(a)
    while m < b:
        out.append(m)
        m = add_months(m, 1)
    return out


def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------

def _money(value, name: str, currency: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{name} must be Decimal (money is never float), got {value!r}")
    value = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if value < 0:
        raise ValueError(f"{name} cannot be negative: {value}")
    if round_money(value, currency) != value:
        raise ValueError(f"{name} {value} is not a whole number of {currency} minor units "
                         f"(round it first: money.round_money)")
    return round_money(value, currency)


@dataclasses.dataclass(frozen=True)
class Commitment:
    """A commitment discount bought for a term.

    Attributes:
      id: CommitmentDiscountId.  provider: ProviderName.  type: CommitmentDiscountType (Reserved
      Instance, Savings Plan, …).
      start: first day of the term (a date).  term_months: length of the term in calendar months (≥ 1).
      upfront: the prepaid amount (One-Time purchase), ≥ 0, in whole minor units of ``currency``.
      recurring_monthly: the monthly recurring fee (expensed when billed, not amortized), ≥ 0.
      currency: BillingCurrency (ISO 4217).
      carried_in: the part of ``upfront`` carried over from an exchanged commitment (not paid in cash);
      0 for a plain purchase.
      term_source: where ``term_months`` was read (``x_Term``, ``ChargeDescription``, …, see
      :mod:`finops_xl.close.commitment_terms`); ``"assumed"`` when no row states it and a default
      was used — shown to the user as a warning (``assumed_term_warnings``); ``"given"`` when built
      by hand.
    """

    id: str
    provider: str
    type: str
    start: dt.date
    term_months: int
    upfront: Decimal
    recurring_monthly: Decimal = ZERO
    currency: str = "USD"
    carried_in: Decimal = ZERO
    term_source: str = dataclasses.field(default="given", compare=False)  # provenance, not value

    def __post_init__(self):
        if isinstance(self.start, dt.datetime) or not isinstance(self.start, dt.date):
            raise TypeError(f"commitment {self.id}: start must be a date, got {self.start!r}")
        if not isinstance(self.term_months, int) or self.term_months < 1:
            raise ValueError(f"commitment {self.id}: term_months must be a whole number ≥ 1, "
                             f"got {self.term_months!r}")
        for name in ("upfront", "recurring_monthly", "carried_in"):
            object.__setattr__(self, name, _money(getattr(self, name), f"commitment {self.id}: {name}",
                                                  self.currency))
        if self.carried_in > self.upfront:
            raise ValueError(f"commitment {self.id}: carried_in {self.carried_in} exceeds upfront "
                             f"{self.upfront}")

    @property
    def end(self) -> dt.date:
        """The day after the term (exclusive end): ``start + term_months`` months."""
        return add_months(self.start, self.term_months)

    @property
    def term_days(self) -> int:
        return (self.end - self.start).days


@dataclasses.dataclass(frozen=True)
class Period:
    """One calendar month of a schedule (amounts in the commitment's currency).

    Attributes:
      month: first day of the month.  days: days of the (amortizing) term in the month.
      opening: balance at the start of the month.  purchases: upfront paid in cash in the month.
      transfers: balance carried in (+) from, or out (−) to, an exchanged commitment.
      amortization: expensed in the month.  write_off: balance written off (termination, sale).
      closing: opening + purchases + transfers − amortization − write_off.
      noncurrent: the part of ``closing`` not expensed within the next 12 months (current = closing −
      noncurrent).  recurring: the recurring fee for the month (recurring_monthly × days ÷ days of the
      month; informative: expensed when billed, never part of the balance).
    """

    month: dt.date
    days: int
    opening: Decimal
    purchases: Decimal
    transfers: Decimal
    amortization: Decimal
    write_off: Decimal
    closing: Decimal
    noncurrent: Decimal
    recurring: Decimal

    @property
    def current(self) -> Decimal:
        return self.closing - self.noncurrent


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The month-by-month amortization of one commitment.

    Attributes:
      commitment: the commitment (after a modification: as modified, e.g. the extended term).
      method: ``daily`` or ``monthly``.  periods: consecutive months from the purchase month.
      purchase_noncurrent: the non-current part of the upfront at purchase.
      note: what produced it (``schedule``, ``terminated 2025-03-15``, …).
      event_date: the date of the modification, if any.
    """

    commitment: Commitment
    method: str
    periods: tuple[Period, ...]
    purchase_noncurrent: Decimal = ZERO
    note: str = "schedule"
    event_date: dt.date | None = None

    def __post_init__(self):
        prev = None
        for p in self.periods:
            where = f"schedule of {self.commitment.id} ({self.note}), {p.month:%Y-%m}"
            if prev is not None and (p.month != add_months(prev.month, 1) or p.opening != prev.closing):
                raise ValueError(f"{where}: opening {p.opening} does not follow the previous closing "
                                 f"{prev.closing} of {prev.month:%Y-%m}")
            if p.opening + p.purchases + p.transfers - p.amortization - p.write_off != p.closing:
                raise ValueError(f"{where}: opening + purchases + transfers − amortization − write-off "
                                 f"≠ closing {p.closing}")
            prev = p

    def period(self, month: dt.date) -> Period | None:
        """The period of ``month`` (any day of it), or None outside the schedule."""
        m = _month(month)
        if not self.periods or m < self.periods[0].month or m > self.periods[-1].month:
            return None
        return self.periods[(m.year - self.periods[0].month.year) * 12 + m.month
                            - self.periods[0].month.month]

    def closing_at(self, month: dt.date) -> Decimal:
        """Balance at the end of ``month``: 0 before the purchase, the last closing after the end."""
        m = _month(month)
        if not self.periods or m < self.periods[0].month:
            return ZERO
        p = self.period(m)
        return p.closing if p is not None else self.periods[-1].closing

    @property
    def total_amortization(self) -> Decimal:
        return sum((p.amortization for p in self.periods), ZERO)


# --------------------------------------------------------------------------------------------------
# The spreading rule (both methods)
# --------------------------------------------------------------------------------------------------

def _spread(amount: Decimal, a: dt.date, b: dt.date, method: str, currency: str,
            n_months: Decimal | int | None = None, stop: dt.date | None = None) -> list[tuple]:
    """(month, days, amount) amortizing ``amount`` over ``[a, b)`` by ``method``, for the months that
    overlap ``[a, stop)`` (``stop`` defaults to ``b``; an earlier stop truncates — no residual then).

    Daily: ``amount × days ÷ (b − a).days``. Monthly: ``amount ÷ n_months × days ÷ days of the month``
    (``n_months`` defaults to the months ``[a, b)`` covers, counting a partial month by its days).
    Each rounded half-even to the minor unit and capped at what is left; with ``stop == b`` the last
    month takes the residual.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    stop = b if stop is None else stop
    total_days = (b - a).days
    last = _month(b - dt.timedelta(days=1))
    out, left = [], amount
    with localcontext() as ctx:
        ctx.prec = 60
        if method == "monthly" and n_months is None:
            n_months = sum((Decimal((min(b, add_months(m, 1)) - max(a, m)).days) / _days_in_month(m)
                            for m in _months(a, b)), ZERO)
        for m in _months(a, stop):
            days = (min(stop, add_months(m, 1)) - max(a, m)).days
            if stop == b and m == last:
                amt = left
            else:
                if method == "daily":
                    exact = amount * days / total_days
                else:
                    exact = amount / Decimal(n_months) * days / _days_in_month(m)
                amt = min(round_money(exact, currency), left)
            left -= amt
            out.append((m, days, amt))
    return out


def _assemble(c: Commitment, method: str, events: dict, note: str, *, known: Schedule | None = None,
              known_before: dt.date | None = None, event_date: dt.date | None = None) -> Schedule:
    """Periods from ``events`` (month → {days, purchases, transfers, amortization, write_off}); the
    non-current split of months before ``known_before`` is taken from ``known`` (as posted then)."""
    months = sorted(events)
    first, last = months[0], months[-1]
    closings: list[tuple[dt.date, dict, Decimal, Decimal]] = []
    opening, m = ZERO, first
    while m <= last:
        ev = events.get(m, {})
        closing = (opening + ev.get("purchases", ZERO) + ev.get("transfers", ZERO)
                   - ev.get("amortization", ZERO) - ev.get("write_off", ZERO))
        closings.append((m, ev, opening, closing))
        opening, m = closing, add_months(m, 1)

    def closing_at(month):
        i = (month.year - first.year) * 12 + month.month - first.month
        return closings[i][3] if i < len(closings) else closings[-1][3]

    q = c.recurring_monthly
    periods = []
    for m, ev, opening, closing in closings:
        if known is not None and m < known_before:
            noncurrent = known.period(m).noncurrent
        else:
            noncurrent = closing_at(add_months(m, 12))
        days = ev.get("days", 0)
        amounts = (opening, ev.get("purchases", ZERO), ev.get("transfers", ZERO), ev.get("amortization", ZERO),
                   ev.get("write_off", ZERO), closing, noncurrent, q * days / _days_in_month(m))
        periods.append(Period(m, days, *(round_money(x, c.currency) for x in amounts)))
    purchase_nc = known.purchase_noncurrent if known is not None else closing_at(add_months(first, 11))
    return Schedule(c, method, tuple(periods), round_money(purchase_nc, c.currency), note, event_date)


def _events(c: Commitment, method: str, stop: dt.date | None = None) -> dict:
    """Purchase and amortization events of ``c`` (amortization truncated at ``stop``)."""
    events: dict = {_month(c.start): {"purchases": c.upfront - c.carried_in, "transfers": c.carried_in}}
    for m, days, amt in _spread(c.upfront, c.start, c.end, method, c.currency, c.term_months, stop):
        ev = events.setdefault(m, {})
        ev["days"] = ev.get("days", 0) + days
        ev["amortization"] = ev.get("amortization", ZERO) + amt
    events.setdefault(_month(stop or c.start), {})
    return events


def schedule(c: Commitment, method: str = "daily") -> Schedule:
    """The amortization schedule of ``c``, one period per calendar month of the term.

    Parameters
    ----------
    c : Commitment
    method : {"daily", "monthly"}
        Daily or monthly straight-line (module docstring, "Conventions").

    Returns
    -------
    Schedule
        Periods from the start month to the month holding the term's last day; the upfront is a
        purchase in the start month (the part carried in from an exchange a transfer); the
        amortization sums to the upfront exactly.

    Examples
    --------
    >>> c = Commitment("r", "Microsoft", "Reservation", dt.date(2025, 1, 15), 12, Decimal("1200.00"))
    >>> [str(p.amortization) for p in schedule(c, "monthly").periods][:2]
    ['54.84', '100.00']
    >>> schedule(c, "monthly").periods[-1].amortization
    Decimal('45.16')
    """
    return _assemble(c, method, _events(c, method), "schedule")


def current_noncurrent(s: Schedule, as_of_month: dt.date) -> tuple[Decimal, Decimal]:
    """(current, non-current) parts of the closing balance at the end of ``as_of_month``.

    Non-current is the balance still carried 12 months later (not expensed within the next 12
    months); current = closing − non-current; both 0 before the purchase month.
    """
    p = s.period(as_of_month)
    if p is None:  # before the purchase or after the term: the balance (0) is all current
        return s.closing_at(as_of_month), ZERO
    return p.current, p.noncurrent


def _schedule_of(x: Commitment | Schedule, method: str) -> Schedule:
    return x if isinstance(x, Schedule) else schedule(x, method)


def amortization(c: Commitment | Schedule, month: dt.date, method: str = "daily") -> Decimal:
    """The amount expensed in ``month`` (any day of it); 0 outside the term. (FINOPS.AMORT)"""
    p = _schedule_of(c, method).period(month)
    return p.amortization if p is not None else ZERO


def balance(c: Commitment | Schedule, month: dt.date, method: str = "daily") -> Decimal:
    """The prepaid balance at the end of ``month``; 0 before the purchase and after the term.
    (FINOPS.PREPAID_BALANCE)"""
    return _schedule_of(c, method).closing_at(month)


# --------------------------------------------------------------------------------------------------
# Modifications
# --------------------------------------------------------------------------------------------------

def _check_on(c: Commitment, on: dt.date) -> None:
    if isinstance(on, dt.datetime) or not isinstance(on, dt.date):
        raise TypeError(f"the modification date must be a date, got {on!r}")
    if not c.start <= on < c.end:
        raise ValueError(f"commitment {c.id}: {on} is outside its term [{c.start}, {c.end})")


def terminate(c: Commitment, on: dt.date, method: str = "daily") -> Schedule:
    """Early termination or sale on ``on``: amortization runs to the day before ``on`` (the days
    ``[start, on)``), and the balance left is written off in the month of ``on``.

    The schedule ends with that month (closing 0). The sale proceeds, if any, belong to the journal
    (:func:`write_off_entry`), not to the asset.
    """
    _check_on(c, on)
    original = schedule(c, method)
    events = _events(c, method, stop=on)
    amortized = sum((ev.get("amortization", ZERO) for ev in events.values()), ZERO)
    events[_month(on)]["write_off"] = c.upfront - amortized
    return _assemble(c, method, events, f"terminated {on.isoformat()}", known=original,
                     known_before=_month(on), event_date=on)


def extend(c: Commitment, on: dt.date, new_term_months: int, method: str = "daily") -> Schedule:
    """Term extension effective ``on``: amortization follows the original schedule for ``[start, on)``;
    the balance left at ``on`` is re-spread over the new remaining term ``[on, start + new_term_months)``
    by the same method (daily: ÷ the remaining days; monthly: ÷ the remaining months, a partial month
    counted by its days), the last month taking the residual.

    Returns the schedule of the commitment with ``term_months = new_term_months``.
    """
    _check_on(c, on)
    if new_term_months <= c.term_months:
        raise ValueError(f"commitment {c.id}: an extension needs more than {c.term_months} months, "
                         f"got {new_term_months}")
    original = schedule(c, method)
    new = dataclasses.replace(c, term_months=new_term_months)
    events = _events(c, method, stop=on)
    left = c.upfront - sum((ev.get("amortization", ZERO) for ev in events.values()), ZERO)
    for m, days, amt in _spread(left, on, new.end, method, c.currency):
        ev = events.setdefault(m, {})
        ev["days"] = ev.get("days", 0) + days
        ev["amortization"] = ev.get("amortization", ZERO) + amt
    return _assemble(new, method, events, f"extended {on.isoformat()} to {new_term_months} months",
                     known=original, known_before=_month(on), event_date=on)


@dataclasses.dataclass(frozen=True)
class Exchange:
    """An exchange: the old schedule (ended by a transfer out), the new one (starting with that
    transfer in), and the balance carried."""

    old: Schedule
    new: Schedule
    carried: Decimal


def exchange(c: Commitment, on: dt.date, new_id: str, new_term_months: int, method: str = "daily", *,
             additional_payment: Decimal = ZERO, new_type: str | None = None,
             new_recurring_monthly: Decimal = ZERO) -> Exchange:
    """Exchange of a convertible RI (or an Azure reservation exchange) on ``on``.

    The old commitment amortizes ``[start, on)`` and its balance left at ``on`` is carried (a transfer,
    not an expense) into a new commitment starting ``on`` whose upfront is the carried balance plus
    ``additional_payment`` (the true-up paid in cash, if the new one is worth more), amortized over its
    own term of ``new_term_months``.
    """
    _check_on(c, on)
    original = schedule(c, method)
    events = _events(c, method, stop=on)
    carried = c.upfront - sum((ev.get("amortization", ZERO) for ev in events.values()), ZERO)
    events[_month(on)]["transfers"] = events[_month(on)].get("transfers", ZERO) - carried
    old = _assemble(c, method, events, f"exchanged {on.isoformat()} into {new_id}", known=original,
                    known_before=_month(on), event_date=on)
    additional = _money(additional_payment, "additional_payment", c.currency)
    new_c = Commitment(new_id, c.provider, new_type or c.type, on, new_term_months, carried + additional,
                       new_recurring_monthly, c.currency, carried_in=carried)
    new = dataclasses.replace(schedule(new_c, method), note=f"exchanged from {c.id} {on.isoformat()}",
                              event_date=on)
    return Exchange(old, new, carried)


# --------------------------------------------------------------------------------------------------
# Roll-forward
# --------------------------------------------------------------------------------------------------

class RollForwardError(ValueError):
    """A roll-forward month whose opening + movements ≠ closing (names the month and currency)."""


@dataclasses.dataclass(frozen=True)
class RollForwardRow:
    """The prepaid portfolio in one month and currency.

    closing = opening + purchases + transfers − amortization − write_offs; transfers net to 0 when both
    sides of every exchange are in the portfolio.
    """

    month: dt.date
    currency: str
    opening: Decimal
    purchases: Decimal
    transfers: Decimal
    amortization: Decimal
    write_offs: Decimal
    closing: Decimal
    current: Decimal
    noncurrent: Decimal
    commitments: int  # with a balance or a movement in the month


def roll_forward(schedules: Iterable[Schedule], start: dt.date | None = None,
                 end: dt.date | None = None) -> tuple[RollForwardRow, ...]:
    """The portfolio roll-forward per month (``start``..``end``, default: every month any schedule
    covers) and currency; raises RollForwardError naming the month if a month does not roll."""
    schedules = [s for s in schedules if s.periods]
    rows = []
    for currency in sorted({s.commitment.currency for s in schedules}):
        group = [s for s in schedules if s.commitment.currency == currency]
        lo = _month(start) if start else min(s.periods[0].month for s in group)
        hi = _month(end) if end else max(s.periods[-1].month for s in group)
        prev_closing, m = None, lo
        while m <= hi:
            tot = dict.fromkeys(("opening", "purchases", "transfers", "amortization", "write_offs",
                                 "closing", "noncurrent"), ZERO)
            n = 0
            for s in group:
                p = s.period(m)
                if p is None:
                    bal = s.closing_at(m)
                    tot["opening"] += bal
                    tot["closing"] += bal
                    n += bool(bal)
                    continue
                n += 1
                for k, v in (("opening", p.opening), ("purchases", p.purchases), ("transfers", p.transfers),
                             ("amortization", p.amortization), ("write_offs", p.write_off),
                             ("closing", p.closing), ("noncurrent", p.noncurrent)):
                    tot[k] += v
            row = RollForwardRow(m, currency, tot["opening"], tot["purchases"], tot["transfers"],
                                 tot["amortization"], tot["write_offs"], tot["closing"],
                                 tot["closing"] - tot["noncurrent"], tot["noncurrent"], n)
            if (row.opening + row.purchases + row.transfers - row.amortization - row.write_offs
                    != row.closing):
                raise RollForwardError(f"roll-forward {m:%Y-%m} {currency}: opening {row.opening} + "
                                       f"purchases {row.purchases} + transfers {row.transfers} − amortization "
                                       f"{row.amortization} − write-offs {row.write_offs} ≠ closing {row.closing}")
            if prev_closing is not None and row.opening != prev_closing:
                raise RollForwardError(f"roll-forward {m:%Y-%m} {currency}: opening {row.opening} ≠ the "
                                       f"previous month's closing {prev_closing}")
            rows.append(row)
            prev_closing, m = row.closing, add_months(m, 1)
    return tuple(rows)
