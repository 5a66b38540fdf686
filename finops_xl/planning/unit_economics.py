"""Unit economics: cost per business unit (user, transaction, API call), infrastructure as a share of
revenue and of gross margin, and flags when a KPI keeps getting worse.

Inputs are small tables the business keeps (volumes, revenue, COGS by month), joined to cost by
month and owner; cost comes from the store's allocation (``owner_monthly_cost``) or any mapping.
Amounts are exact Decimal; ratios are exact Decimal fractions (0.125 = 12.5%), None when the
denominator is 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

ZERO = Decimal(0)


@dataclasses.dataclass(frozen=True)
class UnitCostRow:
    """Cost per unit of one metric for one owner in one month (None when the volume is 0)."""

    month: dt.date
    owner: str
    metric: str
    cost: Decimal
    volume: Decimal
    cost_per_unit: Decimal | None


@dataclasses.dataclass(frozen=True)
class InfraShare:
    """Cloud cost against the business in one month.

    Attributes:
      cost, revenue, cogs: the month's amounts.  gross_margin: revenue − COGS.
      of_revenue: cost ÷ revenue.  of_gross_margin: cost ÷ gross margin (None when ≤ 0).
    """

    month: dt.date
    cost: Decimal
    revenue: Decimal
    cogs: Decimal
    gross_margin: Decimal
    of_revenue: Decimal | None
    of_gross_margin: Decimal | None


def unit_costs(costs: Mapping[tuple[dt.date, str], Decimal],
               volumes: Mapping[tuple[dt.date, str, str], Decimal]) -> list[UnitCostRow]:
    """Cost per unit for every (month, owner, metric) volume: the owner's cost that month ÷ volume.

    >>> from datetime import date
    >>> r = unit_costs({(date(2025, 1, 1), "web"): Decimal("1500")},
    ...                {(date(2025, 1, 1), "web", "users"): Decimal("12000")})
    >>> r[0].cost_per_unit
    Decimal('0.125')
    """
    out = []
    for (month, owner, metric), volume in sorted(volumes.items()):
        cost = costs.get((month, owner), ZERO)
        out.append(UnitCostRow(month, owner, metric, cost, volume,
                               cost / volume if volume else None))
    return out


def infra_share(costs: Mapping[dt.date, Decimal], revenue: Mapping[dt.date, Decimal],
                cogs: Mapping[dt.date, Decimal] | None = None) -> list[InfraShare]:
    """Cloud cost as a share of revenue and of gross margin (revenue − COGS), month by month, for
    the months that have revenue."""
    cogs = cogs or {}
    out = []
    for month in sorted(revenue):
        cost, rev, c = costs.get(month, ZERO), revenue[month], cogs.get(month, ZERO)
        margin = rev - c
        out.append(InfraShare(month, cost, rev, c, margin, cost / rev if rev else None,
                              cost / margin if margin > 0 else None))
    return out


def worsening(series: Sequence[tuple[dt.date, Decimal | None]], months: int = 3,
              worse: str = "up") -> list[dt.date]:
    """Months at which a KPI has worsened ``months`` times in a row (``worse``: "up" when a rise is
    bad, like cost per user; "down" when a fall is). A missing value breaks the run.

    >>> from datetime import date
    >>> s = [(date(2025, m, 1), Decimal(v)) for m, v in [(1, 10), (2, 11), (3, 12), (4, 13), (5, 12)]]
    >>> worsening(s, 3)
    [datetime.date(2025, 4, 1)]
    """
    if worse not in ("up", "down"):
        raise ValueError('worse must be "up" or "down"')
    if months < 1:
        raise ValueError("months must be at least 1")
    flags, run = [], 0
    ordered = sorted(series)
    for (_, before), (month, value) in zip(ordered, ordered[1:]):
        if before is None or value is None:
            run = 0
            continue
        got_worse = value > before if worse == "up" else value < before
        run = run + 1 if got_worse else 0
        if run >= months:
            flags.append(month)
    return flags


def owner_monthly_cost(con, metric: str = "EffectiveCost") -> dict[tuple[dt.date, str], Decimal]:
    """(month, owner) → allocated cost, from the store's current allocation (a small result)."""
    if metric not in ("EffectiveCost", "BilledCost"):
        raise ValueError("metric must be EffectiveCost or BilledCost")
    present = con.execute("SELECT count(*) FROM information_schema.tables "
                          "WHERE table_name = 'allocated_charges'").fetchall()[0][0]
    if not present:
        raise ValueError("the store has no allocation: run finops-xl allocate --rules FILE first")
    rows = con.execute(f"SELECT month, owner, sum({metric}) FROM allocated_charges GROUP BY ALL").fetchall()
    return {(m, o): Decimal(v) for m, o, v in rows}
