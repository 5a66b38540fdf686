"""Totals straight from the store, for the CLI and for quick checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from finops_xl.store.store import CostStore


@dataclasses.dataclass(frozen=True)
class SummaryRow:
    """Cost of one provider in one billing period and currency (exact sums).

    Attributes:
      provider: ProviderName.  billing_period: the month (BillingPeriodStart's date).
      currency: BillingCurrency (amounts in different currencies are never added together).
      rows: charge rows.  billed_cost, effective_cost: exact sums of BilledCost, EffectiveCost.
    """

    provider: str
    billing_period: dt.date
    currency: str
    rows: int
    billed_cost: Decimal
    effective_cost: Decimal


def cost_by_provider_month(store: CostStore) -> list[SummaryRow]:
    """BilledCost and EffectiveCost by provider × billing period × currency, oldest first."""
    with store.reader() as con:
        rows = con.execute(
            """
            SELECT ProviderName, CAST(BillingPeriodStart AS DATE), BillingCurrency, count(*),
                   sum(BilledCost), sum(EffectiveCost)
            FROM charges GROUP BY ALL ORDER BY 2, 1, 3
            """
        ).fetchall()
    return [
        SummaryRow(p, d, c, int(n), Decimal(b or 0), Decimal(e or 0)) for p, d, c, n, b, e in rows
    ]
