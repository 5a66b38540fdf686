"""The month's change in cost, bridged by driver: an exact partition of current − previous.

Each charge's EffectiveCost is split, as ``close.variance.explain_change`` does, into a usage part
and a commitment part (on rows a commitment covers or leaves unused, usage = ContractedCost and the
rest is the commitment's doing; purchases of commitments are all commitment part). Then:

- **New resources and services**: the usage change of resources billed this month and not the
  month before;
- **Retired resources**: the usage change of resources billed last month and not this one
  (switched off, replaced, re-architected);
- **Price and rate changes**: on resources billed in both months, per resource × SKU × pricing unit
  with a quantity in both, (this month's unit cost − last month's) × this month's quantity;
- **Usage growth**: the rest of the usage change of running resources and of rows without a
  resource id (more or less of the same things at the same rates);
- **Commitments**: the change of the commitment part (discounts won or lost, unused capacity,
  purchases).

The five add up to the change exactly: the price part is rounded to 1e-12 and usage growth is what
is left of the running resources' change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from finops_xl.months import add_months
from finops_xl.store.sources import sql_literal

ZERO = Decimal(0)

PARTS = (("usage", "Usage growth"), ("price", "Price and rate changes"),
         ("new", "New resources and services"), ("gone", "Retired resources"),
         ("commitment", "Commitments"))


@dataclasses.dataclass(frozen=True)
class Bridge:
    month: dt.date
    previous_month: dt.date
    currency: str
    previous: Decimal
    current: Decimal
    parts: tuple[tuple[str, str, Decimal], ...]  # (key, label, amount)

    @property
    def change(self) -> Decimal:
        return self.current - self.previous

    def amount(self, key: str) -> Decimal:
        return next(a for k, _, a in self.parts if k == key)


def _within(month: dt.date) -> str:
    return (f"(ChargePeriodStart >= TIMESTAMP '{month}' "
            f"AND ChargePeriodStart < TIMESTAMP '{add_months(month, 1)}')")


def bridge(con, month: dt.date, currency: str, owner_sql: str | None = None) -> Bridge:
    """The bridge of ``month`` against the month before, in ``currency``; ``owner_sql`` an optional
    extra condition on ``charges`` rows (to bridge one owner's direct cost)."""
    prev = add_months(month, -1)
    extra = f" AND ({owner_sql})" if owner_sql else ""
    (row,) = con.execute(f"""
        WITH r AS (
            SELECT {_within(month)} AS is_cur, nullif(ResourceId, '') AS resource,
                   coalesce(SkuId, '') || '|' || coalesce(PricingUnit, '') AS sku,
                   coalesce(PricingQuantity, 0) AS qty,
                   coalesce(EffectiveCost, 0) AS amount,
                   CASE WHEN CommitmentDiscountStatus IS NOT NULL
                            THEN coalesce(EffectiveCost, 0) - coalesce(ContractedCost, EffectiveCost, 0)
                        WHEN ChargeCategory = 'Purchase' AND nullif(CommitmentDiscountId, '') IS NOT NULL
                            THEN coalesce(EffectiveCost, 0)
                        ELSE 0 END AS commitment
            FROM charges
            WHERE BillingCurrency = {sql_literal(currency)} AND ({_within(month)} OR {_within(prev)}){extra}
        ),
        res AS (
            SELECT resource, bool_or(NOT is_cur) AS in_prev, bool_or(is_cur) AS in_cur
            FROM r WHERE resource IS NOT NULL GROUP BY resource
        ),
        tagged AS (
            SELECT r.*, CASE WHEN r.resource IS NULL THEN 'none' WHEN res.in_prev AND res.in_cur THEN 'both'
                             WHEN res.in_cur THEN 'new' ELSE 'gone' END AS status
            FROM r LEFT JOIN res USING (resource)
        ),
        sku AS (
            SELECT sum(amount - commitment) FILTER (WHERE is_cur) AS u1,
                   sum(amount - commitment) FILTER (WHERE NOT is_cur) AS u0,
                   sum(qty) FILTER (WHERE is_cur) AS q1, sum(qty) FILTER (WHERE NOT is_cur) AS q0
            FROM tagged WHERE status = 'both' GROUP BY resource, sku
        )
        SELECT sum(amount) FILTER (WHERE NOT is_cur), sum(amount) FILTER (WHERE is_cur),
               sum(CASE WHEN is_cur THEN commitment ELSE -commitment END),
               sum(CASE WHEN is_cur THEN amount - commitment ELSE commitment - amount END)
                   FILTER (WHERE status = 'new'),
               sum(CASE WHEN is_cur THEN amount - commitment ELSE commitment - amount END)
                   FILTER (WHERE status = 'gone'),
               sum(CASE WHEN is_cur THEN amount - commitment ELSE commitment - amount END)
                   FILTER (WHERE status IN ('both', 'none')),
               (SELECT sum(CAST((CAST(u1 AS DOUBLE) / q1 - CAST(u0 AS DOUBLE) / q0) * q1 AS DECIMAL(38, 12)))
                FROM sku WHERE q1 > 0 AND q0 > 0)
        FROM tagged
    """).fetchall()
    d = [ZERO if x is None else Decimal(x) for x in row]
    previous, current, commitment, new, gone, running, price = d
    parts = {"usage": running - price, "price": price, "new": new, "gone": gone, "commitment": commitment}
    return Bridge(month, prev, currency, previous, current,
                  tuple((k, label, parts[k]) for k, label in PARTS))


def sentence(b: Bridge, money) -> str:
    """The bridge in one sentence: the change, and the two largest drivers in words."""
    if not b.previous and not b.current:
        return f"No cost in {b.previous_month:%B} or {b.month:%B %Y}."
    direction = "rose" if b.change > 0 else "fell" if b.change < 0 else "held"
    pct = f" ({b.change / b.previous:+.1%})" if b.previous else ""
    ranked = sorted(b.parts, key=lambda p: -abs(p[2]))[:2]
    why = " and ".join(f"{label.lower()} ({money(a, signed=True)})" for _, label, a in ranked if a)
    text = (f"Cost {direction} {money(abs(b.change))}{pct} from {b.previous_month:%B} to "
            f"{b.month:%B %Y}, to {money(b.current)}")
    return text + (f", mostly {why}." if why else ".")
