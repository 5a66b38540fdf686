"""Purchase recommendations per provider and scope, on the usage no commitment covers yet.

Steps of :func:`recommend`, one function each:

1. ``profiles(con, provider, lookback_days)`` — for one provider, over the ``lookback_days`` ending where
   its data ends: hourly **uncovered** on-demand-equivalent compute spend per (family, region), and the
   window's eligible, covered and uncovered totals (one SQL statement; only hourly vectors come back).
2. Family layer — for each (family, region) and each term × payment option of the provider's family
   product, the exact optimal coverage level at that option's discount
   (:func:`~finops_xl.commitments.optimizer.optimal_spend_commitment`); the option with the highest net
   present value of savings is the scope's line.
3. Spend layer — the provider's uncovered hours *after* the family lines (what they would not absorb),
   optimized the same way for its spend product (savings plan, flexible CUD).
4. Roll-up — only lines saving at least ``min_annual_savings`` a year are kept (the rest stays in the
   spend layer's profile), so a buyer reads tens of lines, not one candidate per option and scope.

Definitions (stated once)
-------------------------
Eligible, covered, uncovered
    Eligible: ``ChargeCategory = 'Usage'`` rows of ``ServiceCategory = 'Compute'`` priced on demand
    (``PricingCategory = 'Standard'``) or covered by a commitment (``CommitmentDiscountStatus = 'Used'``),
    at their on-demand equivalent ``coalesce(ListCost, ContractedCost)``. Covered: the Used rows.
    Uncovered: the Standard rows — eligible − covered, exactly (the test checks it to the cent against
    the raw rows). Spot (Dynamic) usage and Unused commitment rows are not eligible. A provider is never
    pooled with another: each provider has its own window, profile and lines.
Window and resolution
    The window ends at the last hour of the provider's eligible data (floored to the hour) and spans
    ``lookback_days`` (7, 30 or 60 are the usual choices), or less when the provider's data starts later
    (hours before its data are not hours of zero use; a note says so). Rows longer than an hour (daily exports) are
    spread evenly over their hours, exactly as ``hourly_eligible_spend`` does; ``resolution`` says
    ``hourly`` when most eligible rows are at most an hour long, else ``daily`` (hour-of-day peaks are
    then not visible in the profile). The purchase **start** is the end of the window: the first day the
    data does not cover yet, never the wall clock.
Money of a line (at the level rounded down to a cent per hour)
    ``hourly_commitment = (1 − d) × level``; ``upfront = share × hourly_commitment × term hours`` (share:
    0, ½ or 1 by payment); ``recurring_hourly`` the rest. ``savings_window`` = on-demand cost of the
    window's profile − (commitment + overflow) over it; ``annual_savings`` = savings per hour × 8,760;
    ``term_savings`` = annual × years. ``npv``: −upfront at the start, then each month (730 h) the
    savings plus the upfront's hourly share, discounted monthly at ``rate`` (annual, compounded as
    ``(1 + rate)^(m/12)``). ``break_even_months``: months until cumulative cash savings reach the upfront
    (0 without an upfront). ``break_even_utilization = 1 − d``.
Utilization percentiles
    Over the window's hours, the hour's utilization ``min(s_h, level) ÷ level``; ``p10``, ``p50``,
    ``p90`` are its nearest-rank percentiles (P10: in 10% of hours the commitment is used this little or
    less).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from finops_xl.commitments import pricing
from finops_xl.commitments.optimizer import (_HOUR_SPREAD_SQL, _UNITS, _hour_floor, _valued,
                                             optimal_spend_commitment)
from finops_xl.money import CENT, ZERO

HOURS_PER_YEAR = 8760
HOURS_PER_MONTH = 730
LOOKBACKS = (7, 30, 60)


@dataclasses.dataclass(frozen=True)
class ScopeProfile:
    """One provider's (family, region) over the window: hourly uncovered spend and the window's totals.

    ``series``/``region`` are None for usage no family commitment can cover (no ``Series``)."""

    provider: str
    currency: str
    series: str | None
    region: str | None
    eligible: Decimal
    covered: Decimal
    uncovered: tuple[Decimal, ...]

    @property
    def uncovered_total(self) -> Decimal:
        return sum(self.uncovered, ZERO)

    @property
    def scope(self) -> str:
        return f"family:{self.series}@{self.region}" if self.series and self.region else "compute"


@dataclasses.dataclass(frozen=True)
class Window:
    provider: str
    start: dt.datetime
    end: dt.datetime
    lookback_days: int
    resolution: str
    profiles: tuple[ScopeProfile, ...]


@dataclasses.dataclass(frozen=True)
class Line:
    """One buyable line (or, in ``Recommendations.candidates``, one option considered). Fields: module notes."""

    provider: str
    currency: str
    product: str
    kind: str
    scope: str
    term_years: int
    payment: str
    discount: Decimal
    start: dt.date
    window_start: dt.datetime
    window_end: dt.datetime
    lookback_days: int
    resolution: str
    eligible: Decimal
    covered: Decimal
    uncovered: Decimal
    optimized_on: Decimal
    coverage_level: Decimal
    hourly_commitment: Decimal
    upfront: Decimal
    recurring_hourly: Decimal
    savings_window: Decimal
    annual_savings: Decimal
    term_savings: Decimal
    npv: Decimal
    break_even_utilization: Decimal
    break_even_months: int | None
    utilization: Decimal | None
    p10: Decimal | None
    p50: Decimal | None
    p90: Decimal | None


@dataclasses.dataclass(frozen=True)
class Recommendations:
    lines: tuple[Line, ...]
    candidates: tuple[Line, ...]
    windows: tuple[Window, ...]
    notes: tuple[str, ...]


_PROFILE_SQL = """
WITH base AS (
    SELECT json_extract_string(SkuPriceDetails, '$.Series') AS series, RegionId AS region,
           BillingCurrency AS currency, coalesce(CommitmentDiscountStatus = 'Used', false) AS covered,
           ChargePeriodStart AS s,
           CASE WHEN ChargePeriodEnd > ChargePeriodStart THEN ChargePeriodEnd
                ELSE ChargePeriodStart + INTERVAL 1 MICROSECOND END AS e,
           CAST(trunc({b}) AS HUGEINT) * {units} + CAST(({b} - trunc({b})) * {units} AS HUGEINT) AS raw
    FROM charges
    WHERE {eligible} AND ProviderName = $provider AND {b} IS NOT NULL
      AND ChargePeriodEnd > $w_start AND ChargePeriodStart < $w_end
),
rows AS (SELECT series, region, currency, covered, s, e, sum(raw) AS raw FROM base GROUP BY ALL),
spread AS (
{spread}
)
SELECT series, region, currency, covered, hour,
       sum(raw * through_us // dur - raw * before_us // dur)::HUGEINT AS raw
FROM spread GROUP BY ALL
"""
_ELIGIBLE = ("ChargeCategory = 'Usage' AND ServiceCategory = 'Compute' "
             "AND (PricingCategory = 'Standard' OR CommitmentDiscountStatus = 'Used')")
_BASIS = "coalesce(ListCost, ContractedCost)"


def profiles(con, provider: str, lookback_days: int = 30) -> Window | None:
    """Step 1 for ``provider`` (see the module notes); None when it has no eligible compute usage."""
    if lookback_days < 1:
        raise ValueError(f"--lookback must be a number of days ≥ 1 (7, 30 or 60), not {lookback_days}")
    ((first, latest),) = con.execute(
        f"SELECT min(ChargePeriodStart), max(ChargePeriodEnd) FROM charges WHERE {_ELIGIBLE} AND ProviderName = $provider",
        {"provider": provider}).fetchall()
    if latest is None:
        return None
    w_end = _hour_floor(latest)
    # never count hours before the provider's data starts as hours of zero use
    w_start = max(w_end - dt.timedelta(days=lookback_days), _hour_floor(first))
    (short, total) = con.execute(
        f"""SELECT count(*) FILTER (WHERE ChargePeriodEnd - ChargePeriodStart <= INTERVAL 1 HOUR), count(*)
            FROM charges WHERE {_ELIGIBLE} AND ProviderName = $provider
              AND ChargePeriodEnd > $w_start AND ChargePeriodStart < $w_end""",
        {"provider": provider, "w_start": w_start, "w_end": w_end}).fetchall()[0]
    resolution = "hourly" if total and short * 2 > total else "daily"
    sql = _PROFILE_SQL.format(b=_BASIS, units=_UNITS, eligible=_ELIGIBLE, spread=_HOUR_SPREAD_SQL.format(
        keys="r.series, r.region, r.currency, r.covered, ", rows="rows"))
    rows = con.execute(sql, {"provider": provider, "w_start": w_start, "w_end": w_end}).fetchall()
    n = int((w_end - w_start).total_seconds()) // 3600
    acc: dict[tuple, dict] = {}
    for series, region, currency, covered, hour, raw in rows:
        if not series or not region:
            series = region = None
        a = acc.setdefault((currency, series, region), {"eligible": 0, "covered": 0, "hours": [0] * n})
        raw = int(raw)
        a["eligible"] += raw
        if covered:
            a["covered"] += raw
        else:
            a["hours"][int((hour - w_start).total_seconds()) // 3600] += raw
    out = tuple(
        ScopeProfile(provider, currency, series, region, _dec(a["eligible"]), _dec(a["covered"]),
                     tuple(_dec(x) for x in a["hours"]))
        for (currency, series, region), a in sorted(acc.items(), key=lambda kv: tuple(str(k) for k in kv[0])))
    return Window(provider, w_start, w_end, lookback_days, resolution, out)


def _dec(raw: int) -> Decimal:
    return Decimal(raw).scaleb(-12)


def _percentile(ordered: Sequence[Decimal], p: int) -> Decimal:
    """Nearest-rank percentile of an ascending sequence."""
    k = max(1, math.ceil(p * len(ordered) / 100))
    return ordered[k - 1]


def value_line(hours: Sequence[Decimal], discount: Decimal, term_years: int, payment: str, *,
               level: Decimal | None = None, rate: Decimal = Decimal("0.08")) -> dict:
    """The money of one option over the profile ``hours`` (module notes), at its optimal level rounded
    down to a cent per hour (or at ``level``)."""
    if level is None:
        level = optimal_spend_commitment(hours, discount).coverage_level
    level = Decimal(level).quantize(CENT, ROUND_DOWN)
    if level <= 0:
        return {}
    rec = _valued(hours, Decimal(discount), level)
    n = rec.hours
    hourly = rec.hourly_commitment
    share = pricing.UPFRONT_SHARE[payment]
    term_hours = HOURS_PER_YEAR * term_years
    upfront = (share * hourly * term_hours).quantize(CENT, ROUND_HALF_EVEN)
    savings_per_hour = rec.savings / n
    annual = savings_per_hour * HOURS_PER_YEAR
    # monthly cash: savings + the part of the commitment prepaid (it is not paid again month by month)
    monthly_cash = (savings_per_hour + share * hourly) * HOURS_PER_MONTH
    months = 12 * term_years
    v = 1 + Decimal(rate)
    npv = -upfront + sum((monthly_cash / v ** (Decimal(m) / 12) for m in range(1, months + 1)), ZERO)
    if upfront == 0:
        be = 0 if monthly_cash > 0 else None
    else:
        be = math.ceil(upfront / monthly_cash) if monthly_cash > 0 else None
        be = be if be is not None and be <= months else None
    util = sorted(min(s, level) / level for s in hours)
    return {"coverage_level": level, "hourly_commitment": hourly, "upfront": upfront,
            "recurring_hourly": (1 - share) * hourly, "savings_window": rec.savings,
            "annual_savings": annual, "term_savings": annual * term_years, "npv": npv,
            "break_even_utilization": rec.break_even_utilization, "break_even_months": be,
            "utilization": rec.utilization, "p10": _percentile(util, 10), "p50": _percentile(util, 50),
            "p90": _percentile(util, 90)}


def _options(hours, product: pricing.Product, window: Window, meta: dict, table, rate) -> list[Line]:
    out = []
    for (term, payment), d in sorted(pricing.discounts(product.provider, product.kind, table).items()):
        money = value_line(hours, d, term, payment, rate=rate)
        if money:
            out.append(Line(provider=product.provider, product=product.name, kind=product.kind, term_years=term,
                            payment=payment, discount=d, start=window.end.date(), window_start=window.start,
                            window_end=window.end, lookback_days=window.lookback_days,
                            resolution=window.resolution, **meta, **money))
    return out


def _best(options: Sequence[Line], terms: Sequence[int] | None) -> Line | None:
    allowed = [o for o in options if terms is None or o.term_years in terms]
    return max(allowed, key=lambda o: (o.npv, -o.upfront)) if allowed else None


def recommend(con, *, provider: str | None = None, lookback_days: int = 30, rate: Decimal = Decimal("0.08"),
              min_annual_savings: Decimal = Decimal(1000), terms: Sequence[int] | None = None,
              table: Mapping | None = None) -> Recommendations:
    """Buyable lines per provider and scope on uncovered compute usage (steps and definitions: module notes).

    Parameters:
      con: a store reader (``CostStore(path).reader()``).
      provider: only this ``ProviderName`` (default: every provider with a commitment product).
      lookback_days: the window (7, 30 or 60 days usually).
      rate: annual discount rate for the NPV that picks the term and payment of each scope.
      min_annual_savings: the smallest annual saving worth a line (the roll-up).
      terms: restrict the terms (``(1,)`` or ``(3,)``); default both.
      table: discounts overriding :data:`~finops_xl.commitments.pricing.TYPICAL_DISCOUNTS`.
    """
    known = sorted({p.provider for p in pricing.PRODUCTS})
    present = [r[0] for r in con.execute("SELECT DISTINCT ProviderName FROM charges ORDER BY 1").fetchall()]
    if provider is not None and provider not in known:
        raise ValueError(f"--provider {provider!r}: commitments can be recommended for {', '.join(known)}"
                         f" (the store's providers: {', '.join(map(str, present))})")
    notes: list[str] = []
    lines: list[Line] = []
    candidates: list[Line] = []
    windows: list[Window] = []
    for name in [provider] if provider else [p for p in known if p in present]:
        window = profiles(con, name, lookback_days)
        if window is None:
            notes.append(f"{name}: no on-demand or covered compute usage in the store")
            continue
        windows.append(window)
        if window.end - window.start < dt.timedelta(days=lookback_days):
            notes.append(f"{name}: the data holds only {(window.end - window.start).days} days before its end, "
                         f"not the {lookback_days} asked for: the lookback is shorter")
        if window.resolution == "daily":
            notes.append(f"{name}: the data has daily rows, spread evenly over their hours (hour-of-day peaks "
                         "and troughs are not visible)")
        fam = next(p for p in pricing.products(name) if p.kind == "family")
        spend = next(p for p in pricing.products(name) if p.kind == "spend")
        for currency in sorted({p.currency for p in window.profiles}):
            scoped = [p for p in window.profiles if p.currency == currency]
            n = len(scoped[0].uncovered)
            residual = [ZERO] * n
            for prof in scoped:
                meta = {"currency": currency, "scope": prof.scope, "eligible": prof.eligible,
                        "covered": prof.covered, "uncovered": prof.uncovered_total,
                        "optimized_on": prof.uncovered_total}
                chosen = None
                if prof.series:
                    opts = _options(prof.uncovered, fam, window, meta, table, rate)
                    candidates.extend(opts)
                    chosen = _best(opts, terms)
                    if chosen is not None and chosen.annual_savings < min_annual_savings:
                        chosen = None
                if chosen is not None:
                    lines.append(chosen)
                    c = chosen.coverage_level
                    residual = [r + max(ZERO, s - c) for r, s in zip(residual, prof.uncovered)]
                else:
                    residual = [r + s for r, s in zip(residual, prof.uncovered)]
            rest = sum(residual, ZERO)
            meta = {"currency": currency, "scope": "compute", "eligible": sum((p.eligible for p in scoped), ZERO),
                    "covered": sum((p.covered for p in scoped), ZERO),
                    "uncovered": sum((p.uncovered_total for p in scoped), ZERO), "optimized_on": rest}
            if rest > 0:
                opts = _options(residual, spend, window, meta, table, rate)
                candidates.extend(opts)
                chosen = _best(opts, terms)
                if chosen is not None and chosen.annual_savings >= min_annual_savings:
                    lines.append(chosen)
    lines.sort(key=lambda x: (x.provider, x.kind != "spend", -x.annual_savings))
    return Recommendations(tuple(lines), tuple(candidates), tuple(windows), tuple(notes))
