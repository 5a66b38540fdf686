"""Valuing a commitment purchase the way a CFO expects: NPV, IRR, MIRR, break-even.

Two layers:

1. **Excel-parity functions** (in ``excel_finance.py``, importable from here). ``xnpv``, ``xirr``, ``irr``
   and ``mirr`` behave exactly like the Excel built-ins of the same name. NPV has two conventions, so it
   has two names: ``npv_excel`` (Excel's ``NPV``: the first value is one period out) and ``npv_t0``
   (numpy-financial's ``npv``: the first value is at time 0). There is deliberately no bare ``npv``.
2. **Purchase valuation.** A :class:`PurchaseOption` (a reserved instance or savings plan: term, payment
   option, upfront fee, recurring hourly fee) becomes dated monthly :class:`CashFlow` rows
   (:func:`cash_flows`), which :func:`value` turns into a :class:`Valuation` (XNPV, XIRR, MIRR, break-even
   month, total savings) and :func:`compare` lays side by side against "stay on demand" (NPV 0).

Conventions, stated once:

- **Signs.** Cash-flow functions use negative outflows (what you pay) and positive inflows (on-demand
  spend avoided). This is the opposite of FOCUS cost columns, where spend is positive.
- **Rates** are fractions (``0.09`` for 9%), never percents.
- **Money is Decimal.** Money arguments accept ``Decimal``, ``int``, ``str`` or ``float`` (a float is read
  through its shortest ``repr``, so ``0.09`` means ``Decimal("0.09")``) and money results are ``Decimal``.
  ``xnpv``, ``npv_excel``, ``npv_t0`` and ``mirr`` are computed in Decimal arithmetic with 34 significant
  digits. ``irr`` and ``xirr`` are root finders: they run in binary floating point (pyxirr, which
  reproduces Excel's IRR and XIRR) and return a ``float``; so does ``mirr``, for symmetry with them.
- **Days.** XNPV and XIRR count whole calendar days over a 365-day year, as Excel does (leap days are not
  special).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import NamedTuple

from finops_xl.commitments.excel_finance import (ONE, ZERO, _PRECISION, _date, _rate, irr, mirr, npv_excel,
                                                 npv_t0, xirr, xnpv)
from finops_xl.money import to_decimal as _dec
from finops_xl.months import edate as add_months

__all__ = [
    "ALL_UPFRONT",
    "NO_UPFRONT",
    "ON_DEMAND",
    "PARTIAL_UPFRONT",
    "CashFlow",
    "PurchaseOption",
    "Valuation",
    "breakeven_months",
    "breakeven_utilization",
    "cash_flows",
    "compare",
    "irr",
    "mirr",
    "npv_excel",
    "npv_t0",
    "spend_commitment_hour_cost",
    "value",
    "xirr",
    "xnpv",
]

#: Docstring examples of the Excel-parity functions, run with this module's (``doctest.testmod(valuation)``).
__test__ = {f.__name__: f for f in (xnpv, npv_excel, npv_t0, irr, xirr, mirr)}

NO_UPFRONT = "no_upfront"
PARTIAL_UPFRONT = "partial_upfront"
ALL_UPFRONT = "all_upfront"
PAYMENT_OPTIONS = (NO_UPFRONT, PARTIAL_UPFRONT, ALL_UPFRONT)
TERM_YEARS = (1, 3)

#: Name of the "stay on demand" baseline row in :func:`compare`.
ON_DEMAND = "on demand"


# --------------------------------------------------------------------------------------------------
# break-even and hourly cost
# --------------------------------------------------------------------------------------------------


def breakeven_utilization(on_demand_rate: object, effective_rate: object) -> Decimal:
    """Utilization at which a commitment costs the same as on-demand: effective ÷ on-demand.

    Parameters
    ----------
    on_demand_rate : number
        On-demand price per hour (or per unit) of the covered usage; must be positive.
    effective_rate : number
        The commitment's effective price for the same unit (upfront amortized over the term plus the
        recurring fee); must not be negative.

    Returns
    -------
    Decimal
        A fraction; equal to ``1 - d`` for a discount ``d`` off on-demand. Above 1 the commitment
        never pays (it is dearer than on-demand even when fully used).

    Notes
    -----
    You pay ``effective_rate`` for every hour of the term, used or not; on-demand costs
    ``on_demand_rate × u`` for a utilization ``u``. They are equal at ``u = effective / on_demand``
    (GLOSSARY "Break-even utilization").

    References
    ----------
    Cloudability, "Measuring Reserved Instance profitability with the break even point",
    https://blog.cloudability.com/measuring-reserved-instance-profitability-with-the-break-even-point/
    (m4.large Partial Upfront: effective $0.074/h vs on-demand $0.126/h).

    Examples
    --------
    >>> breakeven_utilization("0.126", "0.074").quantize(Decimal("0.0001"))
    Decimal('0.5873')
    """
    od = _dec(on_demand_rate, "on_demand_rate")
    eff = _dec(effective_rate, "effective_rate")
    if od <= 0:
        raise ValueError(f"on_demand_rate must be positive, got {on_demand_rate!r}")
    if eff < 0:
        raise ValueError(f"effective_rate must not be negative, got {effective_rate!r}")
    return eff / od


def spend_commitment_hour_cost(
    commitment_per_hour: object, units: object, commit_price: object, on_demand_price: object
) -> Decimal:
    """Cost of one hour under a spend commitment (savings plan): the commitment plus the overflow.

    Parameters
    ----------
    commitment_per_hour : number
        The hourly commitment in money ($/hour), paid every hour whether used or not.
    units : number
        Usage in that hour (instances, vCPU-hours, …), not negative.
    commit_price : number
        Price per unit under the plan (the discounted rate); positive.
    on_demand_price : number
        On-demand price per unit, charged for usage the commitment does not cover.

    Returns
    -------
    Decimal
        ``commitment_per_hour + max(0, units - commitment_per_hour / commit_price) × on_demand_price``.

    Notes
    -----
    Model (single rate, one hour): the commitment buys ``commitment / commit_price`` units at the plan
    rate; usage beyond that overflows to on-demand; unused commitment is still paid (waste). With mixed
    usage types AWS applies the plan to the highest discount first; this function covers one rate.

    References
    ----------
    AWS re:Post, "How compute saving plan going to be adjusted?",
    https://repost.aws/questions/QUQcDw3VtoS5yxVxXvrPJExQ/how-compute-saving-plan-going-to-be-adjusted —
    "$13 commitment covers 3.25 units ($13/$4), and the remaining 0.75 unit will be charged at On-Demand
    rate $5"; AWS, "How Savings Plans apply to your usage",
    https://docs.aws.amazon.com/savingsplans/latest/userguide/sp-applying.html

    Examples
    --------
    >>> spend_commitment_hour_cost(13, 4, 4, 5)
    Decimal('16.75')
    >>> spend_commitment_hour_cost(13, 2, 4, 5)   # under-used: the commitment is still paid
    Decimal('13')
    """
    c = _dec(commitment_per_hour, "commitment_per_hour")
    u = _dec(units, "units")
    p = _dec(commit_price, "commit_price")
    od = _dec(on_demand_price, "on_demand_price")
    if c < 0:
        raise ValueError(f"commitment_per_hour must not be negative, got {commitment_per_hour!r}")
    if u < 0:
        raise ValueError(f"units must not be negative, got {units!r}")
    if p <= 0:
        raise ValueError(f"commit_price must be positive, got {commit_price!r}")
    if od < 0:
        raise ValueError(f"on_demand_price must not be negative, got {on_demand_price!r}")
    overflow = max(ZERO, u - c / p)
    return c + overflow * od


# --------------------------------------------------------------------------------------------------
# purchase options and their cash flows
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseOption:
    """One commitment you could buy: a reserved instance or a savings plan, covering one unit of usage.

    Attributes
    ----------
    name : str
        Label shown in comparisons (e.g. ``"1y partial upfront"``).
    term_years : int
        1 or 3.
    payment : str
        ``"no_upfront"``, ``"partial_upfront"`` or ``"all_upfront"`` (:data:`NO_UPFRONT`, …).
    upfront : Decimal
        One-time fee paid at purchase (0 for no upfront), a positive amount.
    recurring_hourly : Decimal
        Fee per hour of the term, billed monthly for every hour of the month, used or not
        (0 for all upfront), a positive amount.

    Notes
    -----
    Amounts are positive prices here; :func:`cash_flows` turns them into negative outflows. The
    discount off on-demand is derived (:meth:`discount`), not stored, so it cannot disagree with the
    prices. Use :meth:`from_monthly` when the offer quotes a monthly fee.
    """

    name: str
    term_years: int
    payment: str
    upfront: Decimal
    recurring_hourly: Decimal

    def __post_init__(self) -> None:
        if self.term_years not in TERM_YEARS:
            raise ValueError(f"term_years must be 1 or 3, got {self.term_years!r} ({self.name!r})")
        if self.payment not in PAYMENT_OPTIONS:
            raise ValueError(
                f"payment must be one of {', '.join(PAYMENT_OPTIONS)}, got {self.payment!r} ({self.name!r})"
            )
        up = _dec(self.upfront, "upfront")
        rec = _dec(self.recurring_hourly, "recurring_hourly")
        object.__setattr__(self, "upfront", up)
        object.__setattr__(self, "recurring_hourly", rec)
        if up < 0 or rec < 0:
            raise ValueError(f"upfront and recurring_hourly are prices, not negative ({self.name!r})")
        expected = {
            NO_UPFRONT: (up == 0 and rec > 0, "upfront = 0 and recurring_hourly > 0"),
            PARTIAL_UPFRONT: (up > 0 and rec > 0, "upfront > 0 and recurring_hourly > 0"),
            ALL_UPFRONT: (up > 0 and rec == 0, "upfront > 0 and recurring_hourly = 0"),
        }[self.payment]
        if not expected[0]:
            raise ValueError(
                f"{self.payment} needs {expected[1]}; "
                f"got upfront={up}, recurring_hourly={rec} ({self.name!r})"
            )

    @classmethod
    def from_monthly(
        cls, name: str, term_years: int, payment: str, upfront: object, recurring_monthly: object
    ) -> PurchaseOption:
        """An option quoted with a monthly fee, converted at 730 hours a month (8,760 ÷ 12), as AWS quotes.

        >>> PurchaseOption.from_monthly("1y partial", 1, PARTIAL_UPFRONT, 324, "27.01").recurring_hourly
        Decimal('0.037')
        """
        monthly = _dec(recurring_monthly, "recurring_monthly")
        return cls(name, term_years, payment, _dec(upfront, "upfront"), monthly / 730)

    def term_end(self, start: date) -> date:
        """End of the term (exclusive) for a purchase on ``start``."""
        return add_months(start, 12 * self.term_years)

    def effective_hourly(self, start: date) -> Decimal:
        """Upfront spread over the term's hours plus the recurring fee: the rate to set against on-demand."""
        hours = Decimal((self.term_end(start) - start).days * 24)
        return self.upfront / hours + self.recurring_hourly

    def discount(self, on_demand_hourly: object, start: date) -> Decimal:
        """Discount off on-demand at full use: ``1 - effective_hourly / on_demand_hourly``."""
        return ONE - breakeven_utilization(on_demand_hourly, self.effective_hourly(start))


class CashFlow(NamedTuple):
    """One dated row of a purchase's cash flows (outflows negative).

    Attributes
    ----------
    period : int
        0 for the purchase date, then 1 … 12 × term_years for each month of the term.
    date : datetime.date
        Purchase date for period 0; for month k the end of that month, ``EDATE(start, k)``
        (monthly fees and on-demand usage are billed in arrears).
    hours : int
        Hours in the month (0 for period 0).
    upfront : Decimal
        Minus the upfront fee (period 0 only).
    recurring : Decimal
        Minus the recurring fee for every hour of the month.
    on_demand_avoided : Decimal
        On-demand cost of the covered usage: on-demand rate × hours × utilization (positive).
    """

    period: int
    date: date
    hours: int
    upfront: Decimal
    recurring: Decimal
    on_demand_avoided: Decimal

    @property
    def net(self) -> Decimal:
        """Savings of this row over staying on demand: upfront + recurring + on_demand_avoided."""
        return self.upfront + self.recurring + self.on_demand_avoided


def _utilization(utilization: object) -> Decimal:
    u = _dec(utilization, "utilization")
    if not ZERO <= u <= ONE:
        raise ValueError(f"utilization must be between 0 and 1, got {utilization!r}")
    return u


def cash_flows(
    option: PurchaseOption, on_demand_hourly: object, start: date, utilization: object = 1
) -> tuple[CashFlow, ...]:
    """Dated monthly cash flows of buying ``option`` on ``start`` instead of staying on demand.

    Parameters
    ----------
    option : PurchaseOption
    on_demand_hourly : number
        On-demand price per hour of the usage the option covers.
    start : datetime.date
        Purchase date (the term starts that day, 00:00 UTC).
    utilization : number, default 1
        Share of the term's hours the covered usage actually runs (0–1). Only that usage would
        otherwise have been bought on demand; the commitment is paid for every hour.

    Returns
    -------
    tuple of CashFlow
        Period 0 on ``start`` (the upfront fee), then one row per month of the term dated at the
        month's end. Outflows (fees) negative, on-demand spend avoided positive.

    Notes
    -----
    Months are calendar months from ``start`` (``EDATE``), hours are ``24 × days`` (UTC, no DST).
    Amounts are exact Decimals, not rounded to cents: round when you post or present.

    Examples
    --------
    >>> opt = PurchaseOption("1y all upfront", 1, ALL_UPFRONT, Decimal("648.24"), 0)
    >>> flows = cash_flows(opt, "0.126", date(2023, 1, 1))
    >>> len(flows), flows[0].upfront, flows[1].date, flows[1].on_demand_avoided
    (13, Decimal('-648.24'), datetime.date(2023, 2, 1), Decimal('93.744'))
    >>> sum(f.on_demand_avoided for f in flows)   # 8,760 h x $0.126
    Decimal('1103.760')
    """
    if not isinstance(option, PurchaseOption):
        raise ValueError(f"option must be a PurchaseOption, got {type(option).__name__}")  # noqa: TRY004 - bad input is a ValueError here
    od = _dec(on_demand_hourly, "on_demand_hourly")
    if od < 0:
        raise ValueError(f"on_demand_hourly must not be negative, got {on_demand_hourly!r}")
    start = _date(start, "start")
    u = _utilization(utilization)
    rows = [CashFlow(0, start, 0, -option.upfront, ZERO, ZERO)]
    for k in range(1, 12 * option.term_years + 1):
        begin, end = add_months(start, k - 1), add_months(start, k)
        hours = (end - begin).days * 24
        rows.append(CashFlow(k, end, hours, ZERO, -option.recurring_hourly * hours, od * hours * u))
    return tuple(rows)


def _breakeven(flows: Sequence[CashFlow]) -> CashFlow | None:
    cumulative = ZERO
    for f in flows:
        cumulative += f.net
        if f.period >= 1 and cumulative >= 0:
            return f
    return None


def breakeven_months(
    option: PurchaseOption, on_demand_hourly: object, start: date, utilization: object = 1
) -> int | None:
    """First month of the term in which cumulative savings over on-demand turn non-negative.

    Parameters
    ----------
    option, on_demand_hourly, start, utilization
        As for :func:`cash_flows`.

    Returns
    -------
    int or None
        A month number from 1 to 12 × term_years; ``None`` if the purchase never catches up within
        its term (utilization at or below break-even, roughly).

    Notes
    -----
    Undiscounted (GLOSSARY "Break-even month"): the cumulative sum of :attr:`CashFlow.net` starting
    with the upfront fee. A no-upfront option that saves anything breaks even in month 1.

    Examples
    --------
    Cloudability's m4.large: $0.126/h on demand; a $648.24 all-upfront year is $0.074/h effective.

    >>> opt = PurchaseOption("1y all upfront", 1, ALL_UPFRONT, Decimal("648.24"), 0)
    >>> breakeven_months(opt, "0.126", date(2023, 1, 1))   # 648.24 / 0.126 = 5,144.76 h: 2 Aug 2023
    8
    >>> breakeven_months(opt, "0.126", date(2023, 1, 1), utilization="0.5") is None
    True
    """
    hit = _breakeven(cash_flows(option, on_demand_hourly, start, utilization))
    return None if hit is None else hit.period


class Valuation(NamedTuple):
    """The CFO's view of one purchase option (or of staying on demand).

    Attributes
    ----------
    name : str
        The option's name, or :data:`ON_DEMAND` for the baseline.
    npv : Decimal
        XNPV at the annual rate of the net flows, as of the purchase date. Positive: buy beats on-demand.
    irr : float or None
        XIRR of the net flows, annual; ``None`` without a sign change (no upfront to recover, or never
        any savings), where Excel shows ``#NUM!``.
    mirr : float or None
        Annualized MIRR of the monthly net flows: monthly finance and reinvest rates
        ``(1 + annual)^(1/12) - 1``, result ``(1 + monthly)^12 - 1``; ``None`` without a sign change.
    breakeven_month : int or None
        See :func:`breakeven_months`.
    breakeven_date : datetime.date or None
        The date of that month's row.
    commitment_cost : Decimal
        Upfront plus recurring fees over the term (positive).
    on_demand_avoided : Decimal
        On-demand spend the purchase replaces over the term (positive).
    total_savings : Decimal
        ``on_demand_avoided - commitment_cost``, undiscounted.
    effective_hourly : Decimal
        Upfront spread over the term plus the recurring fee.
    breakeven_utilization : Decimal or None
        ``effective_hourly / on_demand_hourly`` (``None`` for the baseline).
    """

    name: str
    npv: Decimal
    irr: float | None
    mirr: float | None
    breakeven_month: int | None
    breakeven_date: date | None
    commitment_cost: Decimal
    on_demand_avoided: Decimal
    total_savings: Decimal
    effective_hourly: Decimal
    breakeven_utilization: Decimal | None


def value(
    option: PurchaseOption,
    on_demand_hourly: object,
    start: date,
    annual_rate: object,
    utilization: object = 1,
    *,
    finance_rate: object | None = None,
    reinvest_rate: object | None = None,
) -> Valuation:
    """Value buying ``option`` on ``start`` against staying on demand.

    Parameters
    ----------
    option, on_demand_hourly, start, utilization
        As for :func:`cash_flows`.
    annual_rate : number
        Discount rate (cost of capital / WACC), annual fraction, for the XNPV.
    finance_rate, reinvest_rate : number, optional
        Annual rates for the MIRR; both default to ``annual_rate``.

    Returns
    -------
    Valuation

    Notes
    -----
    The net flows are :func:`cash_flows` summed per row: period 0 (purchase date, minus the upfront)
    then each month's avoided on-demand spend less its recurring fee. NPV is :func:`xnpv` of them
    (as Excel would compute in a workbook from the same dated rows), IRR is :func:`xirr`, MIRR uses
    :func:`mirr` on the monthly rows (annualized as described in :class:`Valuation`).

    Examples
    --------
    >>> opt = PurchaseOption("1y all upfront", 1, ALL_UPFRONT, Decimal("648.24"), 0)
    >>> v = value(opt, "0.126", date(2023, 1, 1), "0.08")
    >>> v.total_savings, v.breakeven_month, v.breakeven_date   # 1,103.76 - 648.24 (Cloudability)
    (Decimal('455.520'), 8, datetime.date(2023, 9, 1))
    >>> value(opt, "0.126", date(2023, 1, 1), 0).npv == v.total_savings   # at 0% NPV is the sum
    True
    """
    flows = cash_flows(option, on_demand_hourly, start, utilization)
    rate = _rate(annual_rate, "annual_rate")
    fr = _rate(annual_rate if finance_rate is None else finance_rate, "finance_rate")
    rr = _rate(annual_rate if reinvest_rate is None else reinvest_rate, "reinvest_rate")
    nets = [f.net for f in flows]
    dates = [f.date for f in flows]
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        monthly_fr = (ONE + fr) ** (ONE / 12) - ONE
        monthly_rr = (ONE + rr) ** (ONE / 12) - ONE
    m = mirr(nets, monthly_fr, monthly_rr)
    hit = _breakeven(flows)
    cost = -sum((f.upfront + f.recurring for f in flows), ZERO)
    avoided = sum((f.on_demand_avoided for f in flows), ZERO)
    effective = option.effective_hourly(start)
    return Valuation(
        name=option.name,
        npv=xnpv(rate, nets, dates),
        irr=xirr(nets, dates),
        mirr=None if m is None else (1 + m) ** 12 - 1,
        breakeven_month=None if hit is None else hit.period,
        breakeven_date=None if hit is None else hit.date,
        commitment_cost=cost,
        on_demand_avoided=avoided,
        total_savings=avoided - cost,
        effective_hourly=effective,
        breakeven_utilization=breakeven_utilization(on_demand_hourly, effective)
        if _dec(on_demand_hourly, "on_demand_hourly") > 0
        else None,
    )


def compare(
    options: Iterable[PurchaseOption],
    on_demand_hourly: object,
    start: date,
    annual_rate: object,
    utilization: object = 1,
) -> tuple[Valuation, ...]:
    """Value several options side by side, with "stay on demand" first as the baseline (NPV 0).

    Parameters
    ----------
    options : iterable of PurchaseOption
        Option names must be unique (and not ``"on demand"``).
    on_demand_hourly, start, annual_rate, utilization
        As for :func:`value`, shared by every option.

    Returns
    -------
    tuple of Valuation
        The baseline row, then one row per option in the order given. Every number is relative to
        staying on demand, so the baseline is all zeros. Options of different terms are compared on
        their own terms; NPV is the fair single yardstick.

    Examples
    --------
    >>> opts = [PurchaseOption("1y no upfront", 1, NO_UPFRONT, 0, "0.08"),
    ...         PurchaseOption("1y all upfront", 1, ALL_UPFRONT, Decimal("648.24"), 0)]
    >>> for v in compare(opts, "0.126", date(2023, 1, 1), 0):   # at 0% NPV = total savings
    ...     print(v.name, v.npv, v.total_savings)
    on demand 0 0
    1y no upfront 402.960 402.960
    1y all upfront 455.520 455.520
    """
    options = list(options)
    if not options:
        raise ValueError("options is empty: give at least one PurchaseOption to compare")
    names = [o.name if isinstance(o, PurchaseOption) else None for o in options]
    for i, o in enumerate(options):
        if not isinstance(o, PurchaseOption):
            raise ValueError(f"options[{i}] must be a PurchaseOption, got {type(o).__name__}")  # noqa: TRY004 - bad input is a ValueError here
    dupes = sorted({n for n in names if names.count(n) > 1 or n == ON_DEMAND})
    if dupes:
        raise ValueError(f"option names must be unique and not {ON_DEMAND!r}: {', '.join(map(repr, dupes))}")
    od = _dec(on_demand_hourly, "on_demand_hourly")
    baseline = Valuation(ON_DEMAND, ZERO, None, None, None, None, ZERO, ZERO, ZERO, od, None)
    return (baseline, *(value(o, od, start, annual_rate, utilization) for o in options))
