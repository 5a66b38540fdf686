"""Prepaid commitments: amortization schedules, modifications, roll-forward, journal entries, and the
cross-check against the provider's amortized cost.

A reserved instance, savings plan or committed-use discount paid upfront is a prepaid asset: the purchase
debits prepaid expenses, and each month of the term expenses its share (Dr cloud expense by the owners
that used it / Cr prepaid). Recurring (monthly) fees are not prepaid: they are expensed in the month they
are billed, so they appear in a schedule only as an informative column.

Steps, one function each:

1. ``commitments_from_store(con)`` — one :class:`Commitment` per CommitmentDiscountId, from its FOCUS
   ``Purchase`` rows (SQL; a small result).
2. ``schedule(c, method)`` — month by month: opening, purchases, transfers, amortization, write-off,
   closing, the closing's non-current part, days of the term in the month, recurring fee.
3. ``exchange`` / ``terminate`` / ``extend`` — modifications; each returns new schedule(s).
4. ``roll_forward(schedules)`` — the portfolio per month and currency; the identity
   opening + purchases + transfers − amortization − write-offs = closing is checked for every month.
5. ``purchase_entry`` / ``amortization_entry`` / ``reclass_entry`` / ``write_off_entry`` /
   ``exchange_entry`` — balanced journal entries (``journal.entry``).
6. ``provider_check(con, commitments, method)`` — the schedule against the provider's amortized upfront
   (EffectiveCost of Used + Unused rows minus the recurring fee billed), each difference with its cause.

Conventions (stated once)
-------------------------
Term
    ``[start, end)`` with ``end = start + term_months`` calendar months, the day clamped to the length of
    the end month, as Excel's ``EDATE`` and ``dateutil.relativedelta`` do (31 Jan + 1 month = 28/29 Feb;
    29 Feb 2024 + 12 months = 28 Feb 2025). ``term_days = (end − start).days``: a one-year term containing
    29 February has 366 days (Microsoft: "$12,016 / 366 = $32.83 per day").
Money
    ``upfront`` and ``recurring_monthly`` are money amounts (multiples of the currency's minor unit, ≥ 0),
    Decimal, never float. Amounts are rounded half-even to the minor unit (``money.round_money``).
Daily straight-line (``method="daily"``, the default; what AWS and Azure show as amortized cost)
    per-day = upfront ÷ term_days (never rounded itself); a month's amount = per-day × days of the term in
    that month, rounded to the cent, and never more than the balance left; the last month of the term
    takes the residual, so the months sum to the upfront exactly.
Monthly straight-line (``method="monthly"``)
    a month's amount M = upfront ÷ term_months. A calendar month wholly inside the term gets M; the first
    month, when the term starts after the 1st, gets M × (days of the term in it ÷ days of that calendar
    month); the last month of the term takes the residual — "the remaining days". A term starting 15 Jan
    for 12 months: January gets 17/31 × M, February–December M each, and the next January (1–14 Jan)
    U − 17/31·M − 11·M, i.e. 14/31 × M up to rounding. A term starting on the 1st has term_months full
    months, the last one taking the rounding residual. Each amount is rounded to the cent and capped at
    the balance left, as in the daily method.
Current / non-current
    at the end of month m the non-current part of the closing balance is the balance the schedule still
    carries at the end of month m + 12 (what will not be expensed within the next 12 months); current =
    closing − non-current. At purchase the split is taken over the 12 calendar months starting with the
    start month. After a modification, months before it keep the split known at the time (the entries
    already posted used it).
Signs
    every amount is ≥ 0 except ``transfers``: + for a balance carried in from an exchanged commitment,
    − for one carried out. Purchases and transfers-in add to the balance; amortization, write-offs and
    transfers-out reduce it. (Capping each month at the balance left means a tiny upfront — less than
    half a cent a month — may be fully amortized before the term ends; it never goes negative.)

Modifications apply to an unmodified commitment (one modification per commitment); each says what it
does in its docstring.

References
----------
AWS Data Exports user guide, "Understanding your amortized reservation data":
https://docs.aws.amazon.com/cur/latest/userguide/amortized-reservation.html (stored copy read:
https://docs.amazonaws.cn/en_us/cur/latest/userguide/amortized-reservation.html)
Microsoft Learn, "View amortized benefit costs":
https://learn.microsoft.com/en-us/azure/cost-management-billing/reservations/view-amortized-costs
(both quoted in ``tests/data/amortization/README.md``).

Examples
--------
>>> c = Commitment("ri-1", "AWS", "Reserved Instance", dt.date(2022, 1, 1), 12, Decimal("365.00"))
>>> s = schedule(c)
>>> s.periods[0].month, s.periods[0].days, s.periods[0].amortization, s.periods[0].closing
(datetime.date(2022, 1, 1), 31, Decimal('31.00'), Decimal('334.00'))
>>> amortization(c, dt.date(2022, 2, 10)), balance(c, dt.date(2022, 2, 1))
(Decimal('28.00'), Decimal('306.00'))
>>> current_noncurrent(s, dt.date(2022, 1, 1))
(Decimal('334.00'), Decimal('0.00'))
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, localcontext

from finops_xl.allocation.split import largest_remainder
from finops_xl.close.journal import Entry, LedgerMap, entry
from finops_xl.money import minor_unit, round_money
from finops_xl.months import edate as add_months
from finops_xl.store.sources import sql_identifier

__all__ = [
    "CAUSES", "METHODS", "Commitment", "Exchange", "Period", "ProviderCheckRow", "RollForwardError",
    "RollForwardRow", "Schedule", "add_months", "amortization", "amortization_entry", "balance",
    "commitments_from_store", "current_noncurrent", "exchange", "exchange_entry", "extend",
    "provider_check", "purchase_entry", "reclass_entry", "roll_forward", "schedule", "terminate",
    "used_by_allocated_owner", "used_by_owner", "write_off_entry",
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


# --------------------------------------------------------------------------------------------------
# Journal entries
# --------------------------------------------------------------------------------------------------

def _source(c: Commitment) -> str:
    return f"commitment:{c.id}"


def _removed(s: Schedule, m: dt.date) -> tuple[Decimal, Decimal, Decimal]:
    """Non-current part before month ``m``'s movements, and the non-current parts removed in ``m`` by
    the write-off and by the transfer out (the rest of each comes out of current)."""
    prev = s.period(add_months(m, -1))
    nc_prev = prev.noncurrent if prev is not None else s.purchase_noncurrent
    p = s.period(m)
    nc_wo = min(nc_prev, p.write_off)
    nc_tr = min(nc_prev - nc_wo, max(-p.transfers, ZERO))
    return nc_prev, nc_wo, nc_tr


def purchase_entry(s: Schedule, ledger: LedgerMap = DEFAULT_LEDGER, *, pay_from: str = "ap") -> Entry | None:
    """The purchase on the start date: Dr prepaid current (to be expensed in the 12 months from the
    start month) and Dr prepaid non-current (the rest) / Cr accounts payable (``pay_from="ap"``) or
    cash (``"cash"``). None when nothing is paid upfront. An exchanged commitment's purchase is
    :func:`exchange_entry`."""
    c = s.commitment
    if c.carried_in:
        raise ValueError(f"commitment {c.id} was bought by exchange: use exchange_entry")
    if not c.upfront:
        return None
    if pay_from not in ("ap", "cash"):
        raise ValueError(f"pay_from must be 'ap' or 'cash', not {pay_from!r}")
    credit = ledger.accounts_payable if pay_from == "ap" else ledger.cash
    nc = s.purchase_noncurrent
    memo = f"{c.type} {c.id}: upfront for {c.term_months} months from {c.start.isoformat()}"
    return entry(f"PREPAID-{c.id}", c.start, c.currency, "prepaid-purchase",
                 [(ledger.prepaid_current, "", c.upfront - nc, f"{memo} (current)", _source(c)),
                  (ledger.prepaid_noncurrent, "", nc, f"{memo} (non-current)", _source(c))],
                 [(credit, "", c.upfront, memo, _source(c))], memo)


def amortization_entry(s: Schedule, month: dt.date, ledger: LedgerMap = DEFAULT_LEDGER, *,
                       policy_owner: str, weights: Mapping[str, Decimal] | None = None,
                       unused: Decimal | None = None) -> Entry | None:
    """The month's amortization, on the last day of the month: Dr cloud expense by consuming owner /
    Cr prepaid current. None when nothing is amortized that month.

    Parameters
    ----------
    weights : mapping owner → weight, optional
        Either each owner's share of the commitment (fractions; then ``unused`` is left None and
        1 − Σ shares is the unused share) or each owner's Used EffectiveCost of the commitment in the
        month (then pass ``unused`` = the Unused EffectiveCost; :func:`used_by_owner` reads both).
        None: everything to ``policy_owner``.
    policy_owner : str
        The owner charged with the unused share (a named bucket, e.g. the platform team).
    unused : Decimal, optional
        The unused weight, in the units of ``weights``.

    Notes
    -----
    The amount is split with ``largest_remainder`` at the currency's minor unit, so the owners' lines
    add up to the credit exactly. An owner's cost center comes from ``ledger.cost_center(owner)``.
    """
    m = _month(month)
    p = s.period(m)
    if p is None or not p.amortization:
        return None
    c = s.commitment
    parts: dict[str, Decimal] = {}
    for owner, w in (weights or {}).items():
        if isinstance(w, float):
            raise TypeError(f"weight of {owner!r} must be Decimal, not float")
        parts[owner] = parts.get(owner, ZERO) + Decimal(w)
    if unused is None:
        unused = Decimal(1) - sum(parts.values(), ZERO) if parts else ZERO
        if unused < 0:
            raise ValueError(f"owner shares of {c.id} add up to more than 1: {sum(parts.values(), ZERO)} "
                             "(for EffectiveCost weights pass unused=, e.g. from used_by_owner)")
    parts[policy_owner] = parts.get(policy_owner, ZERO) + Decimal(unused)
    if sum(parts.values(), ZERO) == 0:
        parts = {policy_owner: Decimal(1)}
    owners = list(parts)
    split = largest_remainder(p.amortization, [parts[o] for o in owners], _quantum(c.currency))
    memo = f"Amortization {m:%Y-%m} of {c.type} {c.id}"
    debits = [(ledger.expense_account, ledger.cost_center(o), amt,
               f"{memo}: {o}{' (unused, policy owner)' if o == policy_owner else ''}", _source(c))
              for o, amt in zip(owners, split)]
    return entry(f"AMORT-{m:%Y-%m}-{c.id}", _month_end(m), c.currency, "amortization", debits,
                 [(ledger.prepaid_current, "", p.amortization, memo, _source(c))], memo)


def reclass_entry(s: Schedule, month: dt.date, ledger: LedgerMap = DEFAULT_LEDGER) -> Entry | None:
    """Month-end reclassification from non-current to current prepaid (Dr current / Cr non-current),
    so that after the month's entries the two accounts hold ``current_noncurrent(s, month)``. Negative
    after an extension (then it credits current). None when there is nothing to move."""
    m = _month(month)
    p = s.period(m)
    if p is None:
        return None
    nc_prev, nc_wo, nc_tr = _removed(s, m)
    amount = nc_prev - nc_wo - nc_tr - p.noncurrent
    if not amount:
        return None
    c = s.commitment
    memo = f"Reclass {m:%Y-%m} of {c.type} {c.id}: prepaid due within 12 months"
    return entry(f"RECLASS-{m:%Y-%m}-{c.id}", _month_end(m), c.currency, "prepaid-reclass",
                 [(ledger.prepaid_current, "", amount, memo, _source(c))],
                 [(ledger.prepaid_noncurrent, "", amount, memo, _source(c))], memo)


def write_off_entry(s: Schedule, ledger: LedgerMap = DEFAULT_LEDGER, *, policy_owner: str,
                    proceeds: Decimal = ZERO, refund: Decimal = ZERO) -> Entry | None:
    """The write-off of a terminated (or sold) commitment, on its event date: Dr cash (``proceeds`` of a
    sale, e.g. on the RI Marketplace), Dr receivable (``refund``: what the provider owes back for the
    unused term, e.g. a prorated refund of a returned reservation, until it is paid) and Dr cloud expense
    for the loss (balance − proceeds − refund; a gain credits it), cost center of ``policy_owner`` /
    Cr prepaid non-current and current (the balance). None when nothing is written off."""
    written = [p for p in s.periods if p.write_off]
    if not written:
        return None
    p, c = written[0], s.commitment
    _, nc_wo, _ = _removed(s, p.month)
    proceeds = _money(proceeds, "proceeds", c.currency)
    refund = _money(refund, "refund", c.currency)
    when = s.event_date or _month_end(p.month)
    memo = f"Write-off of {c.type} {c.id} ({s.note})"
    loss = p.write_off - proceeds - refund
    debits = [(ledger.cash, "", proceeds, f"{memo}: proceeds", _source(c)),
              (ledger.receivable, "", refund, f"{memo}: refund due from {c.provider}", _source(c)),
              (ledger.expense_account, ledger.cost_center(policy_owner), loss,
               f"{memo}: {'loss' if loss >= 0 else 'gain'}", _source(c))]
    return entry(f"WRITEOFF-{c.id}", when, c.currency, "write-off", debits,
                 [(ledger.prepaid_noncurrent, "", nc_wo, f"{memo} (non-current)", _source(c)),
                  (ledger.prepaid_current, "", p.write_off - nc_wo, f"{memo} (current)", _source(c))],
                 memo)


def exchange_entry(ex: Exchange, ledger: LedgerMap = DEFAULT_LEDGER, *, pay_from: str = "ap") -> Entry:
    """The exchange on its date: Dr prepaid current / non-current of the new commitment (its split at
    purchase) / Cr prepaid current / non-current of the old one (its balance carried) and Cr accounts
    payable (or cash) for the additional payment."""
    old, new = ex.old.commitment, ex.new.commitment
    m = _month(new.start)
    _, _, nc_tr = _removed(ex.old, m)
    credit = ledger.accounts_payable if pay_from == "ap" else ledger.cash
    nc_new = ex.new.purchase_noncurrent
    memo = f"Exchange of {old.type} {old.id} into {new.type} {new.id}"
    return entry(f"EXCHANGE-{old.id}", new.start, new.currency, "prepaid-exchange",
                 [(ledger.prepaid_current, "", new.upfront - nc_new, f"{memo} (new, current)", _source(new)),
                  (ledger.prepaid_noncurrent, "", nc_new, f"{memo} (new, non-current)", _source(new))],
                 [(ledger.prepaid_noncurrent, "", nc_tr, f"{memo} (old, non-current)", _source(old)),
                  (ledger.prepaid_current, "", ex.carried - nc_tr, f"{memo} (old, current)", _source(old)),
                  (credit, "", new.upfront - new.carried_in, f"{memo}: additional payment", _source(new))],
                 memo)


# --------------------------------------------------------------------------------------------------
# From the store
# --------------------------------------------------------------------------------------------------

_WINDOW_SHARE_RE = re.compile(r"\((\d+) of (\d+) days of the term\)")


def commitments_from_store(con, *, default_term_months: int = 12, gross_up_window_share: bool = True,
                           table: str = "charges") -> tuple[Commitment, ...]:
    """One Commitment per CommitmentDiscountId with FOCUS ``Purchase`` rows in ``table``.

    Parameters
    ----------
    con : duckdb connection (e.g. ``CostStore(path).reader()``)
    default_term_months : int
        Term when no row states one (see :mod:`finops_xl.close.commitment_terms`); such a commitment
        has ``term_source == "assumed"``, and its callers print
        :func:`~finops_xl.close.commitment_terms.assumed_term_warnings` — never a silent default.
    gross_up_window_share : bool
        A One-Time row whose ChargeDescription says it carries only "(k of n days of the term)" (the
        sample generator's closed-window convention) is scaled by n ÷ k to the full upfront.

    Returns
    -------
    tuple of Commitment, sorted by id.

    Notes
    -----
    start = the first Purchase row's ChargePeriodStart date (for a commitment bought before the data
    window, that is the window's first day); upfront = Σ BilledCost of One-Time Purchase rows, rounded
    to the currency's minor unit; recurring_monthly = the Recurring fee of the latest full calendar
    month billed (else the largest Recurring fee); term = SkuPriceDetails ``x_Term`` (then another Term
    key, then term text), ChargeDescription, a One-Time row's ChargePeriod when it spans whole months
    (FOCUS purchase scenario 1), the commitment's ``x_CommitmentDiscountStart``/``End`` dates, else
    ``default_term_months`` with ``term_source`` "assumed" (:func:`commitment_terms.term_of`).
    """
    from finops_xl.close.commitment_terms import ASSUMED, term_of
    from finops_xl.store.store import (
        table_columns,  # the store (DuckDB) only where it is read
    )

    cols = table_columns(con, table)
    details = "CAST(SkuPriceDetails AS VARCHAR)" if "SkuPriceDetails" in cols else "NULL"
    # the commitment's own dates (AWS reservation/savings plan StartTime, EndTime), on any of its rows
    dates = ("x_CommitmentDiscountStart", "x_CommitmentDiscountEnd")
    start_sql, end_sql = (f"CAST({sql_identifier(c)} AS VARCHAR)" if c in cols else "NULL" for c in dates)
    t = sql_identifier(table)
    one_time = "ChargeFrequency = 'One-Time'"
    recurring = "ChargeFrequency = 'Recurring'"
    full_month = ("ChargePeriodStart = date_trunc('month', ChargePeriodStart) AND ChargePeriodEnd = "
                  "date_trunc('month', ChargePeriodStart) + INTERVAL 1 MONTH")
    rows = con.execute(f"""
        SELECT CommitmentDiscountId,
               min(ProviderName), min(CommitmentDiscountType),
               min(ChargePeriodStart),
               count(DISTINCT BillingCurrency), min(BillingCurrency),
               coalesce(sum(BilledCost) FILTER (WHERE {one_time}), 0),
               arg_max(BilledCost, ChargePeriodStart) FILTER (WHERE {recurring} AND {full_month}),
               max(BilledCost) FILTER (WHERE {recurring}),
               coalesce(min({details}) FILTER (WHERE {details} ILIKE '%term%'), min({details})),
               min(ChargeDescription) FILTER (WHERE {one_time}),
               min(ChargeDescription),
               min(ChargePeriodStart) FILTER (WHERE {one_time}),
               min(ChargePeriodEnd) FILTER (WHERE {one_time}),
               count(DISTINCT ChargeDescription) FILTER (WHERE {one_time}),
               min({start_sql}), max({end_sql})
        FROM {t}
        WHERE ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL
        GROUP BY CommitmentDiscountId
        ORDER BY CommitmentDiscountId""").fetchall()
    out = []
    for (cid, provider, ctype, first, n_cur, currency, upfront, rec_full, rec_max, price_details,
         onetime_desc, any_desc, ot_start, ot_end, n_ot_desc, term_start, term_end) in rows:
        if n_cur > 1:
            raise ValueError(f"commitment {cid}: Purchase rows in {n_cur} billing currencies")
        currency = currency or "USD"
        upfront = Decimal(upfront)
        share = _WINDOW_SHARE_RE.search(onetime_desc or "")
        if gross_up_window_share and share and n_ot_desc == 1:
            k, n = int(share.group(1)), int(share.group(2))
            with localcontext() as ctx:
                ctx.prec = 60
                upfront = upfront * n / k
        term, source = (term_of(details=price_details, descriptions=(onetime_desc, any_desc),
                                one_time_period=(ot_start, ot_end), dates=(term_start, term_end))
                        or (default_term_months, ASSUMED))
        rec = rec_full if rec_full is not None else (rec_max or ZERO)
        out.append(Commitment(cid, provider or "", ctype or "", first.date(), term,
                              round_money(upfront, currency), round_money(Decimal(rec), currency), currency,
                              term_source=source))
    return tuple(out)


def used_by_owner(con, commitment_id: str, month: dt.date, *, owner_column: str = "SubAccountName",
                  table: str = "charges") -> tuple[dict[str, Decimal], Decimal]:
    """({owner: Used EffectiveCost}, Unused EffectiveCost) of one commitment in one month — the
    weights :func:`amortization_entry` takes. The owner is the column ``owner_column`` ('' when null)."""
    m = _month(month)
    rows = con.execute(f"""
        SELECT coalesce(CAST({sql_identifier(owner_column)} AS VARCHAR), ''),
               coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), 0),
               coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Unused'), 0)
        FROM {sql_identifier(table)}
        WHERE CommitmentDiscountId = ? AND ChargeCategory = 'Usage'
          AND ChargePeriodStart >= ? AND ChargePeriodStart < ?
        GROUP BY 1 ORDER BY 1""", [commitment_id, m, add_months(m, 1)]).fetchall()
    used = {owner: Decimal(u) for owner, u, _ in rows if u}
    return used, sum((Decimal(x) for _, _, x in rows), ZERO)


def used_by_allocated_owner(con, commitment_id: str, month: dt.date,
                            table: str = "charges") -> tuple[dict[str, Decimal], Decimal]:
    """Like :func:`used_by_owner`, with owners from the store's allocation: each sub-account ×
    service's Used EffectiveCost of the commitment goes to the owners the allocation gave that
    sub-account × service's commitment-covered usage, in proportion (usage the allocation pooled or
    could not place stays under the sub-account's name). Without an allocation it is
    :func:`used_by_owner`."""
    present = con.execute("SELECT count(*) FROM information_schema.tables "
                          "WHERE table_name = 'allocation_groups'").fetchall()[0][0]
    if not present:
        return used_by_owner(con, commitment_id, month, table=table)
    m = _month(month)
    params = [commitment_id, m, add_months(m, 1)]
    where = (f"FROM {sql_identifier(table)} WHERE CommitmentDiscountId = ? AND ChargeCategory = 'Usage' "
             "AND ChargePeriodStart >= ? AND ChargePeriodStart < ?")
    rows = con.execute(f"""
        WITH used AS (
            SELECT SubAccountId, ServiceName, any_value(SubAccountName) AS name, sum(EffectiveCost) AS used
            {where} AND CommitmentDiscountStatus = 'Used' GROUP BY 1, 2),
        owners AS (
            SELECT SubAccountId, ServiceName, owner, sum(EffectiveCost) AS w
            FROM allocation_groups
            WHERE month = ? AND CommitmentDiscountStatus = 'Used' AND owner IS NOT NULL
              AND pool_id IS NULL
            GROUP BY ALL HAVING sum(EffectiveCost) > 0)
        SELECT coalesce(o.owner, u.name, u.SubAccountId, ''), u.used, o.w,
               sum(o.w) OVER (PARTITION BY u.SubAccountId, u.ServiceName)
        FROM used u LEFT JOIN owners o USING (SubAccountId, ServiceName) ORDER BY 1""",
        [*params, m]).fetchall()
    (unused,) = con.execute(f"SELECT coalesce(sum(EffectiveCost), 0) {where} "
                            "AND CommitmentDiscountStatus = 'Unused'", params).fetchall()[0]
    used: dict[str, Decimal] = {}
    with localcontext() as ctx:
        ctx.prec = 60
        for owner, u, w, total in rows:
            share = Decimal(w) / Decimal(total) if w is not None and total else Decimal(1)
            if u:
                used[owner] = used.get(owner, ZERO) + Decimal(u) * share
    return used, Decimal(unused)


# --------------------------------------------------------------------------------------------------
# Cross-check against the provider
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ProviderCheckRow:
    """One commitment-month: the schedule against the provider's amortized cost.

    Attributes:
      commitment_id, month, currency.
      schedule_amount: the schedule's amortization of the upfront in the month.
      provider_amount: Σ EffectiveCost of the commitment's Used + Unused Usage rows in the month (the
      provider's amortized upfront share + recurring fee), exact.
      provider_recurring: Σ BilledCost of its Recurring Purchase rows billed in the month, exact.
      provider_upfront: provider_amount − provider_recurring — what is compared with the schedule.
      difference: schedule_amount − provider_upfront rounded to the minor unit (0 = agree).
      cause: '' when they agree, else one of :data:`CAUSES`.
    """

    commitment_id: str
    month: dt.date
    currency: str
    schedule_amount: Decimal
    provider_amount: Decimal
    provider_recurring: Decimal
    provider_upfront: Decimal
    difference: Decimal
    cause: str


def provider_check(con, commitments: Sequence[Commitment], method: str = "daily", *,
                   table: str = "charges") -> list[ProviderCheckRow]:
    """Compare each commitment's schedule with the provider's amortization, month by month.

    The provider's EffectiveCost on Used and Unused rows is the amortized commitment: upfront share +
    recurring fee. Like is compared with like: the recurring fee billed in the month (Recurring
    Purchase rows) is taken out, and what is left — the provider's amortized upfront — is compared with
    the schedule. Months: those of the schedule inside the provider's data window (the store's first
    ChargePeriodStart to last ChargePeriodEnd for that provider) and any month with provider rows.

    Returns
    -------
    list of ProviderCheckRow, by commitment and month; every row with a non-zero difference names its
    cause (:data:`CAUSES`, first that explains it).
    """
    t = sql_identifier(table)
    ids = [c.id for c in commitments]
    if not ids:
        return []
    prov = con.execute(f"""
        SELECT CommitmentDiscountId, CAST(date_trunc('month', ChargePeriodStart) AS DATE),
               coalesce(sum(EffectiveCost) FILTER (WHERE ChargeCategory = 'Usage'
                                                   AND CommitmentDiscountStatus IN ('Used', 'Unused')), 0),
               coalesce(sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase'
                                                AND ChargeFrequency = 'Recurring'), 0),
               coalesce(sum(BilledCost) FILTER (WHERE ChargeCategory = 'Purchase'
                                                AND ChargeFrequency = 'One-Time'), 0)
        FROM {t}
        WHERE list_contains(?, CommitmentDiscountId)
        GROUP BY ALL""", [ids]).fetchall()
    windows = {p: (lo, hi) for p, lo, hi in con.execute(
        f"SELECT ProviderName, min(ChargePeriodStart), max(ChargePeriodEnd) FROM {t} GROUP BY 1").fetchall()}
    by_cm = {(cid, m): (Decimal(a), Decimal(r), Decimal(o)) for cid, m, a, r, o in prov}

    rows: list[ProviderCheckRow] = []
    for c in sorted(commitments, key=lambda c: c.id):
        q = _quantum(c.currency)
        s = schedule(c, method)
        daily = schedule(c, "daily") if method != "daily" else s
        lo, hi = windows.get(c.provider, (None, None))
        if lo is None:
            continue
        lo_d, hi_d = lo.date(), (hi - dt.timedelta(microseconds=1)).date()
        months = {p.month for p in s.periods if _month(lo_d) <= p.month <= _month(hi_d)}
        months |= {m for (cid, m) in by_cm if cid == c.id}
        provider_rows = {m: by_cm.get((c.id, m), (ZERO, ZERO, ZERO)) for m in sorted(months)}
        window_upfront = sum((a - r for a, r, _ in provider_rows.values()), ZERO)
        onetime = sum((o for _, _, o in provider_rows.values()), ZERO)
        share_only = (c.end > hi_d and abs(onetime - c.upfront) <= q
                      and abs(window_upfront - c.upfront) <= q * (len(months) + 1))
        last = s.periods[-1].month if s.periods else None
        for m, (amount, recurring, _) in provider_rows.items():
            p = s.period(m)
            sched = p.amortization if p is not None else ZERO
            upfront_part = amount - recurring
            diff = round_money(sched - upfront_part, c.currency)
            cause = ""
            if diff:
                delta = abs(sched - upfront_part)
                bound = q * (len(s.periods) // 2 + 1) if m == last else q
                dp = daily.period(m)
                per_day = c.upfront / c.term_days if c.term_days else ZERO
                if not (lo <= dt.datetime.combine(m, dt.time()) and
                        dt.datetime.combine(add_months(m, 1), dt.time()) <= hi):
                    cause = "month partly outside the data window"
                elif delta <= bound:
                    cause = "rounding"
                elif share_only:
                    cause = "upfront share outside the data window"
                elif method == "monthly" and dp is not None and abs(dp.amortization - upfront_part) <= bound:
                    cause = "monthly method: equal months, provider amortizes by the day"
                elif not recurring and c.recurring_monthly and upfront_part > sched:
                    cause = "recurring fee included by provider"
                elif (_month(c.start) == m or _month(c.end - dt.timedelta(days=1)) == m) and delta <= per_day + q:
                    cause = "term starts/ends mid-month: provider prorates hourly"
                else:
                    cause = "unexplained"
            rows.append(ProviderCheckRow(c.id, m, c.currency, sched, amount, recurring, upfront_part,
                                         diff, cause))
    return rows
