"""Spend-commitment purchase recommendations from an hourly profile: the exact optimum, laddering, risk.

A spend commitment (savings plan, spend-based committed-use discount) with discount ``d`` from on-demand,
bought as a *coverage level* ``c`` (on-demand-equivalent $/h), costs ``(1 − d) × c`` every hour whether
used or not; spend above ``c`` in an hour is paid on demand. Over hours ``h`` with on-demand-equivalent
spend ``s_h``::

    cost(c) = Σ_h [(1 − d) × c + max(0, s_h − c)]

Steps, one function each:

1. ``hourly_eligible_spend(con, scope=...)`` — the hourly on-demand-equivalent eligible spend from the
   store (SQL, set-based; a small hourly vector comes back).
2. ``optimal_spend_commitment(hourly, d)`` — the exact cost-minimizing coverage level (a
   :class:`Recommendation`).
3. ``ladder(level, tranches, months_apart)`` — the level split into tranches bought months apart, so
   expiries are staggered (:class:`Tranche`).
4. ``risk(recommendation, hourly)`` — savings at the same commitment if usage falls (:class:`RiskCase`).

Conventions (stated once)
-------------------------
Money
    Decimal, never float; spend is positive (FOCUS signs). Nothing is rounded here: results are exact
    (Decimal arithmetic on the inputs' digits), ready to be rounded when presented.
Rates
    ``discount`` and usage ``drops`` are fractions (``Decimal("0.30")`` for 30%), not percents.
Break-even utilization
    ``1 − d`` (GLOSSARY): below it, the commitment costs more than paying on demand for what it covers.

Why the optimum is exact (and which one is returned)
----------------------------------------------------
``cost(c)`` is convex and piecewise linear in ``c``, with breakpoints only at the observed values ``s_h``.
Its right derivative at ``c`` is ``n × (1 − d) − #{h : s_h > c}`` (``n`` hours), which is non-decreasing
in ``c``. A convex piecewise-linear function on ``c ≥ 0`` attains its minimum at ``0`` or a breakpoint,
so the optimum is one of the finitely many candidates ``{0} ∪ {s_h}`` — no grid, no search tolerance.
The minimizers form an interval; its smallest point is the smallest candidate where the right derivative
is ``≥ 0``, i.e. the smallest observed value ``c`` with ``#{h : s_h ≤ c} ≥ n × d``: the ``k``-th smallest
value, ``k = ⌈n × d⌉`` (the lower ``d``-quantile: the level exceeded in at most a ``(1 − d)`` share of
hours; GLOSSARY "Optimal spend commitment"). ``n × d`` is computed exactly in Decimal, so the ceiling is
exact too. **Tie rule:** when several levels cost the same (``n × d`` an integer, so the derivative is 0
on a whole segment), the *smallest* optimal level is returned — the least money committed for the same
cost. If the lowest hours are 0 and enough of them, the optimum is 0 (buy nothing). Tests check the rule
against a brute-force evaluation of every candidate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from finops_xl.money import CENT, ZERO

ONE = Decimal(1)
_UNITS = 10**12  # the store's DECIMAL(38,12) scale: amounts travel as integers of 1e-12


# --------------------------------------------------------------------------------------------------
# 2. The exact optimum
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """A spend-commitment purchase, valued over the hourly profile it was computed from.

    Attributes:
        discount: the commitment's discount ``d`` from on-demand, a fraction in (0, 1).
        hours: number of hours in the profile (``n``).
        coverage_level: on-demand-equivalent spend covered per hour (``c``), $/h.
        hourly_commitment: what is bought and paid every hour, ``(1 − d) × c``, $/h.
        commitment_cost: ``n × (1 − d) × c`` — paid whether used or not.
        overflow_cost: ``Σ max(0, s_h − c)`` — spend above the level, paid on demand.
        total_cost: ``commitment_cost + overflow_cost``.
        on_demand_cost: ``Σ s_h`` — the cost with no commitment.
        savings: ``on_demand_cost − total_cost`` (≥ 0 at the optimum: ``c = 0`` is always a candidate).
        utilization: expected utilization ``Σ min(s_h, c) ÷ (c × n)``; None when nothing is bought.
        break_even_utilization: ``1 − d``: the utilization below which the commitment loses money.
    """

    discount: Decimal
    hours: int
    coverage_level: Decimal
    hourly_commitment: Decimal
    commitment_cost: Decimal
    overflow_cost: Decimal
    total_cost: Decimal
    on_demand_cost: Decimal
    savings: Decimal
    utilization: Decimal | None
    break_even_utilization: Decimal


def commitment_cost(hourly_on_demand: Sequence[Decimal], discount: Decimal, level: Decimal) -> Decimal:
    """Total cost over the hours of covering ``level`` $/h at ``discount``:
    ``Σ_h [(1 − d) × level + max(0, s_h − level)]`` (exact).

    >>> commitment_cost([Decimal(10), Decimal(4)], Decimal("0.25"), Decimal(6))
    Decimal('13.00')
    """
    d, level = _discount(discount), Decimal(level)
    overflow = sum((s - level for s in hourly_on_demand if s > level), ZERO)
    return len(hourly_on_demand) * (ONE - d) * level + overflow


def optimal_spend_commitment(hourly_on_demand: Sequence[Decimal], discount: Decimal) -> Recommendation:
    """The coverage level that minimizes commitment cost + on-demand overflow, exactly.

    Parameters:
        hourly_on_demand: on-demand-equivalent eligible spend per hour (Decimal, ≥ 0), every hour of the
            period including hours with no spend (as ``hourly_eligible_spend`` returns them).
        discount: the commitment's discount from on-demand, a fraction in (0, 1), measured against the
            same basis as the profile (list or contracted price).

    Returns:
        A :class:`Recommendation` at the smallest optimal level.

    Notes:
        The optimum is the ``k``-th smallest hourly value, ``k = ⌈n × d⌉`` (0 if that value is 0); see the
        module docstring for why this is exact and why the smallest optimal level is chosen. O(n log n).

    Raises:
        ValueError: an empty profile, a negative hour, or a discount outside (0, 1).
        TypeError: a float (or non-number) where a Decimal is expected.

    Examples:
        The reference week (60 h at $1,000/h, 60 h at $700/h, 48 h at $600/h; d = 30%) covers $700/h:

        >>> week = [Decimal(1000)] * 60 + [Decimal(700)] * 60 + [Decimal(600)] * 48
        >>> r = optimal_spend_commitment(week, Decimal("0.30"))
        >>> r.coverage_level, r.hourly_commitment, r.total_cost, r.on_demand_cost
        (Decimal('700'), Decimal('490.00'), Decimal('100320.00'), Decimal('130800'))
    """
    d = _discount(discount)
    profile = _profile(hourly_on_demand)
    ordered = sorted(profile)
    n = len(ordered)
    k = int((n * d).to_integral_value(rounding=ROUND_CEILING))  # 1 ≤ k ≤ n since 0 < d < 1
    return _valued(profile, d, ordered[k - 1])


def _valued(profile: Sequence[Decimal], d: Decimal, level: Decimal) -> Recommendation:
    n = len(profile)
    hourly = (ONE - d) * level
    committed = n * hourly
    overflow = sum((s - level for s in profile if s > level), ZERO)
    on_demand = sum(profile, ZERO)
    total = committed + overflow
    used = sum((min(s, level) for s in profile), ZERO)
    return Recommendation(
        discount=d, hours=n, coverage_level=level, hourly_commitment=hourly, commitment_cost=committed,
        overflow_cost=overflow, total_cost=total, on_demand_cost=on_demand, savings=on_demand - total,
        utilization=used / (level * n) if level > 0 else None, break_even_utilization=ONE - d,
    )


def _discount(discount: Decimal) -> Decimal:
    if isinstance(discount, float) or not isinstance(discount, (Decimal, int)):
        raise TypeError(f"discount must be a Decimal fraction in (0, 1), not {discount!r}")
    d = Decimal(discount)
    if not ZERO < d < ONE:
        raise ValueError(f"discount must be a fraction in (0, 1) (0.30 for 30%), not {d}")
    return d


def _profile(hourly_on_demand: Sequence[Decimal]) -> tuple[Decimal, ...]:
    if len(hourly_on_demand) == 0:
        raise ValueError("hourly_on_demand is empty: a recommendation needs at least one hour of spend")
    out = []
    for i, s in enumerate(hourly_on_demand):
        if isinstance(s, float) or not isinstance(s, (Decimal, int)):
            raise TypeError(f"hourly_on_demand[{i}] must be a Decimal, not {s!r}")
        if s < 0:
            raise ValueError(f"hourly_on_demand[{i}] is negative ({s}): spend profiles are ≥ 0")
        out.append(Decimal(s))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# 3. Laddering
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Tranche:
    """One purchase of a ladder.

    Attributes:
        number: 1 for the first purchase.
        month_offset: months after the first purchase that this one is bought (``(number − 1) ×
            months_apart``).
        coverage_level: its share of the target level, $/h (the tranches sum to the target exactly).
        purchase_month: first day of the purchase month, when the ladder was given a ``start``.
        expiry_month: first day of the month its term ends (``purchase_month + term_months``).
    """

    number: int
    month_offset: int
    coverage_level: Decimal
    purchase_month: dt.date | None = None
    expiry_month: dt.date | None = None


def ladder(target_level: Decimal, tranches: int, months_apart: int, *, start: dt.date | None = None,
           term_months: int = 12, unit: Decimal = CENT) -> tuple[Tranche, ...]:
    """Split ``target_level`` into ``tranches`` purchases ``months_apart`` months apart (staggered expiries).

    Parameters:
        target_level: the coverage level to reach, $/h (e.g. ``Recommendation.coverage_level``).
        tranches: number of purchases (≥ 1).
        months_apart: months between consecutive purchases (≥ 0; 0 buys everything at once).
        start: the first purchase's month (any day of it), to date the purchases and expiries.
        term_months: each commitment's term (12 for one year, 36 for three).
        unit: the smallest amount a tranche is expressed in (a cent per hour by default).

    Returns:
        The tranches in purchase order. Shares are equal, by largest remainder: each is the target ÷
        ``tranches`` rounded down to ``unit``, and the leftover units go one each to the earliest tranches,
        so Σ tranche levels = target exactly (when the target is a multiple of ``unit``; otherwise the
        last tranche also carries the sub-unit rest).

    >>> [t.coverage_level for t in ladder(Decimal("100.00"), 3, 4)]
    [Decimal('33.34'), Decimal('33.33'), Decimal('33.33')]
    """
    target = Decimal(target_level)
    if target < 0:
        raise ValueError(f"target_level must be ≥ 0, not {target}")
    if tranches < 1:
        raise ValueError(f"tranches must be ≥ 1, not {tranches}")
    if months_apart < 0 or term_months < 1:
        raise ValueError("months_apart must be ≥ 0 and term_months ≥ 1")
    units, rest = divmod(target, unit)
    units = int(units)
    base, extra = divmod(units, tranches)
    levels = [(base + (1 if i < extra else 0)) * unit for i in range(tranches)]
    levels[-1] += rest
    first = start.replace(day=1) if start is not None else None
    out = []
    for i, level in enumerate(levels):
        offset = i * months_apart
        bought = _add_months(first, offset) if first else None
        out.append(Tranche(i + 1, offset, level, bought, _add_months(bought, term_months) if bought else None))
    return tuple(out)


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1)


# --------------------------------------------------------------------------------------------------
# 4. Risk
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RiskCase:
    """The recommendation's commitment valued on a profile scaled down by ``drop``.

    Attributes:
        drop: the share by which every hour's usage falls (0.25 = usage is 75% of the profile).
        on_demand_cost: ``Σ s_h × (1 − drop)``.
        total_cost: the same commitment plus the overflow of the lower profile.
        savings: ``on_demand_cost − total_cost``; negative means the commitment now loses money.
        utilization: ``Σ min(s_h × (1 − drop), c) ÷ (c × n)``; None when nothing is bought.
        loses_money: ``savings < 0`` (utilization has fallen below break-even on balance).
    """

    drop: Decimal
    on_demand_cost: Decimal
    total_cost: Decimal
    savings: Decimal
    utilization: Decimal | None
    loses_money: bool


def risk(recommendation: Recommendation, hourly_on_demand: Sequence[Decimal],
         drops: Sequence[Decimal] = (Decimal("0.10"), Decimal("0.25"), Decimal("0.50"))) -> tuple[RiskCase, ...]:
    """Savings at the recommendation's commitment if usage falls by each share in ``drops``.

    The commitment (level and hourly fee) stays as bought; every hour's spend becomes
    ``s_h × (1 − drop)``. Savings fall as usage falls and turn negative once the commitment is used
    too little — each case says so in ``loses_money``.

    >>> week = [Decimal(1000)] * 60 + [Decimal(700)] * 60 + [Decimal(600)] * 48
    >>> r = optimal_spend_commitment(week, Decimal("0.30"))
    >>> [(c.drop, c.savings) for c in risk(r, week, [Decimal("0.5")])]  # 65,400 on demand − 82,320
    [(Decimal('0.5'), Decimal('-16920.00'))]
    """
    profile = _profile(hourly_on_demand)
    if len(profile) != recommendation.hours:
        raise ValueError(f"hourly_on_demand has {len(profile)} hours; the recommendation was computed "
                         f"over {recommendation.hours}")
    c, n = recommendation.coverage_level, len(profile)
    out = []
    for drop in drops:
        if isinstance(drop, float) or not isinstance(drop, (Decimal, int)) or not ZERO <= drop <= ONE:
            raise ValueError(f"drops must be Decimal fractions in [0, 1], not {drop!r}")
        drop = Decimal(drop)
        scaled = [s * (ONE - drop) for s in profile]
        on_demand = sum(scaled, ZERO)
        total = recommendation.commitment_cost + sum((s - c for s in scaled if s > c), ZERO)
        used = sum((min(s, c) for s in scaled), ZERO)
        savings = on_demand - total
        out.append(RiskCase(drop, on_demand, total, savings, used / (c * n) if c > 0 else None, savings < 0))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# 1. The hourly profile from the store
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HourlySpend:
    """Hourly on-demand-equivalent eligible spend over ``[start, end)``.

    Attributes:
        scope: as asked (``"compute"`` or ``"family:<series>@<region>"``).
        basis: the on-demand-equivalent column (``"ListCost"`` or ``"ContractedCost"``).
        start: first hour (UTC, naive, as the store's timestamps).
        end: end of the last hour (exclusive).
        amounts: one Decimal per hour from ``start``, hours with no spend included as 0.
    """

    scope: str
    basis: str
    start: dt.datetime
    end: dt.datetime
    amounts: tuple[Decimal, ...]

    def __len__(self) -> int:
        return len(self.amounts)

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, ZERO)


_BASES = {"ListCost": "coalesce(ListCost, ContractedCost)", "ContractedCost": "coalesce(ContractedCost, ListCost)"}

#: Each row of ``{rows}`` (columns s, e, raw and the ``{keys}`` it is kept by) over the hours it
#: overlaps inside the window [$w_start, $w_end): the hour, raw, the row's length and the microseconds
#: of it before and through the hour, so that Σ (raw * through // dur − raw * before // dur) over a
#: row's hours is raw exactly. Shared by the hourly profile here and ``recommend``'s.
_HOUR_SPREAD_SQL = """\
    SELECT {keys}h.hour, r.raw, epoch_us(r.e) - epoch_us(r.s) AS dur,
           greatest(epoch_us(h.hour) - epoch_us(r.s), 0) AS before_us,
           epoch_us(least(r.e, h.hour + INTERVAL 1 HOUR)) - epoch_us(r.s) AS through_us
    FROM {rows} r,
         LATERAL (SELECT unnest(generate_series(
             date_trunc('hour', greatest(r.s, $w_start)),
             date_trunc('hour', least(r.e, $w_end) - INTERVAL 1 MICROSECOND),
             INTERVAL 1 HOUR)) AS hour) h"""

_HOURLY_SQL = """
WITH eligible AS (
    SELECT ChargePeriodStart AS s,
           -- a zero-length (or inverted) row is an instant: all of it lands in the hour it starts in
           CASE WHEN ChargePeriodEnd > ChargePeriodStart THEN ChargePeriodEnd
                ELSE ChargePeriodStart + INTERVAL 1 MICROSECOND END AS e,
           CAST(trunc({basis}) AS HUGEINT) * {units}
             + CAST(({basis} - trunc({basis})) * {units} AS HUGEINT) AS raw   -- exact, in 1e-12
    FROM charges
    WHERE ChargeCategory = 'Usage'
      AND (PricingCategory = 'Standard' OR CommitmentDiscountStatus = 'Used')
      AND {scope}
      AND ChargePeriodEnd > $w_start AND ChargePeriodStart < $w_end
      AND {basis} IS NOT NULL
),
spread AS (   -- each row over the hours it overlaps inside the window
{spread}
),
parts AS (    -- telescoping shares: Σ over all of a row's hours = raw exactly
    SELECT hour, sum(raw * through_us // dur - raw * before_us // dur) AS raw
    FROM spread GROUP BY hour
),
grid AS (SELECT unnest(generate_series($w_start, $w_end - INTERVAL 1 HOUR, INTERVAL 1 HOUR)) AS hour)
SELECT g.hour, coalesce(p.raw, 0)::HUGEINT AS raw
FROM grid g LEFT JOIN parts p USING (hour)
ORDER BY g.hour
"""


def hourly_eligible_spend(con, *, scope: str = "compute", lookback_days: int = 30,
                          end: dt.datetime | dt.date | None = None,
                          basis: Literal["ListCost", "ContractedCost"] = "ListCost",
                          provider: str | None = None) -> HourlySpend:
    """Hourly on-demand-equivalent spend eligible for a commitment, over the ``lookback_days`` before ``end``.

    Parameters:
        con: a connection to the store (``CostStore(path).reader()``), with its ``charges`` table.
        scope: ``"compute"`` — savings-plan scope: ``ServiceCategory = 'Compute'``; or
            ``"family:<series>@<region>"`` — a reserved-instance family: ``SkuPriceDetails.Series`` and
            ``RegionId`` (e.g. ``"family:m6i@us-east-1"``).
        lookback_days: length of the window in days.
        end: the window's exclusive end (UTC; an aware datetime is converted, a date means its midnight),
            floored to the hour. Default: the latest ``ChargePeriodEnd`` of the eligible rows.
        basis: the on-demand-equivalent column: ``ListCost`` (public on-demand price; default) or
            ``ContractedCost`` (negotiated price, before commitment discounts); the other is used where it
            is null. Measure the commitment's discount against the same basis.
        provider: only this ``ProviderName`` (commitments are bought from one provider).

    Returns:
        :class:`HourlySpend`, one amount per hour of ``[end − lookback_days, end)``, zero-spend hours
        included.

    Notes:
        Eligible rows: ``ChargeCategory = 'Usage'`` priced on demand (``PricingCategory = 'Standard'``)
        plus usage a commitment already covers (``CommitmentDiscountStatus = 'Used'``) at its
        on-demand-equivalent cost — the profile a new purchase would replace. Spot/dynamic usage and
        ``Unused`` commitment rows are not eligible.

        **Spreading.** A row longer than an hour (the daily rows of many exports and of the generated
        sample) is spread evenly over its duration: the hour ``[h, h + 1h)`` gets ``cost × overlap ÷
        duration``. Computed in integers of 1e-12 as the difference of the cumulative shares
        ``⌊cost × through ÷ duration⌋ − ⌊cost × before ÷ duration⌋`` (truncated), so the hours of a row
        add up to its cost exactly, with each hour within 1e-12 of the exact proportional share. A row
        that straddles the window contributes its in-window share. A zero-length row counts whole in the
        hour it starts in. All of this is one SQL statement (range expansion with ``generate_series``);
        only the hourly vector comes back to Python.

    Raises:
        ValueError: an unknown scope or basis, or a non-positive lookback.
    """
    if basis not in _BASES:
        raise ValueError(f"basis must be 'ListCost' or 'ContractedCost', not {basis!r}")
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be ≥ 1, not {lookback_days}")
    scope_sql, params = _scope_sql(scope)
    if provider is not None:
        scope_sql += " AND ProviderName = $provider"
        params["provider"] = provider
    basis_sql = _BASES[basis]
    if end is None:
        latest = con.execute(
            f"""SELECT max(ChargePeriodEnd) FROM charges WHERE ChargeCategory = 'Usage'
                AND (PricingCategory = 'Standard' OR CommitmentDiscountStatus = 'Used') AND {scope_sql}""",
            params).fetchone()[0]
        if latest is None:
            raise ValueError(f"no eligible usage for scope {scope!r} in the store: nothing to recommend from")
        end = latest
    w_end = _hour_floor(end)
    w_start = w_end - dt.timedelta(days=lookback_days)
    sql = _HOURLY_SQL.format(basis=basis_sql, units=_UNITS, scope=scope_sql,
                             spread=_HOUR_SPREAD_SQL.format(keys="", rows="eligible"))
    rows = con.execute(sql, {**params, "w_start": w_start, "w_end": w_end}).fetchall()
    amounts = tuple(Decimal(int(raw)).scaleb(-12) for _, raw in rows)
    return HourlySpend(scope, basis, w_start, w_end, amounts)


def _scope_sql(scope: str) -> tuple[str, dict]:
    if scope == "compute":
        return "ServiceCategory = 'Compute'", {}
    if scope.startswith("family:") and "@" in scope:
        series, _, region = scope[len("family:"):].partition("@")
        if series and region:
            return ("json_extract_string(SkuPriceDetails, '$.Series') = $series AND RegionId = $region",
                    {"series": series, "region": region})
    raise ValueError(f"scope must be 'compute' or 'family:<series>@<region>' (e.g. 'family:m6i@us-east-1'), "
                     f"not {scope!r}")


def _hour_floor(value: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(minute=0, second=0, microsecond=0)
