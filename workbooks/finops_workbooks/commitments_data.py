"""The numbers behind the Commitment purchase workbook, from ``finops_xl.commitments``.

Nothing here values a purchase: cash flows, NPV, IRR and break-even come from
:mod:`finops_xl.commitments.valuation`, the coverage level from :mod:`~finops_xl.commitments.optimizer`
and the portfolio from :mod:`~finops_xl.commitments.portfolio`. The module gathers them for the
layout (``commitments``) and prices the default purchase options.

**Default options** (:func:`typical_options`). When no options are given, the six reserved-instance
payment choices are priced from the on-demand rate with :data:`TYPICAL_PRICING` — an assumption, stated
on the Inputs sheet, that the user overwrites with real quotes (the Options sheet's fee cells are
inputs). The one-year ratios are Cloudability's m4.large quotes at $0.126/h on demand (no upfront
$0.080/h; partial $324 + $0.037/h; all upfront $648.24 ≈ $0.074/h); the three-year ratios are typical
AWS standard-RI levels (about 55–62% off), illustrative only.

**From the store** (:func:`options_from_store`). The on-demand rate is the coverage level the
optimizer finds for one provider's hourly *uncovered* spend in the scope at the one-year all-upfront discount (the
on-demand-equivalent $/h a commitment should cover) and the utilization is that recommendation's
expected utilization; the options are then priced against that rate as above.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from finops_xl.commitments import valuation as v

D = Decimal
CENT = D("0.01")
RATE_STEP = D("0.000001")

#: (name, term years, payment, effective rate ÷ on-demand, share of the cost paid upfront).
TYPICAL_PRICING: tuple[tuple[str, int, str, Decimal, Decimal], ...] = (
    ("1y no upfront", 1, v.NO_UPFRONT, D("0.635"), D(0)),
    ("1y partial upfront", 1, v.PARTIAL_UPFRONT, D("0.587"), D("0.5")),
    ("1y all upfront", 1, v.ALL_UPFRONT, D("0.587"), D(1)),
    ("3y no upfront", 3, v.NO_UPFRONT, D("0.45"), D(0)),
    ("3y partial upfront", 3, v.PARTIAL_UPFRONT, D("0.40"), D("0.5")),
    ("3y all upfront", 3, v.ALL_UPFRONT, D("0.38"), D(1)),
)
#: Utilizations (rows) and annual discount rates (columns) of the Sensitivity sheet.
SENSITIVITY_UTILIZATIONS = tuple(D(p) / 100 for p in (50, 60, 70, 80, 90, 100))
SENSITIVITY_RATES = tuple(D(p) / 1000 for p in (0, 25, 50, 75, 100, 125, 150))


def typical_options(on_demand_hourly: Decimal, start: dt.date) -> tuple[v.PurchaseOption, ...]:
    """The six payment choices priced from ``on_demand_hourly`` with :data:`TYPICAL_PRICING`:
    upfront = share × ratio × on-demand × term hours (to the cent), recurring = (1 − share) × ratio ×
    on-demand (to 1e-6 $/h)."""
    od = D(on_demand_hourly)
    if od <= 0:
        raise ValueError(f"the on-demand rate must be positive, got {od}")
    out = []
    for name, years, payment, ratio, share in TYPICAL_PRICING:
        end = v.add_months(start, 12 * years)
        hours = D((end - start).days * 24)
        upfront = (share * ratio * od * hours).quantize(CENT, ROUND_HALF_EVEN)
        recurring = ((1 - share) * ratio * od).quantize(RATE_STEP, ROUND_HALF_EVEN)
        out.append(v.PurchaseOption(name, years, payment, upfront, recurring))
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class StoreBasis:
    """Where the store-based inputs came from.

    Attributes:
      scope: the optimizer scope (``compute`` or ``family:<series>@<region>``).
      window_start, window_end: the hourly spend window (UTC).  hours: its length.
      discount: the discount the coverage level was optimized at.
      coverage_level: on-demand-equivalent $/h to cover (the workbook's on-demand rate).
      utilization: the recommendation's expected utilization (the workbook's utilization).
      savings: the recommendation's savings over the window.
    """

    scope: str
    window_start: dt.datetime
    window_end: dt.datetime
    hours: int
    discount: Decimal
    coverage_level: Decimal
    utilization: Decimal
    savings: Decimal


def options_from_store(con, start: dt.date, *, scope: str = "compute", lookback_days: int = 30,
                       provider: str | None = None
                       ) -> tuple[Decimal, Decimal, tuple[v.PurchaseOption, ...], StoreBasis]:
    """(on-demand rate, utilization, options, basis) for ``scope`` of one provider from the store.

    The profile is the provider's **uncovered** compute usage (:func:`finops_xl.commitments.recommend.profiles`:
    on-demand rows only, never another provider's, never what a commitment already covers) over the
    ``lookback_days`` ending where its data ends; ``provider`` defaults to the one with the most uncovered
    usage. ``scope`` is ``compute`` (all of it) or ``family:<series>@<region>``."""
    from finops_xl.commitments.optimizer import optimal_spend_commitment
    from finops_xl.commitments.pricing import PRODUCTS
    from finops_xl.commitments.recommend import profiles

    names = [provider] if provider else sorted({p.provider for p in PRODUCTS})
    windows = [w for w in (profiles(con, name, lookback_days) for name in names) if w is not None]
    if not windows:
        raise ValueError(f"no on-demand compute usage of {provider or 'AWS, Microsoft or Google Cloud'} in the "
                         "store: nothing to recommend from")
    if scope != "compute" and provider is None:  # a family scope names its provider by having it
        windows = [w for w in windows if any(p.scope == scope for p in w.profiles)] or windows
    total = lambda w: sum((p.uncovered_total for p in w.profiles), D(0))  # noqa: E731
    window = max(windows, key=total)
    chosen = [p for p in window.profiles if scope == "compute" or p.scope == scope]
    if not chosen:
        raise ValueError(f"scope {scope!r}: {window.provider} has no such family and region in the store; scopes: "
                         + ", ".join(sorted({p.scope for p in window.profiles if p.series})))
    hours = [sum(x, D(0)) for x in zip(*(p.uncovered for p in chosen))]
    reference = next(p for p in TYPICAL_PRICING if p[1] == 1 and p[2] == v.ALL_UPFRONT)
    rec = optimal_spend_commitment(hours, 1 - reference[3])
    label = f"{window.provider} {scope}"
    if rec.coverage_level <= 0 or rec.utilization is None:
        raise ValueError(f"the optimizer recommends no commitment for {label} "
                         f"({window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M}): nothing to value")
    level = rec.coverage_level.quantize(RATE_STEP, ROUND_HALF_EVEN)
    utilization = rec.utilization.quantize(D("0.0001"), ROUND_HALF_EVEN)
    basis = StoreBasis(f"{label} (uncovered usage)", window.start, window.end, len(hours), rec.discount, level,
                       utilization, rec.savings)
    return level, utilization, typical_options(level, start), basis


@dataclasses.dataclass(frozen=True)
class Portfolio:
    """The store's commitments: inventory, one month's KPIs (by commitment and overall), expiries."""

    as_of: dt.date
    month: dt.date
    inventory: tuple
    kpis: tuple
    kpis_all: tuple
    expiring: tuple


def gather_portfolio(con, month: dt.date | None = None) -> Portfolio:
    """Inventory and expiries as of the end of the data; KPIs of ``month`` (default: the data's last)."""
    from finops_xl.commitments import portfolio as pf

    inv = pf.inventory(con)
    as_of = inv[0].as_of if inv else con.execute(
        "SELECT CAST(max(ChargePeriodEnd) AS DATE) FROM charges").fetchone()[0]
    if month is None:
        (last,) = con.execute("SELECT CAST(max(ChargePeriodStart) AS DATE) FROM charges").fetchone()
        month = (last or as_of).replace(day=1)
    return Portfolio(as_of, month.replace(day=1), inv,
                     tuple(pf.monthly_kpis(con, month, by="commitment")),
                     tuple(pf.monthly_kpis(con, month, by="all")),
                     tuple(pf.expiry_calendar_from_store(con, as_of)))


@dataclasses.dataclass(frozen=True)
class CommitmentData:
    """Everything the workbook shows.

    Attributes:
      options: the purchase options, in column order.
      on_demand_hourly, annual_rate, utilization, start: the shared inputs.
      valuations: ``valuation.value`` of each option at those inputs (the auditor's column).
      flows: ``valuation.cash_flows`` of each option.
      source: how the inputs were chosen (shown on the Inputs sheet).
      basis: the optimizer's numbers when the inputs came from the store.
      portfolio: the store's portfolio, when a store was given.
      recommendations, actions: the purchase lines and the action list, when a store was given.
    """

    options: tuple[v.PurchaseOption, ...]
    on_demand_hourly: Decimal
    annual_rate: Decimal
    utilization: Decimal
    start: dt.date
    valuations: tuple[v.Valuation, ...]
    flows: tuple[tuple[v.CashFlow, ...], ...]
    source: str
    basis: StoreBasis | None = None
    portfolio: Portfolio | None = None
    recommendations: tuple | None = None
    actions: tuple | None = None


def gather_commitments(options, *, on_demand_hourly, annual_rate, utilization, start: dt.date,
                       source: str = "typed in", basis: StoreBasis | None = None,
                       portfolio: Portfolio | None = None, recommendations=None,
                       actions=None) -> CommitmentData:
    """Value ``options`` with :mod:`finops_xl.commitments.valuation` for the workbook."""
    options = tuple(options)
    if not options:
        raise ValueError("give at least one purchase option")
    names = [o.name for o in options]
    if len(set(names)) != len(names):
        raise ValueError(f"option names must be unique: {names}")
    od, rate, u = D(str(on_demand_hourly)), D(str(annual_rate)), D(str(utilization))
    if od <= 0:
        raise ValueError(f"the on-demand rate must be positive, got {od}")
    return CommitmentData(
        options=options, on_demand_hourly=od, annual_rate=rate, utilization=u, start=start,
        valuations=tuple(v.value(o, od, start, rate, u) for o in options),
        flows=tuple(v.cash_flows(o, od, start, u) for o in options),
        source=source, basis=basis, portfolio=portfolio,
        recommendations=None if recommendations is None else tuple(recommendations),
        actions=None if actions is None else tuple(actions))
