"""A commitment valued with risk: utilization and price paths, after tax, residual value, cash, rates.

:mod:`finops_xl.commitments.valuation` values a purchase at one utilization for the whole term. Here a
:class:`~finops_xl.commitments.valuation.PurchaseOption` is valued month by month along a **path**:

Paths (:func:`path`)
    ``utilization[m]`` — the share of the commitment used in month ``m`` (1 … term months): the starting
    utilization grown (or decayed, a negative ``growth``) by ``growth`` a year, ``u0 × (1 + growth)^((m − 1)/12)`` (month 1 at ``u0``),
    clipped to [0, 1]; or any list given by hand. ``price[m]`` — the on-demand price as a share of today's,
    ``(1 − price_drop)^((m − 1)/12)`` (a provider's price cut lowers what the commitment saves; the fee is fixed).

Monthly flows (:func:`monthly_flows`), a month = 730 hours, money positive = inflow
    ``avoided[m] = 730 × on_demand_hourly × utilization[m] × price[m]`` (on-demand spend not paid);
    ``fee[m] = 730 × recurring_hourly``; the upfront is paid at month 0. Pre-tax cash ``avoided − fee``.

After tax (:func:`after_tax`, tax rate ``T``)
    A saving raises taxable profit, so every monthly pre-tax cash amount is taxed: ``× (1 − T)`` in its
    month. The upfront is deductible either when paid (``deduction="immediate"``: ``+T × upfront`` at
    month 0) or spread as a prepaid expense over the term (``"amortized"``, the usual accounting
    treatment: ``+T × upfront ÷ months`` each month). Tax is taken in the month it arises (a
    simplification: real payments lag by a quarter or a year).

Residual value (:func:`residual_value`)
    What an exit at the end of month ``k`` recovers of the remaining commitment ``R = fee and upfront
    share of months k+1 … term``: an AWS standard Reserved Instance sold on the Reserved Instance
    Marketplace, ``R × (1 − 12%)`` (AWS keeps a 12% service fee of the upfront price); an Azure reservation
    refunded, ``min(R, USD 50,000)`` (the rolling 12-month cancellation limit); an Azure exchange keeps
    ``R`` as credit; savings plans and Google committed-use discounts, 0 (they cannot be sold, cancelled
    or exchanged).

Discount rate (:func:`rate_guidance`)
    The rate to discount at is the company's **WACC** (the return its capital costs) for a decision like
    any other investment, or its **hurdle rate** (WACC plus a premium that finance sets for projects) when
    a commitment competes with other uses of cash; a commitment's cash flows are near certain while usage
    holds, so the WACC is the usual choice and the hurdle the conservative one. The sensitivity table
    shows the NPV at each rate and each utilization growth, so the choice is visible.

NPV here discounts month ``m`` by ``(1 + rate)^(m/12)`` (monthly periods, annual rate), the upfront at 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

from finops_xl.commitments.valuation import PurchaseOption

HOURS_PER_MONTH = Decimal(730)
AWS_MARKETPLACE_FEE = Decimal("0.12")
AZURE_REFUND_LIMIT = Decimal(50_000)
DEDUCTIONS = ("immediate", "amortized")


@dataclasses.dataclass(frozen=True)
class MonthFlow:
    month: int
    utilization: Decimal
    price: Decimal
    avoided: Decimal
    fee: Decimal
    upfront: Decimal  # paid at month 0 only
    pre_tax: Decimal
    after_tax: Decimal | None = None


def path(months: int, start: Decimal = Decimal(1), growth: Decimal = Decimal(0)) -> tuple[Decimal, ...]:
    """Monthly utilization ``start × (1 + growth)^((m − 1)/12)`` for m = 1 … months, clipped to [0, 1]."""
    if growth <= -1:
        raise ValueError(f"growth must be above −1 (−0.2 for usage falling 20% a year), not {growth}")
    return tuple(min(Decimal(1), max(Decimal(0), Decimal(start) * (1 + Decimal(growth)) ** (Decimal(m - 1) / 12)))
                 for m in range(1, months + 1))


def price_path(months: int, price_drop: Decimal = Decimal(0)) -> tuple[Decimal, ...]:
    """The on-demand price as a share of today's, ``(1 − price_drop)^((m − 1)/12)`` for m = 1 … months."""
    if not 0 <= price_drop < 1:
        raise ValueError(f"price_drop must be a fraction in [0, 1) (0.05 for 5% a year), not {price_drop}")
    return tuple((1 - Decimal(price_drop)) ** (Decimal(m - 1) / 12) for m in range(1, months + 1))


def monthly_flows(option: PurchaseOption, on_demand_hourly: Decimal, utilization: Sequence[Decimal],
                  price: Sequence[Decimal] | None = None) -> tuple[MonthFlow, ...]:
    """Month 0 (the upfront) and months 1 … term along the paths (module notes)."""
    months = option.term_years * 12
    if len(utilization) != months:
        raise ValueError(f"the utilization path has {len(utilization)} months; the term has {months} months")
    price = price_path(months) if price is None else price
    od = Decimal(on_demand_hourly)
    fee = HOURS_PER_MONTH * Decimal(option.recurring_hourly)
    out = [MonthFlow(0, Decimal(0), Decimal(1), Decimal(0), Decimal(0), Decimal(option.upfront),
                     -Decimal(option.upfront))]
    for m, (u, p) in enumerate(zip(utilization, price), start=1):
        avoided = HOURS_PER_MONTH * od * Decimal(u) * Decimal(p)
        out.append(MonthFlow(m, Decimal(u), Decimal(p), avoided, fee, Decimal(0), avoided - fee))
    return tuple(out)


def after_tax(flows: Sequence[MonthFlow], tax_rate: Decimal, deduction: str = "amortized") -> tuple[MonthFlow, ...]:
    """The flows with ``after_tax`` filled in (module notes)."""
    if deduction not in DEDUCTIONS:
        raise ValueError(f"deduction must be 'immediate' or 'amortized', not {deduction!r}")
    t = Decimal(tax_rate)
    if not 0 <= t < 1:
        raise ValueError(f"tax_rate must be a fraction in [0, 1) (0.25 for 25%), not {tax_rate}")
    upfront = flows[0].upfront
    months = len(flows) - 1
    out = []
    for f in flows:
        if f.month == 0:
            cash = -upfront + (t * upfront if deduction == "immediate" else 0)
        else:
            cash = f.pre_tax * (1 - t) + (t * upfront / months if deduction == "amortized" else 0)
        out.append(dataclasses.replace(f, after_tax=cash))
    return tuple(out)


def npv(amounts: Sequence[Decimal], rate: Decimal) -> Decimal:
    """``Σ amounts[m] ÷ (1 + rate)^(m/12)``, ``amounts[0]`` at month 0."""
    v = 1 + Decimal(rate)
    return sum((Decimal(a) / v ** (Decimal(m) / 12) for m, a in enumerate(amounts)), Decimal(0))


def residual_value(provider: str, commitment_type: str, option: PurchaseOption, exit_month: int, *,
                   exchange: bool = False) -> Decimal:
    """What exiting after ``exit_month`` months recovers (module notes)."""
    months = option.term_years * 12
    if not 0 <= exit_month <= months:
        raise ValueError(f"exit_month must be within the term (0 … {months}), not {exit_month}")
    left = months - exit_month
    remaining = (Decimal(option.upfront) * left / months) + HOURS_PER_MONTH * Decimal(option.recurring_hourly) * left
    if provider == "AWS" and commitment_type == "Reserved Instance":
        return remaining * (1 - AWS_MARKETPLACE_FEE)
    if provider == "Microsoft" and commitment_type == "Reservation":
        return remaining if exchange else min(remaining, AZURE_REFUND_LIMIT)
    return Decimal(0)


@dataclasses.dataclass(frozen=True)
class CashRow:
    month: int
    upfront: Decimal
    recurring: Decimal
    total: Decimal


def cash_schedule(option: PurchaseOption) -> tuple[CashRow, ...]:
    """What is paid when: the upfront at month 0, the recurring fee every month (positive amounts)."""
    fee = HOURS_PER_MONTH * Decimal(option.recurring_hourly)
    rows = [CashRow(0, Decimal(option.upfront), Decimal(0), Decimal(option.upfront))]
    rows += [CashRow(m, Decimal(0), fee, fee) for m in range(1, option.term_years * 12 + 1)]
    return tuple(rows)


def rate_guidance(wacc: Decimal | None = None, hurdle: Decimal | None = None) -> tuple[tuple[str, Decimal], ...]:
    """The rates to show, each with its meaning: 0 (no time value), the WACC, the hurdle rate (module notes).
    Without a WACC, 8% is shown as a typical one (state your own)."""
    rows = [("no time value", Decimal(0)),
            ("WACC (the cost of the company's capital)" if wacc is not None else "typical WACC (8%): give yours",
             Decimal("0.08") if wacc is None else Decimal(wacc))]
    if hurdle is not None:
        rows.append(("hurdle rate (finance's minimum return for projects)", Decimal(hurdle)))
    return tuple(rows)


def sensitivity(option: PurchaseOption, on_demand_hourly: Decimal, utilization: Decimal,
                growths: Sequence[Decimal], rates: Sequence[Decimal], price_drop: Decimal = Decimal(0),
                tax_rate: Decimal | None = None, deduction: str = "amortized") -> tuple[tuple[Decimal, ...], ...]:
    """NPV for each utilization growth (rows) × rate (columns); after tax when ``tax_rate`` is given."""
    months = option.term_years * 12
    table = []
    for g in growths:
        flows = monthly_flows(option, on_demand_hourly, path(months, utilization, g), price_path(months, price_drop))
        if tax_rate is not None:
            amounts = [f.after_tax for f in after_tax(flows, tax_rate, deduction)]
        else:
            amounts = [f.pre_tax for f in flows]
        table.append(tuple(npv(amounts, r) for r in rates))
    return tuple(table)
