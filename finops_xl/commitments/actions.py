"""The portfolio action list: what to do with each expiring commitment, and what to modify, with the money.

Steps, one function each:

1. ``usage_stats(con, as_of, days)`` — per commitment over the ``days`` before ``as_of``: Σ EffectiveCost of
   its Used and Unused rows, Σ ListCost of its Used rows (the on-demand cost it replaced), its families
   (``SkuPriceDetails.Series`` @ ``RegionId`` of the Used rows), and the uncovered on-demand ListCost of
   each family (for size-flexibility and exchange candidates). SQL, set-based.
2. ``actions(inventory, stats, as_of)`` — the list (pure: hand-built portfolios test it).
3. ``actions_from_store(con)`` chains :func:`~finops_xl.commitments.portfolio.inventory`, step 1 and step 2.

Money (per month of 730 hours, scaled from the lookback)
    ``A`` = amortized cost (used + unused EffectiveCost), ``u`` = utilization = used ÷ A, ``L`` = ListCost
    of the usage it covered. ``monthly_savings`` is what the action saves compared with paying on demand
    for that usage; ``waste_avoided`` what it stops paying for nothing.

Expiring within 90 or 180 days (``ActionOptions.windows``)
    ``renew`` at the same size when ``u ≥ renew_at`` (0.90): savings ``L − A``, no waste avoided.
    ``resize`` to ``u`` × the size when ``resize_at ≤ u < renew_at`` (0.60): the same usage for ``u × A``,
    savings ``L − u × A``, waste avoided ``(1 − u) × A``.
    ``let lapse`` when ``u < resize_at`` or when renewing would save nothing (``L ≤ u × A``): savings 0,
    waste avoided ``(1 − u) × A`` (the used part returns to on demand at ``L``; the purchase
    recommendation then prices it afresh). ``review`` when the lookback has no rows of it.

Modification candidates (active, not expiring in the windows, ``u < renew_at``)
    ``size flexibility`` — an AWS Reserved Instance underused while the same family and region has
    uncovered on-demand usage: a regional (size-flexible) scope would apply it to that usage; money:
    the waste it could absorb, ``min(unused, uncovered ListCost)`` per month.
    ``exchange`` — an AWS Reserved Instance (if it is convertible) or an Azure reservation: exchange the
    unused share ``(1 − u) × A × remaining months`` into a scope with uncovered usage.
    ``refund`` — an Azure reservation: the unused share of the remaining term can be returned, capped at
    :data:`AZURE_REFUND_LIMIT` (USD 50,000 of cancelled commitment in a rolling 12 months, Microsoft Learn,
    "Self-service exchanges and refunds for Azure Reservations").
    Savings plans and Google committed-use discounts cannot be cancelled or exchanged: an underused one
    gets ``hold`` with that reason (the purchase recommendation works on the rest).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from finops_xl.commitments.portfolio import InventoryRow, inventory
from finops_xl.money import ZERO

HOURS_PER_MONTH = Decimal(730)
AZURE_REFUND_LIMIT = Decimal(50_000)


@dataclasses.dataclass(frozen=True)
class ActionOptions:
    windows: tuple[int, ...] = (90, 180)
    lookback_days: int = 30
    renew_at: Decimal = Decimal("0.90")
    resize_at: Decimal = Decimal("0.60")


@dataclasses.dataclass(frozen=True)
class Stats:
    """One commitment over the lookback (step 1); money per lookback, not per month."""

    used: Decimal
    unused: Decimal
    used_list: Decimal
    families: tuple[str, ...] = ()
    uncovered_list: Decimal = ZERO  # uncovered on-demand ListCost of its families


@dataclasses.dataclass(frozen=True)
class Action:
    """One line of the action list (money per month; see the module notes)."""

    action: str
    commitment_id: str
    provider: str
    type: str
    currency: str
    end: dt.date
    days_left: int
    window: int | None
    utilization: Decimal | None
    size_monthly: Decimal
    new_size_monthly: Decimal | None
    monthly_savings: Decimal
    waste_avoided: Decimal
    reason: str


def _pct(x: Decimal) -> str:
    return f"{x * 100:.0f}%"


def _per_month(amount: Decimal, lookback_days: int) -> Decimal:
    return amount * HOURS_PER_MONTH / (lookback_days * 24)


def actions(commitments: Iterable[InventoryRow], stats: Mapping[str, Stats], as_of: dt.date, *,
            options: ActionOptions = ActionOptions()) -> list[Action]:
    """Step 2 (module notes): expiry actions first (soonest first), then modification candidates."""
    expiring, modify = [], []
    horizon = options.windows[-1]
    for c in commitments:
        days_left = (c.end - as_of).days
        if days_left < 1:
            continue
        s = stats.get(c.id)
        base = dict(commitment_id=c.id, provider=c.provider, type=c.type, currency=c.currency, end=c.end,
                    days_left=days_left)
        if s is None or s.used + s.unused == 0:
            if days_left <= horizon:
                window = next(w for w in options.windows if days_left <= w)
                expiring.append(Action("review", **base, window=window, utilization=None, size_monthly=ZERO,
                                       new_size_monthly=None, monthly_savings=ZERO, waste_avoided=ZERO,
                                       reason=f"no usage rows of it in the {options.lookback_days} days "
                                              f"before {as_of}: check it before it ends"))
            continue
        a = _per_month(s.used + s.unused, options.lookback_days)
        lst = _per_month(s.used_list, options.lookback_days)
        u = s.used / (s.used + s.unused)
        if days_left <= horizon:
            window = next(w for w in options.windows if days_left <= w)
            look = f"utilization {_pct(u)} over the {options.lookback_days} days before {as_of}"
            if u >= options.renew_at and lst > a:
                act = Action("renew", **base, window=window, utilization=u, size_monthly=a, new_size_monthly=a,
                             monthly_savings=lst - a, waste_avoided=ZERO,
                             reason=f"{look}: renew at the same size; it covers usage costing {lst:.2f} "
                                    f"on demand for {a:.2f} a month")
            elif u >= options.resize_at and lst > u * a:
                act = Action("resize", **base, window=window, utilization=u, size_monthly=a,
                             new_size_monthly=u * a, monthly_savings=lst - u * a, waste_avoided=(1 - u) * a,
                             reason=f"{look}: renew at {_pct(u)} of the size ({u * a:.2f} a month); the "
                                    f"same usage stays covered and {(1 - u) * a:.2f} a month of waste ends")
            else:
                why = (f"below {_pct(options.resize_at)}" if u < options.resize_at
                       else "renewing would save nothing against on demand")
                act = Action("let lapse", **base, window=window, utilization=u, size_monthly=a,
                             new_size_monthly=ZERO, monthly_savings=ZERO, waste_avoided=(1 - u) * a,
                             reason=f"{look}, {why}: let it end; {(1 - u) * a:.2f} a month of waste stops "
                                    f"and the used part ({lst:.2f} on demand) goes to the purchase "
                                    "recommendation")
            expiring.append(act)
            continue
        if u >= options.renew_at:
            continue
        unused_m = (1 - u) * a
        months_left = Decimal(c.remaining_months if c.as_of == as_of else max(0, days_left // 30))
        mod = dict(**base, window=None, utilization=u, size_monthly=a, new_size_monthly=None, monthly_savings=ZERO)
        uncovered_m = _per_month(s.uncovered_list, options.lookback_days)
        if c.provider == "AWS" and c.type == "Reserved Instance":
            if uncovered_m > 0:
                modify.append(Action("size flexibility", **mod, waste_avoided=min(unused_m, uncovered_m),
                                     reason=f"utilization {_pct(u)} while {', '.join(s.families)} has "
                                            f"{uncovered_m:.2f} a month of uncovered on-demand usage: a "
                                            "regional (size-flexible) scope applies it there"))
            modify.append(Action("exchange", **mod, waste_avoided=unused_m,
                                 reason=f"utilization {_pct(u)}: if it is a convertible RI, exchange the unused "
                                        f"{_pct(1 - u)} ({unused_m * months_left:.2f} over the {months_left} "
                                        "months left) for a family with uncovered usage"))
        elif c.provider == "Microsoft" and c.type == "Reservation":
            value = unused_m * months_left
            modify.append(Action("exchange", **mod, waste_avoided=unused_m,
                                 reason=f"utilization {_pct(u)}: exchange the unused share ({value:.2f} of the "
                                        "remaining term) for a reservation of equal or greater value"))
            modify.append(Action("refund", **mod, waste_avoided=unused_m,
                                 reason=f"or return it: {min(value, AZURE_REFUND_LIMIT):.2f} refundable "
                                        f"(cancelled commitment is capped at {AZURE_REFUND_LIMIT:,.0f} USD "
                                        "in a rolling 12 months)"))
        else:
            modify.append(Action("hold", **mod, waste_avoided=ZERO,
                                 reason=f"utilization {_pct(u)}: a {c.type} cannot be cancelled or exchanged; "
                                        "keep it and buy nothing new for the usage it could still cover"))
    expiring.sort(key=lambda r: (r.end, r.commitment_id))
    modify.sort(key=lambda r: (-r.waste_avoided, r.commitment_id, r.action))
    return expiring + modify


_STATS_SQL = """
WITH w AS (
    SELECT * FROM charges
    WHERE ChargeCategory = 'Usage' AND ChargePeriodStart >= $lo AND ChargePeriodStart < $hi
),
own AS (
    SELECT CommitmentDiscountId AS id,
           coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), 0) AS used,
           coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Unused'), 0) AS unused,
           coalesce(sum(coalesce(ListCost, ContractedCost)) FILTER (WHERE CommitmentDiscountStatus = 'Used'), 0)
               AS used_list
    FROM w WHERE CommitmentDiscountId IS NOT NULL AND CommitmentDiscountStatus IN ('Used', 'Unused')
    GROUP BY 1
),
fam AS (
    SELECT DISTINCT CommitmentDiscountId AS id, ProviderName AS provider,
           json_extract_string(SkuPriceDetails, '$.Series') AS series, RegionId AS region
    FROM w WHERE CommitmentDiscountStatus = 'Used' AND json_extract_string(SkuPriceDetails, '$.Series') IS NOT NULL
),
open AS (
    SELECT ProviderName AS provider, json_extract_string(SkuPriceDetails, '$.Series') AS series,
           RegionId AS region, sum(coalesce(ListCost, ContractedCost)) AS uncovered
    FROM w WHERE PricingCategory = 'Standard' AND ServiceCategory = 'Compute' GROUP BY ALL
)
SELECT o.id, o.used, o.unused, o.used_list,
       list(DISTINCT f.series || '@' || f.region ORDER BY f.series || '@' || f.region)
           FILTER (WHERE f.series IS NOT NULL),
       coalesce(sum(p.uncovered), 0)
FROM own o LEFT JOIN fam f ON f.id = o.id
LEFT JOIN open p ON p.provider = f.provider AND p.series = f.series AND p.region = f.region
GROUP BY o.id, o.used, o.unused, o.used_list
"""


def usage_stats(con, as_of: dt.date, days: int = 30) -> dict[str, Stats]:
    """Step 1 (module notes): rows with ChargePeriodStart in ``[as_of − days, as_of)``."""
    lo = dt.datetime.combine(as_of - dt.timedelta(days=days), dt.time())
    hi = dt.datetime.combine(as_of, dt.time())
    rows = con.execute(_STATS_SQL, {"lo": lo, "hi": hi}).fetchall()
    return {cid: Stats(Decimal(u), Decimal(x), Decimal(lst), tuple(fams or ()), Decimal(unc))
            for cid, u, x, lst, fams, unc in rows}


def savings_now(stats: Mapping[str, Stats], lookback_days: int = 30) -> dict[str, Decimal]:
    """Each commitment's monthly savings at today's size: ``L − A`` per month (module notes)."""
    return {cid: _per_month(s.used_list - s.used - s.unused, lookback_days) for cid, s in stats.items()}


def actions_from_store(con, as_of: dt.date | None = None, *,
                       options: ActionOptions = ActionOptions()) -> tuple[dt.date, list[Action]]:
    """(as_of, the action list) for the store's portfolio, as of the end of its data by default."""
    inv = inventory(con, as_of)
    if as_of is None:
        as_of = inv[0].as_of if inv else con.execute(
            "SELECT CAST(max(ChargePeriodEnd) AS DATE) FROM charges").fetchall()[0][0]
    return as_of, actions(inv, usage_stats(con, as_of, options.lookback_days), as_of, options=options)
