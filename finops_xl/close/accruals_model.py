"""The accrual's records (lines, fees, result), its constants and month arithmetic (``accruals``
re-exports them)."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from finops_xl.close.journal import LedgerMap

ZERO = Decimal(0)
#: Precision of every unrounded amount: the store's DECIMAL(38,12).
QUANTUM = Decimal("1e-12")
#: Projection methods (see the module docstring, step 3).
METHODS = ("trailing_7d", "month_to_date", "prior_month")
#: Cost columns an accrual can be measured in.
METRICS = ("BilledCost", "EffectiveCost")
#: Where owners come from.
OWNER_SOURCES = ("auto", "allocation", "none")
#: Record file format name and version.
RECORD_FORMAT, RECORD_VERSION = "finops-xl/accrual", 1
#: Days in the trailing window.
TRAILING_DAYS = 7
#: The ledger map used when none is given (default accounts, every cost center UNASSIGNED).
DEFAULT_LEDGER = LedgerMap()


class AccrualError(ValueError):
    """An accrual that cannot be computed as asked (the message says why and what to do)."""


@dataclasses.dataclass(frozen=True)
class FixedFee:
    """A known recurring fee expected in the month but not in its data yet.

    Attributes:
      currency, provider, sub_account, service_category, service_name: where it is billed.
      amount: the expected amount (in the accrual's metric).
      charge_category: FOCUS ChargeCategory (Purchase for support and subscriptions, Tax, …).
      commitment_id: CommitmentDiscountId of a commitment's recurring fee, else None.
      source: where the fee came from (``prior_month:2025-01`` when detected, ``manual`` …).
    """

    currency: str
    provider: str | None
    sub_account: str | None
    service_category: str | None
    service_name: str | None
    amount: Decimal
    charge_category: str | None = "Purchase"
    commitment_id: str | None = None
    source: str = "manual"

    @property
    def key(self) -> tuple:
        """What makes a Recurring row "the same fee"."""
        return (self.currency, self.provider, self.sub_account, self.service_name,
                self.charge_category, self.commitment_id)


@dataclasses.dataclass(frozen=True)
class AccrualLine:
    """One owner's service category in one currency.

    Attributes:
      currency: billing currency.  owner: allocation owner (or sub-account id, or UNALLOCATED).
      cost_center, account: where it posts.  service_category: FOCUS ServiceCategory.
      actual_to_date: the month's charges before the cut-off.
      projected: the missing days, by the method.  fixed_fees: known fees not in the data yet.
      invoiced: the part of actual_to_date that carries an InvoiceId.
    """

    currency: str
    owner: str
    cost_center: str
    service_category: str | None
    account: str
    actual_to_date: Decimal
    projected: Decimal
    fixed_fees: Decimal
    invoiced: Decimal

    @property
    def estimate(self) -> Decimal:
        """The month's expected expense: actual to date + projected + fixed fees."""
        return self.actual_to_date + self.projected + self.fixed_fees

    @property
    def accrual(self) -> Decimal:
        """What to accrue: the estimate less what is already invoiced."""
        return self.estimate - self.invoiced


AMOUNT_FIELDS = ("actual_to_date", "projected", "fixed_fees", "invoiced", "estimate", "accrual")


@dataclasses.dataclass(frozen=True)
class AccrualResult:
    """An accrual of one month.

    Attributes:
      month: first day of the month.  cutoff: first day not covered by the data.
      method: projection method.  metric: BilledCost or EffectiveCost.
      owner_source: ``allocation`` or ``none`` (as resolved).
      liability_account: the GL account credited.  days_missing: days projected.
      basis: in words, the data the projection used.
      lines: per currency × owner × service category.  fees: the fixed fees accrued.
    """

    month: dt.date
    cutoff: dt.date
    method: str
    metric: str
    owner_source: str
    liability_account: str
    days_missing: int
    basis: str
    lines: tuple[AccrualLine, ...]
    fees: tuple[FixedFee, ...] = ()

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted({l.currency for l in self.lines}))

    def total(self, field: str = "accrual", currency: str | None = None) -> Decimal:
        """Σ of one amount (``AMOUNT_FIELDS``) over the lines, in one currency (required when the
        month has several)."""
        if field not in AMOUNT_FIELDS:
            raise ValueError(f"field must be one of {', '.join(AMOUNT_FIELDS)}, not {field!r}")
        return sum((getattr(l, field) for l in _in_currency(self.lines, currency)), ZERO)


def _in_currency(lines, currency):
    currencies = {l.currency for l in lines}
    if currency is None and len(currencies) > 1:
        raise ValueError(f"lines are in several currencies ({', '.join(sorted(currencies))}): "
                         "name one")
    return [l for l in lines if currency is None or l.currency == currency]


# ---- months ---------------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _prior_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _days(month: dt.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def _ts(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _q(x: Decimal) -> Decimal:
    return x.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def _dec(x) -> Decimal:
    return ZERO if x is None else Decimal(x)
