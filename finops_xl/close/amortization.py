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
>>> import datetime as dt
>>> from decimal import Decimal
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

from finops_xl.close.amortization_entries import (
    amortization_entry, exchange_entry, purchase_entry, reclass_entry, write_off_entry,
)
from finops_xl.close.amortization_schedule import (
    CAUSES, DEFAULT_LEDGER, METHODS, Commitment, Exchange, Period, RollForwardError, RollForwardRow, Schedule,
    add_months, amortization, balance, current_noncurrent, exchange, extend, roll_forward, schedule, terminate,
)
from finops_xl.close.amortization_store import (
    ProviderCheckRow, commitments_from_store, provider_check, used_by_allocated_owner, used_by_owner,
)

__all__ = [
    "CAUSES", "DEFAULT_LEDGER", "METHODS", "Commitment", "Exchange", "Period", "ProviderCheckRow",
    "RollForwardError", "RollForwardRow", "Schedule", "add_months", "amortization", "amortization_entry",
    "balance", "commitments_from_store", "current_noncurrent", "exchange", "exchange_entry", "extend",
    "provider_check", "purchase_entry", "reclass_entry", "roll_forward", "schedule", "terminate",
    "used_by_allocated_owner", "used_by_owner", "write_off_entry",
]
