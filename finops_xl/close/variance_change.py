"""Why did the month's cost jump: the change against the prior month explained by its drivers,
in figures and in sentences (``variance`` re-exports it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

import duckdb

from finops_xl.close.reconciliation import (
    add_months,
    as_month,
    sql_timestamp,
)
from finops_xl.close.variance_budget import (
    METRICS,
    ZERO,
    _exact,
    _ratio,
)
from finops_xl.money import round_money
from finops_xl.store.sources import sql_identifier, sql_literal

# ---- why did it jump? ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Driver:
    """One named part of a month-over-month change.

    Attributes:
      kind: ``service`` (a service in a sub-account), ``commitment`` (a provider's commitment
        discounts) or ``other`` (everything not named).
      label: the driver in words (e.g. "Amazon Elastic Compute Cloud in acme-ml-research").
      provider, sub_account, service: its key (None where it does not apply).
      previous, current, change: its amounts in the two months, and current − previous.
      new, gone, continuing, no_resource: for ``service`` drivers, the change from resources new
        this month, gone since last month, running in both, and rows without a ResourceId (they add
        up to ``change``).
      top_sku: the SKU (instance type, meter or id) that moved most inside it.
      coverage_previous, coverage_current: for ``commitment`` drivers, the provider's commitment
        coverage in each month (see ChangeExplanation).
    """

    kind: str
    label: str
    previous: Decimal
    current: Decimal
    change: Decimal
    provider: str | None = None
    sub_account: str | None = None
    service: str | None = None
    new: Decimal = ZERO
    gone: Decimal = ZERO
    continuing: Decimal = ZERO
    no_resource: Decimal = ZERO
    top_sku: str | None = None
    coverage_previous: Decimal | None = None
    coverage_current: Decimal | None = None

    def share_of(self, total_change: Decimal) -> Decimal | None:
        return _ratio(self.change, total_change)


@dataclasses.dataclass(frozen=True)
class Breakdown:
    """One value of a single-dimension view of the change (``label`` ``(other)`` for the rest)."""

    label: str
    previous: Decimal
    current: Decimal
    change: Decimal


@dataclasses.dataclass(frozen=True)
class ChangeExplanation:
    """Why cost moved from ``previous_month`` to ``month``.

    Attributes:
      month, previous_month, currency, metric: what was compared.
      previous_total, current_total, change: totals and current − previous.
      drivers: the top drivers and an ``other`` line; Σ change = ``change`` exactly.
      views: dimension (``sub_account``, ``service``, ``sku``, ``resource``, ``pricing``) → top
        values and ``(other)``; each adds up to ``change`` exactly.
      coverage_previous, coverage_current: commitment coverage (ListCost of covered usage ÷ ListCost
        of Standard + Committed usage), None without such usage.
    """

    month: dt.date
    previous_month: dt.date
    currency: str
    metric: str
    previous_total: Decimal
    current_total: Decimal
    drivers: tuple[Driver, ...]
    views: Mapping[str, tuple[Breakdown, ...]]
    coverage_previous: Decimal | None = None
    coverage_current: Decimal | None = None

    @property
    @_exact
    def change(self) -> Decimal:
        return self.current_total - self.previous_total

    @property
    def change_pct(self) -> Decimal | None:
        return _ratio(self.change, self.previous_total)

    def sentences(self) -> tuple[str, ...]:
        return _sentences(self)

    def text(self) -> str:
        return " ".join(self.sentences())


def _within(month: dt.date) -> str:
    """SQL: the row's ChargePeriodStart falls in ``month``."""
    return (f"(ChargePeriodStart >= {sql_timestamp(month)} "
            f"AND ChargePeriodStart < {sql_timestamp(add_months(month, 1))})")


def _sku_label() -> str:
    itype = "json_extract_string(SkuPriceDetails, '$.InstanceType')"
    gpus = "TRY_CAST(json_extract_string(SkuPriceDetails, '$.GpuCount') AS DOUBLE)"
    return (f"coalesce(CASE WHEN {itype} IS NOT NULL THEN {itype} || CASE WHEN {gpus} > 0 "
            f"THEN ' GPU instances' ELSE ' instances' END END, nullif(SkuMeter, ''), nullif(SkuId, ''), "
            f"'(no SKU)')")


@_exact
def explain_change(
    con: duckdb.DuckDBPyConnection,
    month: dt.date | str,
    previous: dt.date | str | None = None,
    *,
    metric: str = "EffectiveCost",
    currency: str | None = None,
    top: int = 5,
) -> ChangeExplanation:
    """Decompose the change of total cost from ``previous`` (default: the month before) to ``month``.

    Parameters:
      con: a store connection (``CostStore.reader()``); reads ``charges`` only.
      month, previous: months (``'YYYY-MM'`` or first days), by ChargePeriodStart.
      metric: ``EffectiveCost`` (amortized, default) or ``BilledCost``.
      currency: billing currency; needed only when the months have several.
      top: how many drivers (and values per view) to name before ``other``.

    Returns a ChangeExplanation whose drivers, and each view, add up to the change exactly.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    if top < 1:
        raise ValueError("top must be at least 1")
    cur_m = as_month(month)
    prev_m = as_month(previous) if previous is not None else add_months(cur_m, -1)
    if prev_m == cur_m:
        raise ValueError("compare two different months")
    first, second = sorted((prev_m, cur_m))
    windows = f"({_within(first)} OR {_within(second)})"
    if currency is None:
        found = [c for (c,) in con.execute(
            f"SELECT DISTINCT BillingCurrency FROM charges WHERE {windows} ORDER BY 1").fetchall()]
        if len(found) > 1:
            raise ValueError(f"these months have charges in {', '.join(found)}: pass currency=...")
        currency = found[0] if found else "USD"
    m = sql_identifier(metric)
    is_cur = _within(cur_m)
    base = f"""
        r AS (
            SELECT {is_cur} AS is_cur, ProviderName AS provider,
                   coalesce(nullif(SubAccountName, ''), nullif(SubAccountId, ''), '(no sub-account)') AS sub_account,
                   coalesce(nullif(ServiceName, ''), '(no service)') AS service,
                   {_sku_label()} AS sku, nullif(ResourceId, '') AS resource,
                   coalesce({m}, 0) AS amount,
                   CASE WHEN CommitmentDiscountStatus IS NOT NULL
                            THEN coalesce({m}, 0) - coalesce(ContractedCost, {m}, 0)
                        WHEN ChargeCategory = 'Purchase' AND nullif(CommitmentDiscountId, '') IS NOT NULL
                            THEN coalesce({m}, 0)
                        ELSE 0 END AS commitment,
                   CASE WHEN ChargeCategory = 'Usage' AND PricingCategory IN ('Standard', 'Committed')
                        THEN coalesce(ListCost, 0) ELSE 0 END AS eligible_list,
                   CASE WHEN CommitmentDiscountStatus = 'Used' THEN coalesce(ListCost, 0) ELSE 0 END AS covered_list
            FROM charges WHERE BillingCurrency = {sql_literal(currency)} AND {windows}
        ),
        res AS (
            SELECT resource, bool_or(NOT is_cur) AS in_prev, bool_or(is_cur) AS in_cur
            FROM r WHERE resource IS NOT NULL GROUP BY resource
        ),
        cells AS (
            SELECT provider, sub_account, service, sku,
                   CASE WHEN r.resource IS NULL THEN 'no resource'
                        WHEN res.in_prev AND res.in_cur THEN 'continuing'
                        WHEN res.in_cur THEN 'new' ELSE 'gone' END AS status,
                   coalesce(sum(amount) FILTER (WHERE NOT is_cur), 0) AS prev,
                   coalesce(sum(amount) FILTER (WHERE is_cur), 0) AS cur,
                   coalesce(sum(commitment) FILTER (WHERE NOT is_cur), 0) AS prev_c,
                   coalesce(sum(commitment) FILTER (WHERE is_cur), 0) AS cur_c
            FROM r LEFT JOIN res USING (resource)
            GROUP BY ALL
        )"""
    totals = con.execute(f"""
        WITH {base}
        SELECT coalesce(sum(amount) FILTER (WHERE NOT is_cur), 0), coalesce(sum(amount) FILTER (WHERE is_cur), 0),
               sum(covered_list) FILTER (WHERE NOT is_cur), sum(eligible_list) FILTER (WHERE NOT is_cur),
               sum(covered_list) FILTER (WHERE is_cur), sum(eligible_list) FILTER (WHERE is_cur)
        FROM r
    """).fetchall()[0]
    prev_total, cur_total = Decimal(totals[0]), Decimal(totals[1])
    cov_prev, cov_cur = _ratio(totals[2], totals[3]), _ratio(totals[4], totals[5])

    # drivers: usage by (provider, sub-account, service) with its status split and top SKU; commitment
    # by provider; ranked by |change|
    found = con.execute(f"""
        WITH {base},
        units AS (
            SELECT 'service' AS kind, provider, sub_account, service,
                   sum(prev - prev_c) AS prev, sum(cur - cur_c) AS cur,
                   sum(cur - cur_c - prev + prev_c) FILTER (WHERE status = 'new') AS new,
                   sum(cur - cur_c - prev + prev_c) FILTER (WHERE status = 'gone') AS gone,
                   sum(cur - cur_c - prev + prev_c) FILTER (WHERE status = 'continuing') AS continuing,
                   sum(cur - cur_c - prev + prev_c) FILTER (WHERE status = 'no resource') AS no_resource
            FROM cells GROUP BY provider, sub_account, service
            UNION ALL
            SELECT 'commitment', provider, NULL, NULL, sum(prev_c), sum(cur_c), NULL, NULL, NULL, NULL
            FROM cells GROUP BY provider
        ),
        coverage AS (
            SELECT provider,
                   sum(covered_list) FILTER (WHERE NOT is_cur) AS covered_prev,
                   sum(eligible_list) FILTER (WHERE NOT is_cur) AS eligible_prev,
                   sum(covered_list) FILTER (WHERE is_cur) AS covered_cur,
                   sum(eligible_list) FILTER (WHERE is_cur) AS eligible_cur
            FROM r GROUP BY provider
        ),
        skus AS (
            SELECT provider, sub_account, service,
                   arg_max(sku, abs(d) ORDER BY sku DESC) AS top_sku
            FROM (SELECT provider, sub_account, service, sku, sum(cur - cur_c - prev + prev_c) AS d
                  FROM cells GROUP BY ALL)
            GROUP BY ALL
        )
        SELECT u.*, s.top_sku, c.covered_prev, c.eligible_prev, c.covered_cur, c.eligible_cur
        FROM units u
        LEFT JOIN skus s ON u.kind = 'service' AND s.provider IS NOT DISTINCT FROM u.provider
                        AND s.sub_account = u.sub_account AND s.service = u.service
        LEFT JOIN coverage c ON u.kind = 'commitment' AND c.provider IS NOT DISTINCT FROM u.provider
        WHERE u.cur - u.prev <> 0
        ORDER BY abs(u.cur - u.prev) DESC, u.kind, u.provider NULLS FIRST, u.sub_account, u.service
        LIMIT {int(top)}
    """).fetchall()
    drivers = []
    for kind, provider, sub, service, p, c, new, gone, cont, nores, sku, *cov in found:
        p, c = Decimal(p), Decimal(c)
        label = (f"{service} in {sub}" if kind == "service"
                 else f"{provider or 'the'} commitment discounts")
        drivers.append(Driver(kind, label, p, c, c - p, provider, sub, service,
                              Decimal(new or 0), Decimal(gone or 0), Decimal(cont or 0),
                              Decimal(nores or 0), sku if kind == "service" else None,
                              _ratio(cov[0], cov[1]), _ratio(cov[2], cov[3])))
    drivers.append(_other(drivers, prev_total, cur_total))

    # single-dimension views, each an exact partition with its own (other)
    views_sql = f"""
        WITH {base},
        dims AS (
            SELECT 'sub_account' AS view, sub_account AS label, prev, cur FROM cells
            UNION ALL SELECT 'service', service, prev, cur FROM cells
            UNION ALL SELECT 'sku', sku, prev, cur FROM cells
            UNION ALL SELECT 'resource', status, prev, cur FROM cells
            UNION ALL SELECT 'pricing', 'commitment discounts', prev_c, cur_c FROM cells
            UNION ALL SELECT 'pricing', 'usage at contracted rates', prev - prev_c, cur - cur_c FROM cells
        ),
        agg AS (SELECT view, label, sum(prev) AS prev, sum(cur) AS cur FROM dims GROUP BY ALL)
        SELECT view, label, prev, cur FROM agg WHERE cur - prev <> 0
        QUALIFY row_number() OVER (PARTITION BY view ORDER BY abs(cur - prev) DESC, label) <= {int(top)}
        ORDER BY view, abs(cur - prev) DESC, label
    """
    views: dict[str, list[Breakdown]] = {v: [] for v in ("sub_account", "service", "sku", "resource", "pricing")}
    for view, label, p, c in con.execute(views_sql).fetchall():
        views[view].append(Breakdown(label, Decimal(p), Decimal(c), Decimal(c) - Decimal(p)))
    for items in views.values():
        rest = _other(items, prev_total, cur_total)
        items.append(Breakdown("(other)", rest.previous, rest.current, rest.change))
    return ChangeExplanation(cur_m, prev_m, currency, metric, prev_total, cur_total, tuple(drivers),
                             {k: tuple(v) for k, v in views.items()}, cov_prev, cov_cur)


def _other(named, prev_total: Decimal, cur_total: Decimal) -> Driver:
    p = prev_total - sum((d.previous for d in named), ZERO)
    c = cur_total - sum((d.current for d in named), ZERO)
    return Driver("other", "everything else", p, c, c - p)


# ---- words ----------------------------------------------------------------------------------------


def _money(amount: Decimal, currency: str, signed: bool = False) -> str:
    """``$42,310`` (whole units from 100 up, cents below), ``1,234 EUR`` for other currencies."""
    x = abs(amount)
    x = round_money(x, currency) if x < 100 else x.quantize(Decimal(1), ROUND_HALF_EVEN)
    digits = f"{x:,f}"
    text = f"${digits}" if currency == "USD" else f"{digits} {currency}"
    sign = "−" if amount < 0 else "+" if signed and amount > 0 else ""
    return sign + text


def _pct(x: Decimal, signed: bool = False) -> str:
    text = f"{abs(x):.0%}"
    return ("−" if x < 0 else "+" if signed and x > 0 else "") + text


def _months(e: ChangeExplanation) -> str:
    a, b = e.previous_month, e.month
    if a.year == b.year:
        return f"from {a:%B} to {b:%B} {b.year}"
    return f"from {a:%B %Y} to {b:%B %Y}"


def _detail(d: Driver, e: ChangeExplanation) -> str:
    """What inside a driver moved, in a few words."""
    if d.kind == "commitment":
        if d.coverage_previous is not None and d.coverage_current is not None:
            return (f"coverage {_pct(d.coverage_previous)} in {e.previous_month:%B} → "
                    f"{_pct(d.coverage_current)} in {e.month:%B}")
        return ""
    parts = []
    if d.top_sku and d.top_sku != "(no SKU)":
        parts.append(d.top_sku)
    status = {"new": d.new, "gone": d.gone, "continuing": d.continuing}
    name, part = max(status.items(), key=lambda kv: abs(kv[1]))
    if d.change and part * d.change > 0 and abs(part) * 2 >= abs(d.change):
        parts.append({"new": "new this month", "gone": f"no longer running after {e.previous_month:%B}",
                      "continuing": ("existing resources used more" if part > 0
                                     else "existing resources used less")}[name])
    return ", ".join(parts)


def _named(d: Driver, e: ChangeExplanation, share: bool = False) -> str:
    detail = _detail(d, e)
    label = d.label
    if d.kind == "commitment":
        label = ("less commitment discount on " if d.change > 0 else "more commitment discount on ") + \
                (d.provider or "commitments")
    amount = _money(d.change, e.currency, True)
    part = _ratio(d.change, e.change) if share else None
    if part is not None and 0 < part <= 1:  # a share of the change reads well only within 0–100%
        amount += f", {_pct(part)}"
    return f"{label} ({amount}{'; ' + detail if detail else ''})"


def _sentences(e: ChangeExplanation) -> tuple[str, ...]:
    cur = e.currency
    change = e.change
    named = [d for d in e.drivers if d.kind != "other"]
    other = next(d for d in e.drivers if d.kind == "other")
    if change == 0:
        out = [f"Cost was unchanged at {_money(e.current_total, cur)} {_months(e)}."]
        if named:
            out.append("Movements that cancel out: " + "; ".join(_named(d, e) for d in named[:3]) + ".")
        return tuple(out)
    verb, noun = ("rose", "rise") if change > 0 else ("fell", "fall")
    pct = f" ({_pct(e.change_pct, True)})" if e.change_pct is not None else ""
    out = [f"Cost {verb} {_money(abs(change), cur)}{pct} {_months(e)}, to {_money(e.current_total, cur)}."]
    if not named:
        return tuple(out)
    first, rest = named[0], named[1:]
    share = _ratio(first.change, change)
    if 0 < share <= 1:
        out.append(f"{_pct(share)} of the {noun} is {_named(first, e)}.")
    elif share > 1:
        out.append(f"Movements inside it are larger than the net {noun}; the largest is {_named(first, e)}.")
    else:
        out.append(f"The largest movement runs against it: {_named(first, e)}.")
    same = [d for d in rest if d.change * change > 0]
    against = [d for d in rest if d.change * change < 0]
    if same:
        shares = 0 < share <= 1  # when the net change is smaller than its parts, shares mislead
        out.append("Next: " + "; ".join(_named(d, e, share=shares) for d in same) + ".")
    if against:
        out.append("Partly offset by " + "; ".join(_named(d, e) for d in against) + ".")
    if other.change:
        out.append(f"Everything else nets to {_money(other.change, cur, True)}.")
    return tuple(out)
